#include "cloud_server/content_library.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"

namespace relay::cloud {
namespace {

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxNameLength = 512;

absl::Status CheckId(absl::string_view what, const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  if (id.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", kMaxIdLength, " characters"));
  }
  return absl::OkStatus();
}

}  // namespace

ContentLibrary::ContentLibrary(CloudStore* store, BlobStore* blobs,
                               DeviceMirror* mirror, const TunnelTokenSigner* signer,
                               const Clock* clock, ContentLimits limits)
    : store_(store),
      blobs_(blobs),
      mirror_(mirror),
      signer_(signer),
      clock_(clock),
      limits_(limits) {}

// --- Documents -----------------------------------------------------------------

absl::Status ContentLibrary::ValidateDocumentMetadata(
    const relay::v1::DocumentMetadata& metadata) {
  if (metadata.name().empty()) {
    return absl::InvalidArgumentError("document name is required");
  }
  if (metadata.name().size() > kMaxNameLength ||
      metadata.content_type().size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "document name and content type must be at most ", kMaxNameLength,
        " characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<relay::v1::Document> ContentLibrary::CommitDocument(
    const std::string& user_id, const relay::v1::DocumentMetadata& metadata,
    BlobWriter& blob, const std::string& sha256_hex) {
  absl::StatusOr<std::vector<StoredDocument>> existing = store_->ListDocuments(user_id);
  if (!existing.ok()) {
    blob.Discard();
    return existing.status();
  }
  int64_t used = 0;
  for (const StoredDocument& d : *existing) used += d.document.size();
  if (used + blob.size() > limits_.max_user_bytes) {
    blob.Discard();
    return absl::ResourceExhaustedError(absl::StrCat(
        "user ", user_id, " stores ", used, " bytes of documents; this one (", blob.size(),
        " bytes) would exceed the quota of ", limits_.max_user_bytes, " bytes"));
  }
  RETURN_IF_ERROR(blob.Commit());
  StoredDocument stored;
  stored.user_id = user_id;
  stored.blob_name = blob.name();
  relay::v1::Document& d = stored.document;
  d.set_document_id(absl::StrCat("doc-", RandomHex(8)));
  d.set_name(metadata.name());
  d.set_content_type(metadata.content_type().empty() ? "application/octet-stream"
                                                     : metadata.content_type());
  d.set_size(blob.size());
  d.set_sha256_hex(sha256_hex);
  d.set_created_unix(absl::ToUnixSeconds(clock_->Now()));
  absl::Status inserted = store_->InsertDocument(stored);
  if (!inserted.ok()) {
    blob.Discard();
    return inserted;
  }
  LogInfo("event=document_stored document=%s user=%s size=%d sha256=%s",
          d.document_id(), user_id, d.size(), d.sha256_hex());
  return d;
}

absl::StatusOr<std::vector<relay::v1::Document>> ContentLibrary::ListDocuments(
    const std::string& user_id) {
  ASSIGN_OR_RETURN(std::vector<StoredDocument> stored, store_->ListDocuments(user_id));
  std::vector<relay::v1::Document> documents;
  for (StoredDocument& s : stored) documents.push_back(std::move(s.document));
  return documents;
}

// --- Scans -------------------------------------------------------------------

absl::StatusOr<std::string> ContentLibrary::AuthorizeUpload(
    const relay::v1::AuthorizeUploadRequest& request) {
  RETURN_IF_ERROR(CheckId("scan_id", request.scan_id()));
  RETURN_IF_ERROR(CheckId("gateway_id", request.gateway_id()));
  RETURN_IF_ERROR(CheckId("device_id", request.device_id()));
  RETURN_IF_ERROR(CheckId("user_id", request.user_id()));
  if (request.size() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scan ", request.scan_id(), " has size ", request.size(), "; it must be > 0"));
  }
  if (request.size() > limits_.max_scan_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("scan ", request.scan_id(), " of ", request.size(),
                     " bytes exceeds the limit of ", limits_.max_scan_bytes, " bytes"));
  }
  RETURN_IF_ERROR(mirror_->CheckDeviceOfGateway(request.gateway_id(), request.device_id()));
  // The user comes from the device's panel (the LAN): a scan is stored only
  // for a user allowed on that gateway, never dropped into any account.
  RETURN_IF_ERROR(mirror_->CheckUserGateway(request.user_id(), request.gateway_id()));
  TunnelClaims claims;
  claims.direction = relay::v1::DIRECTION_SCAN;
  claims.access_id = request.scan_id();
  claims.gateway_id = request.gateway_id();
  claims.device_id = request.device_id();
  claims.user_id = request.user_id();
  claims.size = request.size();
  LogInfo("event=upload_authorized job=%s gateway=%s device=%s user=%s size=%d",
          request.scan_id(), request.gateway_id(), request.device_id(),
          request.user_id(), request.size());
  return signer_->Issue(claims);
}

absl::StatusOr<std::optional<StoredScan>> ContentLibrary::AcceptScanTunnel(
    const TunnelClaims& claims) {
  absl::Status consumed =
      store_->ConsumeTokenNonce(claims.nonce, claims.expires, clock_->Now());
  if (consumed.code() == absl::StatusCode::kAlreadyExists) {
    return absl::PermissionDeniedError(absl::StrCat(
        "tunnel token for scan ", claims.access_id,
        " was already used; ask for a new one (RequestUpload)"));
  }
  RETURN_IF_ERROR(consumed);
  absl::StatusOr<StoredScan> existing = store_->FindScan(claims.access_id);
  if (existing.ok()) return std::optional<StoredScan>(*std::move(existing));
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  return std::optional<StoredScan>();
}

absl::StatusOr<std::string> ContentLibrary::CommitScan(const TunnelClaims& claims,
                                                       const std::string& content_type,
                                                       BlobWriter& blob,
                                                       const std::string& sha256_hex) {
  RETURN_IF_ERROR(blob.Commit());
  StoredScan stored;
  stored.user_id = claims.user_id;
  stored.blob_name = blob.name();
  relay::v1::Scan& s = stored.scan;
  s.set_scan_id(claims.access_id);
  s.set_device_id(claims.device_id);
  s.set_gateway_id(claims.gateway_id);
  s.set_size(blob.size());
  s.set_sha256_hex(sha256_hex);
  s.set_content_type(content_type.empty() ? "application/octet-stream" : content_type);
  s.set_created_unix(absl::ToUnixSeconds(clock_->Now()));
  absl::Status inserted = store_->InsertScan(stored);
  if (inserted.code() == absl::StatusCode::kAlreadyExists) {
    blob.Discard();
    LogInfo("event=scan_duplicate job=%s gateway=%s device=%s", claims.access_id,
            claims.gateway_id, claims.device_id);
    return claims.access_id;
  }
  if (!inserted.ok()) {
    blob.Discard();
    return inserted;
  }
  LogInfo("event=scan_stored job=%s gateway=%s device=%s user=%s size=%d sha256=%s",
          s.scan_id(), s.gateway_id(), s.device_id(), claims.user_id, s.size(),
          s.sha256_hex());
  return s.scan_id();
}

absl::StatusOr<std::vector<relay::v1::Scan>> ContentLibrary::ListScans(
    const std::string& user_id) {
  ASSIGN_OR_RETURN(std::vector<StoredScan> stored, store_->ListScans(user_id));
  std::vector<relay::v1::Scan> scans;
  for (StoredScan& s : stored) scans.push_back(std::move(s.scan));
  return scans;
}

absl::StatusOr<std::pair<relay::v1::Scan, std::unique_ptr<BlobReader>>>
ContentLibrary::OpenScan(const std::string& user_id, const std::string& scan_id) {
  RETURN_IF_ERROR(CheckId("scan_id", scan_id));
  absl::StatusOr<StoredScan> scan = store_->FindScan(scan_id);
  if ((scan.ok() && scan->user_id != user_id) ||
      scan.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("scan ", scan_id, " not found"));
  }
  RETURN_IF_ERROR(scan.status());
  ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, blobs_->OpenReader(scan->blob_name));
  return std::make_pair(scan->scan, std::move(reader));
}

}  // namespace relay::cloud
