#ifndef RELAY_COMMON_TLS_CONFIG_H_
#define RELAY_COMMON_TLS_CONFIG_H_

// TLS for every link between the relay's services (SECURITY.md): one place
// that loads the PEM files tools/make_dev_certs.sh writes, builds gRPC
// credentials from them, and reads who the peer of a call is.
//
//   ASSIGN_OR_RETURN(auto tls, TlsConfig::Load("./demo-data/certs", "mgmt"));
//   ServerOptions server;  server.tls = tls;            // common/grpc_util.h
//   ChannelOptions channel; channel.tls = tls;
//   ...
//   PeerIdentity peer = PeerIdentityOf(*context);      // in a handler
//   if (peer.gateway_id != request.gateway_id()) ...
//
// Identities live in the certificates' subjectAltName URIs:
//   relay-gateway://<gateway id>   a gateway's client certificate
//   relay-service://mgmt|cloud     the two services' certificates

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/server_callback.h"

namespace relay {

inline constexpr absl::string_view kGatewayUriPrefix = "relay-gateway://";
inline constexpr absl::string_view kServiceUriPrefix = "relay-service://";
inline constexpr absl::string_view kMgmtService = "mgmt";
inline constexpr absl::string_view kCloudService = "cloud";

// What a server asks of the clients' certificates.
enum class ClientCertPolicy {
  // Mutual TLS: no certificate signed by our CA, no connection (mgmt_server).
  kRequire,
  // A certificate is optional but, if sent, must be signed by our CA; each
  // service then decides (cloud_server: relayctl has none, gateways and the
  // management server have one).
  kOptional,
};

// The credentials of one process: the CA that signs every peer, and this
// process's own certificate and key (none for a pure client like relayctl).
// Immutable; shared by every channel and server of the process.
class TlsConfig {
 public:
  // Plaintext (--insecure): credentials are the insecure ones.
  static std::shared_ptr<const TlsConfig> Insecure();

  // Loads <dir>/ca.pem and, if `identity` is not empty, <dir>/<identity>.pem
  // and <dir>/<identity>.key (e.g. "mgmt", "cloud", "gateway-gw-1"). Fails
  // with a message naming the missing or unreadable file and how to make it.
  static absl::StatusOr<std::shared_ptr<const TlsConfig>> Load(const std::string& dir,
                                                               const std::string& identity);

  bool insecure() const { return insecure_; }
  const std::string& dir() const { return dir_; }
  // PEM of this process's certificate ("" for none / insecure).
  const std::string& cert_pem() const { return cert_pem_; }

  std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() const;
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(ClientCertPolicy policy) const;

 private:
  TlsConfig() = default;
  bool insecure_ = true;
  std::string dir_;
  std::string ca_pem_;
  std::string cert_pem_;
  std::string key_pem_;
};

// What a certificate says about its holder (parsed with OpenSSL).
struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> uris;  // subjectAltName URIs
  absl::Time not_before;
  absl::Time not_after;
  // From the URIs: "gw-1" for relay-gateway://gw-1, "mgmt" for
  // relay-service://mgmt; empty if absent.
  std::string gateway_id;
  std::string service;
};
absl::StatusOr<CertificateInfo> InspectCertificate(absl::string_view pem);

// The gateway id of a "relay-gateway://<id>" URI; INVALID_ARGUMENT for
// anything else (other scheme, empty id, path, characters outside
// [A-Za-z0-9._-], longer than 128).
absl::StatusOr<std::string> ParseGatewayUri(absl::string_view uri);

// Who is at the other end of a server call, from its verified client
// certificate. `authenticated` is false without TLS or without a client
// certificate; then the ids are empty.
struct PeerIdentity {
  bool authenticated = false;
  std::string gateway_id;  // from relay-gateway://<id>
  std::string service;     // from relay-service://<name>
  // For logs: "gateway gw-1", "service mgmt", "certificate CN=x", "no certificate".
  std::string Describe() const;
};
PeerIdentity PeerIdentityOf(const grpc::ServerContextBase& context);

// How a server treats identities: with TLS they come from the certificate;
// with --insecure there is none, and the ids requests carry are believed
// (development only; the process logged a warning at start).
//
// OK if the caller may act as gateway `claimed_gateway_id`: with TLS, its
// certificate must name exactly that gateway (PERMISSION_DENIED "certificate
// says gw-a, request says gw-b"; UNAUTHENTICATED without a gateway
// certificate).
absl::Status CheckGatewayPeer(const PeerIdentity& peer, bool tls,
                              absl::string_view claimed_gateway_id);
// OK if the caller is the service `service` (its certificate says
// relay-service://<service>); PERMISSION_DENIED otherwise. Always OK without
// TLS.
absl::Status CheckServicePeer(const PeerIdentity& peer, bool tls, absl::string_view service);

}  // namespace relay

#endif  // RELAY_COMMON_TLS_CONFIG_H_
