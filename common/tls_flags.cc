#include "common/tls_flags.h"

#include "absl/flags/flag.h"
#include "common/logging.h"

ABSL_FLAG(std::string, tls_dir, "./demo-data/certs",
          "directory of the TLS files: ca.pem (the CA every peer must be signed by) and "
          "this process's certificate and key (mgmt.pem/key, cloud.pem/key, "
          "gateway-<id>.pem/key), as tools/make_dev_certs.sh writes them");
ABSL_FLAG(bool, insecure, false,
          "plaintext: no TLS, no certificates, identities taken from requests. For "
          "development only; logs a warning");

namespace relay {

std::string TlsDirFlag() { return absl::GetFlag(FLAGS_tls_dir); }

absl::StatusOr<std::shared_ptr<const TlsConfig>> TlsFromFlags(const std::string& identity) {
  if (absl::GetFlag(FLAGS_insecure)) {
    LogWarning("event=insecure_mode detail=\"--insecure: plaintext gRPC, no certificates, "
               "peer identities are not checked; never use this outside a development "
               "machine\"");
    return TlsConfig::Insecure();
  }
  return TlsConfig::Load(absl::GetFlag(FLAGS_tls_dir), identity);
}

}  // namespace relay
