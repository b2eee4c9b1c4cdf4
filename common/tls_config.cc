#include "common/tls_config.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"

namespace relay {
namespace {

constexpr size_t kMaxIdentityBytes = 128;

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read ", what, " ", path,
        " (create the development CA and certificates with tools/make_dev_certs.sh, "
        "point --tls_dir at them, or run with --insecure for plaintext)"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string pem = buffer.str();
  if (pem.size() > 1024 * 1024 || !absl::StrContains(pem, "-----BEGIN ")) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a PEM file"));
  }
  return pem;
}

bool IdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
         c == '.';
}

absl::Time Asn1ToTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

// Fills gateway_id / service from a URI; ambiguity (two identities) is an error.
absl::Status AddUri(absl::string_view uri, std::string* gateway_id, std::string* service) {
  if (absl::StartsWith(uri, kGatewayUriPrefix)) {
    absl::StatusOr<std::string> id = ParseGatewayUri(uri);
    if (!id.ok()) return id.status();
    if (!gateway_id->empty() && *gateway_id != *id) {
      return absl::PermissionDeniedError("certificate names more than one gateway");
    }
    *gateway_id = *id;
  } else if (absl::StartsWith(uri, kServiceUriPrefix)) {
    absl::string_view name = uri.substr(kServiceUriPrefix.size());
    if (name != kMgmtService && name != kCloudService) {
      return absl::InvalidArgumentError(absl::StrCat("unknown service URI ", uri));
    }
    if (!service->empty() && *service != name) {
      return absl::PermissionDeniedError("certificate names more than one service");
    }
    *service = std::string(name);
  }
  return absl::OkStatus();
}

}  // namespace

std::shared_ptr<const TlsConfig> TlsConfig::Insecure() {
  static const auto* insecure = new std::shared_ptr<const TlsConfig>(new TlsConfig());
  return *insecure;
}

absl::StatusOr<std::shared_ptr<const TlsConfig>> TlsConfig::Load(
    const std::string& dir, const std::string& identity) {
  std::shared_ptr<TlsConfig> config(new TlsConfig());
  config->insecure_ = false;
  config->dir_ = dir;
  absl::StatusOr<std::string> ca = ReadPem(dir + "/ca.pem", "CA certificate");
  if (!ca.ok()) return ca.status();
  config->ca_pem_ = *std::move(ca);
  if (!identity.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPem(absl::StrCat(dir, "/", identity, ".pem"), "certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPem(absl::StrCat(dir, "/", identity, ".key"), "private key");
    if (!key.ok()) return key.status();
    absl::StatusOr<CertificateInfo> info = InspectCertificate(*cert);
    if (!info.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "certificate ", dir, "/", identity, ".pem: ", info.status().message()));
    }
    if (absl::Now() >= info->not_after) {
      return absl::FailedPreconditionError(absl::StrCat(
          "certificate ", dir, "/", identity, ".pem expired on ",
          absl::FormatTime("%Y-%m-%d", info->not_after, absl::UTCTimeZone()),
          "; issue a new one (tools/make_dev_certs.sh, SECURITY.md: rotating keys)"));
    }
    config->cert_pem_ = *std::move(cert);
    config->key_pem_ = *std::move(key);
  }
  return std::shared_ptr<const TlsConfig>(std::move(config));
}

std::shared_ptr<grpc::ChannelCredentials> TlsConfig::ChannelCredentials() const {
  if (insecure_) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem_;
  options.pem_private_key = key_pem_;
  options.pem_cert_chain = cert_pem_;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> TlsConfig::ServerCredentials(
    ClientCertPolicy policy) const {
  if (insecure_) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      policy == ClientCertPolicy::kRequire
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ca_pem_;
  options.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::string> ParseGatewayUri(absl::string_view uri) {
  if (!absl::StartsWith(uri, kGatewayUriPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", kGatewayUriPrefix, " URI"));
  }
  absl::string_view id = uri.substr(kGatewayUriPrefix.size());
  if (id.empty() || id.size() > kMaxIdentityBytes) {
    return absl::InvalidArgumentError("gateway URI has an empty or overlong id");
  }
  for (char c : id) {
    if (!IdChar(c)) {
      return absl::InvalidArgumentError(
          "gateway URI id has characters outside [A-Za-z0-9._-]");
    }
  }
  return std::string(id);
}

absl::StatusOr<CertificateInfo> InspectCertificate(absl::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("out of memory");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  CertificateInfo info;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                sizeof(cn)) > 0) {
    info.common_name = cn;
  }
  info.not_before = Asn1ToTime(X509_get0_notBefore(cert));
  info.not_after = Asn1ToTime(X509_get0_notAfter(cert));
  absl::Status status;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* s = name->d.uniformResourceIdentifier;
      std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      ASN1_STRING_length(s));
      info.uris.push_back(uri);
      if (status.ok()) status = AddUri(uri, &info.gateway_id, &info.service);
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  if (!status.ok()) return status;
  return info;
}

std::string PeerIdentity::Describe() const {
  if (!authenticated) return "no certificate";
  if (!gateway_id.empty()) return absl::StrCat("gateway ", gateway_id);
  if (!service.empty()) return absl::StrCat("service ", service);
  return "a certificate without a relay identity";
}

PeerIdentity PeerIdentityOf(const grpc::ServerContextBase& context) {
  PeerIdentity peer;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return peer;
  std::string gateway_id;
  std::string service;
  absl::Status status;
  // gRPC lists every subjectAltName (DNS, URI, IP) under this property.
  for (const char* property : {"x509_subject_alternative_name", "x509_uri"}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      absl::string_view uri(value.data(), value.size());
      if (status.ok()) status = AddUri(uri, &gateway_id, &service);
    }
  }
  // A certificate with a malformed or ambiguous identity carries none.
  peer.authenticated = true;
  if (status.ok() && (gateway_id.empty() || service.empty())) {
    peer.gateway_id = std::move(gateway_id);
    peer.service = std::move(service);
  }
  return peer;
}

absl::Status CheckGatewayPeer(const PeerIdentity& peer, bool tls,
                              absl::string_view claimed_gateway_id) {
  if (!tls) return absl::OkStatus();
  if (peer.gateway_id.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "a gateway certificate (subjectAltName ", kGatewayUriPrefix,
        "<id>, signed by the relay CA) is required; the caller presented ",
        peer.Describe()));
  }
  if (peer.gateway_id != claimed_gateway_id) {
    return absl::PermissionDeniedError(absl::StrCat("certificate says ", peer.gateway_id,
                                                    ", request says ",
                                                    claimed_gateway_id));
  }
  return absl::OkStatus();
}

absl::Status CheckServicePeer(const PeerIdentity& peer, bool tls,
                              absl::string_view service) {
  if (!tls) return absl::OkStatus();
  if (peer.service != service) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only the ", service, " service (certificate ", kServiceUriPrefix, service,
        ") may call this; the caller presented ", peer.Describe()));
  }
  return absl::OkStatus();
}

}  // namespace relay
