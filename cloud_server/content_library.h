#ifndef RELAY_CLOUD_SERVER_CONTENT_LIBRARY_H_
#define RELAY_CLOUD_SERVER_CONTENT_LIBRARY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cloud_server/blob_store.h"
#include "cloud_server/cloud_store.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/tunnel_token.h"
#include "common/clock.h"
#include "relay/v1/cloud.pb.h"

namespace relay::cloud {

struct ContentLimits {
  int64_t max_document_bytes = int64_t{2} << 30;
  int64_t max_scan_bytes = int64_t{2} << 30;
  // All of one user's documents together (a tenant cannot fill the disk).
  int64_t max_user_bytes = int64_t{20} << 30;
};

// The users' documents and scans: validation, durable commit (blob first,
// then row) and scan-upload authorization. Methods that commit or read the
// store block: call them from an executor.
class ContentLibrary {
 public:
  ContentLibrary(CloudStore* store, BlobStore* blobs, DeviceMirror* mirror,
                 const TunnelTokenSigner* signer, const Clock* clock,
                 ContentLimits limits);

  const ContentLimits& limits() const { return limits_; }
  absl::StatusOr<std::unique_ptr<BlobWriter>> NewBlob() { return blobs_->NewWriter(); }

  // --- Documents -----------------------------------------------------------
  absl::Status ValidateDocumentMetadata(const relay::v1::DocumentMetadata& metadata);
  // Makes `blob` durable and records the document. `sha256_hex` is the
  // blob's hash. On error the blob is deleted.
  absl::StatusOr<relay::v1::Document> CommitDocument(
      const std::string& user_id, const relay::v1::DocumentMetadata& metadata,
      BlobWriter& blob, const std::string& sha256_hex);
  absl::StatusOr<std::vector<relay::v1::Document>> ListDocuments(
      const std::string& user_id);

  // --- Scans ---------------------------------------------------------------
  // Issues a SCAN tunnel token once the device is in that gateway's list.
  absl::StatusOr<std::string> AuthorizeUpload(
      const relay::v1::AuthorizeUploadRequest& request);
  // A scan tunnel opened with verified `claims`: consumes the token's nonce
  // and returns the scan already stored under this id, if any.
  absl::StatusOr<std::optional<StoredScan>> AcceptScanTunnel(const TunnelClaims& claims);
  // Makes `blob` durable and records the scan (size and hash verified by the
  // caller). Returns the id it is stored under; a scan id stored meanwhile
  // keeps the first copy and this blob is deleted.
  absl::StatusOr<std::string> CommitScan(const TunnelClaims& claims,
                                         const std::string& content_type,
                                         BlobWriter& blob,
                                         const std::string& sha256_hex);
  absl::StatusOr<std::vector<relay::v1::Scan>> ListScans(const std::string& user_id);
  // The user's scan and a reader on its bytes; another user's scan is
  // NOT_FOUND.
  absl::StatusOr<std::pair<relay::v1::Scan, std::unique_ptr<BlobReader>>> OpenScan(
      const std::string& user_id, const std::string& scan_id);

 private:
  CloudStore* store_;
  BlobStore* blobs_;
  DeviceMirror* mirror_;
  const TunnelTokenSigner* signer_;
  const Clock* clock_;
  ContentLimits limits_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_CONTENT_LIBRARY_H_
