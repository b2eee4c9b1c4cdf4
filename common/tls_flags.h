#ifndef RELAY_COMMON_TLS_FLAGS_H_
#define RELAY_COMMON_TLS_FLAGS_H_

// The TLS flags every service and client of the relay shares:
//   --tls_dir=DIR  (default ./demo-data/certs: ca.pem, <identity>.pem/.key
//                   as tools/make_dev_certs.sh writes them)
//   --insecure     plaintext, for development only (logs a warning)
// A binary that calls TlsFromFlags gets both flags (they are defined in
// tls_flags.cc, which the linker pulls in with the function).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls_config.h"

namespace relay {

// Loads the credentials of `identity` ("mgmt", "cloud", "gateway-<id>", or ""
// for a client without a certificate) from --tls_dir, or returns
// TlsConfig::Insecure() under --insecure after logging a warning.
absl::StatusOr<std::shared_ptr<const TlsConfig>> TlsFromFlags(const std::string& identity);

// The value of --tls_dir.
std::string TlsDirFlag();

}  // namespace relay

#endif  // RELAY_COMMON_TLS_FLAGS_H_
