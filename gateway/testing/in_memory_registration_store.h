#ifndef RELAY_GATEWAY_TESTING_IN_MEMORY_REGISTRATION_STORE_H_
#define RELAY_GATEWAY_TESTING_IN_MEMORY_REGISTRATION_STORE_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/registration_store.h"

namespace relay::gateway::testing {

// A RegistrationStore in memory, for tests. Writes can be made to fail with
// FailWrites() to exercise the error paths of its users.
//
//   InMemoryRegistrationStore store;
//   store.AddUsage("mfp-202", clock.Now());
//   auto controller = RegistrationController::Create(config, &store, &clock);
class InMemoryRegistrationStore : public RegistrationStore {
 public:
  absl::StatusOr<std::vector<StoredRegistration>> LoadRegistrations() override {
    absl::MutexLock lock(&mu_);
    if (!read_error_.ok()) return read_error_;
    return registrations_;
  }

  absl::Status SaveRegistrations(
      const std::vector<StoredRegistration>& registrations) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    registrations_ = registrations;
    std::sort(registrations_.begin(), registrations_.end(),
              [](const StoredRegistration& a, const StoredRegistration& b) {
                return a.device_id < b.device_id;
              });
    ++save_count_;
    return absl::OkStatus();
  }

  absl::Status RecordUsage(absl::string_view device_id,
                           absl::Time when) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    usage_.push_back(UsageEvent{std::string(device_id), when});
    return absl::OkStatus();
  }

  absl::StatusOr<std::map<std::string, int64_t>> UsageSince(
      absl::Time since) override {
    absl::MutexLock lock(&mu_);
    if (!read_error_.ok()) return read_error_;
    std::map<std::string, int64_t> counts;
    for (const UsageEvent& e : usage_) {
      if (e.when >= since) ++counts[e.device_id];
    }
    return counts;
  }

  absl::StatusOr<std::vector<UsageEvent>> UsageEventsSince(
      absl::Time since) override {
    absl::MutexLock lock(&mu_);
    if (!read_error_.ok()) return read_error_;
    std::vector<UsageEvent> events;
    for (const UsageEvent& e : usage_) {
      if (e.when >= since) events.push_back(e);
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const UsageEvent& a, const UsageEvent& b) {
                       return a.when < b.when;
                     });
    return events;
  }

  absl::Status PruneUsageBefore(absl::Time before) override {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    usage_.erase(
        std::remove_if(usage_.begin(), usage_.end(),
                       [&](const UsageEvent& e) { return e.when < before; }),
        usage_.end());
    return absl::OkStatus();
  }

  // Test helpers.

  // Seeds the usage history without going through the failure injection.
  void AddUsage(absl::string_view device_id, absl::Time when, int times = 1) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < times; ++i) {
      usage_.push_back(UsageEvent{std::string(device_id), when});
    }
  }
  // Every write fails with `error` until called again with OkStatus().
  void FailWrites(absl::Status error) {
    absl::MutexLock lock(&mu_);
    write_error_ = std::move(error);
  }
  // Every read fails with `error` until called again with OkStatus().
  void FailReads(absl::Status error) {
    absl::MutexLock lock(&mu_);
    read_error_ = std::move(error);
  }
  std::vector<StoredRegistration> registrations() const {
    absl::MutexLock lock(&mu_);
    return registrations_;
  }
  std::vector<UsageEvent> usage() const {
    absl::MutexLock lock(&mu_);
    return usage_;
  }
  int save_count() const {
    absl::MutexLock lock(&mu_);
    return save_count_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<StoredRegistration> registrations_ ABSL_GUARDED_BY(mu_);
  std::vector<UsageEvent> usage_ ABSL_GUARDED_BY(mu_);
  int save_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  absl::Status read_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway::testing

#endif  // RELAY_GATEWAY_TESTING_IN_MEMORY_REGISTRATION_STORE_H_
