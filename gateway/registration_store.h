#ifndef RELAY_GATEWAY_REGISTRATION_STORE_H_
#define RELAY_GATEWAY_REGISTRATION_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace relay::gateway {

// What happens to a swap (a device registered in place of another one) once
// the jobs on the swapped-in device are over (SPEC section 4, "After the job").
enum class AfterJob {
  // The swapped-in device is unregistered and the swapped-out one returns.
  kRevert,
  // The swapped-in device stays registered for good.
  kKeep,
};

// Why a device is registered. Only kPreRegistered registrations are permanent;
// the other two are undone when the last job on the device ends.
enum class RegistrationKind {
  // Pre-registration, an add into a free slot in swap mode, a kept swap.
  kPreRegistered,
  // Margin mode: added beyond Nmax - M for a job, dropped after it.
  kMarginAdded,
  // Swap mode: registered in place of `restore_device_id` for a job.
  kSwappedIn,
};

// One registered device as persisted. The temporary kinds carry what is needed
// to undo them, so a gateway restarted in the middle of a job still ends in
// the right state.
struct StoredRegistration {
  std::string device_id;
  RegistrationKind kind = RegistrationKind::kPreRegistered;
  // kSwappedIn only: the device that was swapped out to make room.
  std::string restore_device_id;
  // kSwappedIn only: the policy chosen when the swap was made.
  AfterJob after_job = AfterJob::kRevert;

  friend bool operator==(const StoredRegistration& a,
                         const StoredRegistration& b) {
    return a.device_id == b.device_id && a.kind == b.kind &&
           a.restore_device_id == b.restore_device_id &&
           a.after_job == b.after_job;
  }
  friend bool operator!=(const StoredRegistration& a,
                         const StoredRegistration& b) {
    return !(a == b);
  }
};

// One relayed job on a device, for the usage history that drives
// pre-registration.
struct UsageEvent {
  std::string device_id;
  absl::Time when;

  friend bool operator==(const UsageEvent& a, const UsageEvent& b) {
    return a.device_id == b.device_id && a.when == b.when;
  }
};

// Persistent state of the registration control (RegistrationController):
// the set of registered devices and the per-device usage history.
// Implementations are thread-safe.
//
// The production implementation is SqliteRegistrationStore; tests use
// testing::InMemoryRegistrationStore.
class RegistrationStore {
 public:
  virtual ~RegistrationStore() = default;

  // All registrations, ordered by device id.
  virtual absl::StatusOr<std::vector<StoredRegistration>>
  LoadRegistrations() = 0;
  // Replaces all registrations atomically.
  virtual absl::Status SaveRegistrations(
      const std::vector<StoredRegistration>& registrations) = 0;

  // Appends one relayed job to the usage history.
  virtual absl::Status RecordUsage(absl::string_view device_id,
                                   absl::Time when) = 0;
  // Number of jobs per device recorded at or after `since`.
  virtual absl::StatusOr<std::map<std::string, int64_t>> UsageSince(
      absl::Time since) = 0;
  // The jobs recorded at or after `since`, oldest first.
  virtual absl::StatusOr<std::vector<UsageEvent>> UsageEventsSince(
      absl::Time since) = 0;
  // Deletes the history recorded before `before`.
  virtual absl::Status PruneUsageBefore(absl::Time before) = 0;

  // Convenience views for callers that only care about which devices are
  // registered: ids ordered by device id; saving marks them all pre-registered.
  absl::StatusOr<std::vector<std::string>> LoadRegistered() {
    absl::StatusOr<std::vector<StoredRegistration>> loaded =
        LoadRegistrations();
    if (!loaded.ok()) return loaded.status();
    std::vector<std::string> ids;
    ids.reserve(loaded->size());
    for (const StoredRegistration& r : *loaded) ids.push_back(r.device_id);
    return ids;
  }
  absl::Status SaveRegistered(const std::vector<std::string>& device_ids) {
    std::vector<StoredRegistration> registrations;
    registrations.reserve(device_ids.size());
    for (const std::string& id : device_ids) {
      registrations.emplace_back();
      registrations.back().device_id = id;
    }
    return SaveRegistrations(registrations);
  }
};

inline absl::string_view AfterJobName(AfterJob after_job) {
  return after_job == AfterJob::kKeep ? "keep" : "revert";
}

// Parses "revert" or "keep" (configuration, database).
inline absl::StatusOr<AfterJob> ParseAfterJob(absl::string_view text) {
  if (text == "revert") return AfterJob::kRevert;
  if (text == "keep") return AfterJob::kKeep;
  return absl::InvalidArgumentError(absl::StrCat(
      "after-job policy must be \"revert\" or \"keep\", got \"", text, "\""));
}

inline absl::string_view RegistrationKindName(RegistrationKind kind) {
  switch (kind) {
    case RegistrationKind::kPreRegistered:
      return "pre";
    case RegistrationKind::kMarginAdded:
      return "margin";
    case RegistrationKind::kSwappedIn:
      return "swap";
  }
  return "pre";
}

// Parses "pre", "margin" or "swap" (database).
inline absl::StatusOr<RegistrationKind> ParseRegistrationKind(
    absl::string_view text) {
  if (text == "pre") return RegistrationKind::kPreRegistered;
  if (text == "margin") return RegistrationKind::kMarginAdded;
  if (text == "swap") return RegistrationKind::kSwappedIn;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown registration kind \"", text, "\""));
}

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_REGISTRATION_STORE_H_
