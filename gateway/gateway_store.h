#ifndef RELAY_GATEWAY_GATEWAY_STORE_H_
#define RELAY_GATEWAY_GATEWAY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite_db.h"

namespace relay::gateway {

// A scan accepted from a device and spooled to disk, not yet stored by the
// cloud. The row exists from the moment the device got its receipt until the
// cloud confirmed the upload (TunnelClosed), so a restart loses nothing.
struct PendingScan {
  std::string scan_id;
  std::string device_id;
  std::string user_id;
  std::string content_type;
  int64_t size = 0;
  std::string sha256_hex;
  // The spool file holding the bytes.
  std::string spool_path;
  absl::Time accepted;
  int attempts = 0;

  friend bool operator==(const PendingScan& a, const PendingScan& b) {
    return a.scan_id == b.scan_id && a.device_id == b.device_id &&
           a.user_id == b.user_id && a.content_type == b.content_type &&
           a.size == b.size && a.sha256_hex == b.sha256_hex &&
           a.spool_path == b.spool_path && a.accepted == b.accepted &&
           a.attempts == b.attempts;
  }
};

// The gateway's own durable state (not the registration control's, which is
// in RegistrationStore): its identity, the print jobs already delivered to a
// device (so a retried job never prints twice) and the scans waiting for
// upload. Thread-safe.
//
//   ASSIGN_OR_RETURN(auto store, GatewayStore::Open(state_dir + "/gateway.db"));
//   if (*store->IsJobDelivered("job-1")) ReportDone();
class GatewayStore {
 public:
  // Opens (creating and migrating) the database at `path`; ":memory:" for tests.
  static absl::StatusOr<std::unique_ptr<GatewayStore>> Open(const std::string& path);

  // Key/value settings (the gateway identity).
  absl::StatusOr<std::optional<std::string>> GetSetting(absl::string_view key);
  absl::Status PutSetting(absl::string_view key, absl::string_view value);

  absl::StatusOr<bool> IsJobDelivered(absl::string_view job_id);
  // Idempotent.
  absl::Status MarkJobDelivered(absl::string_view job_id,
                                absl::string_view device_id, absl::Time when);

  // ALREADY_EXISTS if a scan with this id is pending.
  absl::Status AddPendingScan(const PendingScan& scan);
  absl::StatusOr<std::optional<PendingScan>> GetPendingScan(absl::string_view scan_id);
  // Oldest first.
  absl::StatusOr<std::vector<PendingScan>> ListPendingScans();
  absl::Status SetScanAttempts(absl::string_view scan_id, int attempts);
  // Deletes the pending row and remembers the scan as uploaded, atomically.
  absl::Status MarkScanUploaded(absl::string_view scan_id,
                                absl::string_view sha256_hex, absl::Time when);
  // The sha256 of an uploaded scan, if this id was uploaded before.
  absl::StatusOr<std::optional<std::string>> UploadedScanSha(absl::string_view scan_id);

 private:
  explicit GatewayStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_GATEWAY_STORE_H_
