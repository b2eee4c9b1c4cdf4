#ifndef RELAY_GATEWAY_HOLD_STORE_H_
#define RELAY_GATEWAY_HOLD_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite_db.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::gateway {

// A print job the device could not execute when it arrived (related design 3).
// The gateway received the whole document through the tunnel into a spool
// file; it delivers it by proxy once the device can execute it, or fails it
// at `expires`.
struct HeldJob {
  std::string job_id;
  std::string device_id;
  // The tunnel request as pushed (user, document name, type, options). Its
  // token has been used: a held job never opens a tunnel again.
  relay::v1::TunnelRequest request;
  // Why the device cannot execute it (the job's HELD reason, kept current).
  std::string reason;
  std::string spool_path;
  int64_t size = 0;
  std::string sha256_hex;
  absl::Time held_at = absl::InfinitePast();
  absl::Time expires = absl::InfiniteFuture();
};

// The durable list of held jobs (SQLite, `holds.db` in the state directory):
// holds survive a gateway restart. Thread-safe.
//
//   ASSIGN_OR_RETURN(auto holds, HoldStore::Open(state_dir + "/holds.db"));
//   RETURN_IF_ERROR(holds->Add(job));          // before answering HELD
//   for (const HeldJob& job : *holds->List()) ...
//   RETURN_IF_ERROR(holds->Remove(job.job_id)); // delivered or expired
class HoldStore {
 public:
  static absl::StatusOr<std::unique_ptr<HoldStore>> Open(const std::string& path);

  // Adds `job`, or replaces the hold of the same job id.
  absl::Status Add(const HeldJob& job);
  absl::Status UpdateReason(const std::string& job_id, const std::string& reason);
  // NOT_FOUND-free: removing a job that is not held is OK.
  absl::Status Remove(const std::string& job_id);
  absl::StatusOr<std::optional<HeldJob>> Get(const std::string& job_id);
  // Every held job, oldest hold first (the order they are delivered in).
  absl::StatusOr<std::vector<HeldJob>> List();

 private:
  explicit HoldStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_HOLD_STORE_H_
