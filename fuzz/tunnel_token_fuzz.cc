// Fuzz target: tunnel token parsing and verification (cloud_server/
// tunnel_token.h). Whatever the bytes, Verify must refuse them cleanly, and
// tokens issued for fuzzed claims must verify against exactly those claims.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "cloud_server/tunnel_token.h"
#include "common/testing/fake_clock.h"
#include "relay/v1/common.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static relay::testing::FakeClock* clock = new relay::testing::FakeClock();
  static const relay::cloud::TunnelTokenSigner* signer =
      new relay::cloud::TunnelTokenSigner(std::string(32, 'k'), clock, absl::Minutes(5));
  std::string input(reinterpret_cast<const char*>(data), size);
  relay::cloud::TunnelClaims expected;
  expected.direction = relay::v1::DIRECTION_PRINT;
  expected.access_id = "job-1";
  expected.gateway_id = "gw-1";
  expected.device_id = "mfp-1";
  auto verified = signer->Verify(input, expected);
  if (verified.ok()) std::abort();  // Without the key, no input is a valid token.

  // Round trip with claims cut from the input. Ids are at most 256 bytes
  // (request_validation.h, content_library.cc) before a token is issued; with
  // longer ones the token can exceed kMaxTokenBytes (found by this target).
  if (size > 3 * 256) return 0;
  relay::cloud::TunnelClaims claims;
  claims.direction = size % 2 == 0 ? relay::v1::DIRECTION_PRINT : relay::v1::DIRECTION_SCAN;
  size_t third = size / 3;
  claims.access_id = input.substr(0, third);
  claims.gateway_id = input.substr(third, third);
  claims.device_id = input.substr(2 * third);
  claims.size = static_cast<int64_t>(size);
  std::string token = signer->Issue(claims);
  auto back = signer->Verify(token, claims);
  bool has_separator = input.find('\x1f') != std::string::npos;
  if (back.ok() == has_separator) {
    // Ids with the separator are mangled at issue, so they must not verify;
    // every other id must.
    std::abort();
  }
  if (back.ok() && (back->access_id != claims.access_id ||
                    back->gateway_id != claims.gateway_id ||
                    back->device_id != claims.device_id)) {
    std::abort();
  }
  return 0;
}
