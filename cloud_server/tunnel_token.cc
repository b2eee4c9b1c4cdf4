#include "cloud_server/tunnel_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/sha256.h"

namespace relay::cloud {
namespace {

constexpr char kVersion[] = "rt1";
// Separates the claims in the signed payload; ids never contain it (checked
// at issue time, and a forged payload would fail the signature anyway).
constexpr char kSep = '\x1f';
constexpr int kFieldCount = 9;

absl::Status Mismatch(absl::string_view what, absl::string_view token_value,
                      absl::string_view tunnel_value) {
  return absl::PermissionDeniedError(
      absl::StrCat("tunnel token is bound to ", what, " '", token_value,
                   "', but the tunnel is for ", what, " '", tunnel_value, "'"));
}

}  // namespace

TunnelTokenSigner::TunnelTokenSigner(std::string key, const Clock* clock,
                                     absl::Duration ttl)
    : key_(std::move(key)), clock_(clock), ttl_(ttl) {}

absl::StatusOr<std::string> TunnelTokenSigner::LoadOrCreateKeyFile(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string key(kMinKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), kMinKeyBytes) != 1) {
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError("cannot generate a random token key");
    }
    bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(path.c_str());
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write token key file ", path, ": ", std::strerror(errno)));
    }
    LogInfo("event=token_key_created path=%s", path);
    return key;
  }
  if (errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create token key file ", path, ": ", std::strerror(errno),
                     " (check --token_key_file and that its directory exists)"));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    LogWarning("event=token_key_permissions path=%s mode=%o hint=\"chmod 600 it\"",
               path, st.st_mode & 0777);
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read token key file ", path));
  }
  std::string key = buffer.str();
  if (static_cast<int>(key.size()) < kMinKeyBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "token key file ", path, " holds ", key.size(), " bytes; it needs at least ",
        kMinKeyBytes, " random bytes (delete it to have a new one generated)"));
  }
  return key;
}

std::string TunnelTokenSigner::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac,
       &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string TunnelTokenSigner::Issue(TunnelClaims claims) const {
  claims.expires = clock_->Now() + ttl_;
  claims.nonce = RandomHex(16);
  auto clean = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), kSep), s.end());
    return s;
  };
  std::vector<std::string> fields = {
      kVersion,
      absl::StrCat(static_cast<int>(claims.direction)),
      clean(claims.access_id),
      clean(claims.gateway_id),
      clean(claims.device_id),
      clean(claims.user_id),
      absl::StrCat(claims.size),
      absl::StrCat(absl::ToUnixSeconds(claims.expires)),
      claims.nonce};
  std::string payload = absl::StrJoin(fields, std::string(1, kSep));
  return absl::StrCat(absl::WebSafeBase64Escape(payload), ".",
                      absl::WebSafeBase64Escape(Sign(payload)));
}

absl::StatusOr<TunnelClaims> TunnelTokenSigner::Verify(
    const std::string& token, const TunnelClaims& expected) const {
  if (token.empty()) return absl::UnauthenticatedError("tunnel token is missing");
  if (token.size() > kMaxTokenBytes) {
    return absl::UnauthenticatedError("tunnel token is too long");
  }
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string payload;
  std::string mac;
  if (parts.size() != 2 || !absl::WebSafeBase64Unescape(parts[0], &payload) ||
      !absl::WebSafeBase64Unescape(parts[1], &mac)) {
    return absl::UnauthenticatedError("tunnel token is malformed");
  }
  std::string want = Sign(payload);
  if (mac.size() != want.size() ||
      CRYPTO_memcmp(mac.data(), want.data(), want.size()) != 0) {
    return absl::UnauthenticatedError(
        "tunnel token signature is invalid (forged, or signed with another key)");
  }
  std::vector<std::string> f = absl::StrSplit(payload, kSep);
  int direction = 0;
  int64_t expires = 0;
  TunnelClaims claims;
  if (f.size() != kFieldCount || f[0] != kVersion || !absl::SimpleAtoi(f[1], &direction) ||
      !absl::SimpleAtoi(f[6], &claims.size) || !absl::SimpleAtoi(f[7], &expires) ||
      !relay::v1::Direction_IsValid(direction)) {
    return absl::UnauthenticatedError("tunnel token has an unknown format");
  }
  claims.direction = static_cast<relay::v1::Direction>(direction);
  claims.access_id = f[2];
  claims.gateway_id = f[3];
  claims.device_id = f[4];
  claims.user_id = f[5];
  claims.expires = absl::FromUnixSeconds(expires);
  claims.nonce = f[8];

  absl::Time now = clock_->Now();
  if (now >= claims.expires) {
    return absl::UnauthenticatedError(absl::StrCat(
        "tunnel token expired ", absl::FormatDuration(now - claims.expires),
        " ago (", absl::FormatTime(claims.expires, absl::UTCTimeZone()), ")"));
  }
  if (claims.direction != expected.direction) {
    return Mismatch("direction", relay::v1::Direction_Name(claims.direction),
                    relay::v1::Direction_Name(expected.direction));
  }
  absl::string_view kind =
      claims.direction == relay::v1::DIRECTION_SCAN ? "scan" : "job";
  if (claims.access_id != expected.access_id) {
    return Mismatch(kind, claims.access_id, expected.access_id);
  }
  if (claims.gateway_id != expected.gateway_id) {
    return Mismatch("gateway", claims.gateway_id, expected.gateway_id);
  }
  if (claims.device_id != expected.device_id) {
    return Mismatch("device", claims.device_id, expected.device_id);
  }
  if (!expected.user_id.empty() && claims.user_id != expected.user_id) {
    return Mismatch("user", claims.user_id, expected.user_id);
  }
  if (expected.size != 0 && claims.size != expected.size) {
    return Mismatch("size", absl::StrCat(claims.size), absl::StrCat(expected.size));
  }
  return claims;
}

}  // namespace relay::cloud
