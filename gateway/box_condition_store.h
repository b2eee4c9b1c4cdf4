#ifndef RELAY_GATEWAY_BOX_CONDITION_STORE_H_
#define RELAY_GATEWAY_BOX_CONDITION_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite_db.h"
#include "gateway/box_access.h"
#include "relay/v1/common.pb.h"

namespace relay::gateway {

// Related design 4: the access conditions devices' owners set on their boxes
// (<state_dir>/boxes.db), with the number of accesses permitted under each,
// both persisted (a restart neither forgets a condition nor resets a count).
// Authorize() evaluates a request (box_access.h) and counts it if permitted,
// in one step, so two concurrent requests cannot both take the last access.
// Blocking (SQLite): call it from worker threads or executors.
//
//   ASSIGN_OR_RETURN(auto store, BoxConditionStore::Open(dir + "/boxes.db"));
//   RETURN_IF_ERROR(store->Put(condition));            // from the device
//   ASSIGN_OR_RETURN(BoxDecision d, store->Authorize("mfp-201", request, now));
class BoxConditionStore {
 public:
  static absl::StatusOr<std::unique_ptr<BoxConditionStore>> Open(const std::string& path);

  // Replaces the box's conditions (validated: ValidateBoxCondition); the
  // access count starts again at 0 under the new conditions.
  absl::Status Put(const relay::v1::BoxAccessCondition& condition);
  absl::StatusOr<std::optional<relay::v1::BoxAccessCondition>> Get(
      const std::string& device_id, const std::string& box_id);
  // Accesses permitted so far under the box's current conditions.
  absl::StatusOr<int64_t> AccessCount(const std::string& device_id,
                                      const std::string& box_id);
  // The decision on `request` to a box of `device_id` at `now`; a permitted
  // access is counted before this returns.
  absl::StatusOr<BoxDecision> Authorize(const std::string& device_id,
                                        const relay::v1::BoxRequest& request, absl::Time now);

 private:
  explicit BoxConditionStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::StatusOr<std::optional<std::pair<relay::v1::BoxAccessCondition, int64_t>>> Load(
      const std::string& device_id, const std::string& box_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_BOX_CONDITION_STORE_H_
