#ifndef RELAY_CLOUD_SERVER_TUNNEL_TOKEN_H_
#define RELAY_CLOUD_SERVER_TUNNEL_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "relay/v1/common.pb.h"

namespace relay::cloud {

// What a tunnel token allows: one access (a print job or a scan upload) by one
// gateway for one device, until `expires`.
struct TunnelClaims {
  relay::v1::Direction direction = relay::v1::DIRECTION_UNSPECIFIED;
  // Print: the job id. Scan: the scan id.
  std::string access_id;
  std::string gateway_id;
  std::string device_id;
  // Scan: the user the scan is stored for.
  std::string user_id;
  // Scan: the announced size in bytes (0 for print).
  int64_t size = 0;
  absl::Time expires;
  // Random; a token is accepted once (the service records used nonces).
  std::string nonce;
};

// Issues and verifies tunnel tokens: HMAC-SHA256 over the claims, base64url.
// The management server and the gateway only pass tokens along; the cloud
// server alone can issue and check them.
//
//   TunnelTokenSigner signer(key, SystemClock::Get(), absl::Minutes(5));
//   std::string token = signer.Issue({DIRECTION_PRINT, job_id, gw, dev});
//   ASSIGN_OR_RETURN(TunnelClaims c, signer.Verify(token, expected));
//
// Verify() errors: UNAUTHENTICATED for a malformed, forged or expired token;
// PERMISSION_DENIED for a token bound to another job, scan, gateway, device,
// direction, user or size. Single use is enforced by the caller with
// CloudStore::ConsumeTokenNonce.
class TunnelTokenSigner {
 public:
  // `key` must hold at least kMinKeyBytes random bytes.
  TunnelTokenSigner(std::string key, const Clock* clock, absl::Duration ttl);

  static constexpr int kMinKeyBytes = 32;
  // Longer tokens are refused before any parsing (ours are ~250 bytes).
  static constexpr size_t kMaxTokenBytes = 2048;

  // Reads the key file, or creates it with kMinKeyBytes random bytes (mode
  // 0600) if it does not exist. Fails with a message that says what to fix.
  static absl::StatusOr<std::string> LoadOrCreateKeyFile(const std::string& path);

  // Fills in `expires` (now + ttl) and a fresh `nonce`, then signs.
  std::string Issue(TunnelClaims claims) const;
  // Checks the signature, the expiry and that the token is bound to
  // `expected` (every field of `expected` except expires/nonce; empty
  // user_id / zero size in `expected` are not checked).
  absl::StatusOr<TunnelClaims> Verify(const std::string& token,
                                      const TunnelClaims& expected) const;

  absl::Duration ttl() const { return ttl_; }

 private:
  std::string Sign(const std::string& payload) const;

  std::string key_;
  const Clock* clock_;
  absl::Duration ttl_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_TUNNEL_TOKEN_H_
