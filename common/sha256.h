#ifndef RELAY_COMMON_SHA256_H_
#define RELAY_COMMON_SHA256_H_

#include <openssl/evp.h>

#include <string>

#include "absl/strings/string_view.h"

namespace relay {

// Incremental SHA-256, so streamed bytes are checksummed without buffering:
//   Sha256 hash; hash.Update(chunk1); hash.Update(chunk2);
//   std::string hex = hash.FinishHex();
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lowercase hex digest. The object must not be updated afterwards.
  std::string FinishHex();

  static std::string HexOf(absl::string_view data);

 private:
  EVP_MD_CTX* ctx_;
};

// `bytes` random bytes from OpenSSL's CSPRNG, hex-encoded.
std::string RandomHex(int bytes);

}  // namespace relay

#endif  // RELAY_COMMON_SHA256_H_
