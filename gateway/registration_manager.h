#ifndef RELAY_GATEWAY_REGISTRATION_MANAGER_H_
#define RELAY_GATEWAY_REGISTRATION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/registration_controller.h"

namespace relay::gateway {

// The thread-safe face of the RegistrationController (which is a pure, single-
// threaded state machine): serializes calls under a mutex, runs a timer thread
// that fails waiting requests at their deadline (and rebalances
// pre-registration periodically), and resumes queued requests through the
// callback given with the request. Every change of the device list's
// registration marks is published through `on_list_changed`, outside the lock,
// with a sequence number (DeviceList::SetRegistrations drops older ones).
//
//   RegistrationManager manager(std::move(controller), clock, on_list_changed);
//   manager.Start();
//   auto outcome = manager.Request({job_id, device_id, user},
//       [](absl::StatusOr<RegistrationChanges> granted) { /* later */ });
//   if (outcome.ok() && outcome->granted) Relay(); else if (outcome.ok()) Wait();
//   ...
//   manager.Release(job_id);
//
// Callbacks (resume and on_list_changed) run on whatever thread caused the
// event and must not block: post the work elsewhere.
class RegistrationManager {
 public:
  // Called once for a queued request: the registration changes made for it
  // when granted, or the reason it failed (DEADLINE_EXCEEDED after the wait
  // timeout, NOT_FOUND if the device vanished, CANCELLED at shutdown).
  using Resume = std::function<void(absl::StatusOr<RegistrationChanges>)>;
  using ListChanged =
      std::function<void(uint64_t seq, std::vector<DeviceRegistration> rows)>;

  struct Outcome {
    bool granted = false;
    RegistrationChanges changes;  // if granted
    absl::Time wait_deadline;     // if queued
  };

  RegistrationManager(std::unique_ptr<RegistrationController> controller,
                      const Clock* clock, ListChanged on_list_changed,
                      absl::Duration rebalance_interval = absl::Hours(1));
  ~RegistrationManager();

  // Starts the timer thread.
  void Start();
  // Stops the timer thread and fails every waiting request with CANCELLED.
  void Shutdown();

  // Granted now, queued (then `resume` is called later, exactly once), or an
  // error (RegistrationController::Request's).
  absl::StatusOr<Outcome> Request(const AccessRequest& request, Resume resume);
  // The access is over (or a waiting one is abandoned).
  void Release(const std::string& request_id);
  void UpdateDevices(const std::vector<std::string>& discovered_in_order);
  // Fails the waiting requests whose deadline passed on the clock. The timer
  // thread calls it; tests with a FakeClock call it directly.
  void ExpireWaiting();
  void Rebalance();

  std::pair<uint64_t, std::vector<DeviceRegistration>> Snapshot() const;
  bool IsRegistered(const std::string& device_id) const;

 private:
  using Deferred = std::vector<std::function<void()>>;
  // Turns the controller's effects into callbacks to run after unlocking.
  void Apply(const Effects& effects, const char* event, Deferred* deferred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishList(Deferred* deferred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Run(Deferred& deferred);
  void TimerLoop();

  const Clock* const clock_;
  const ListChanged on_list_changed_;
  const absl::Duration rebalance_interval_;

  mutable absl::Mutex mu_;
  std::unique_ptr<RegistrationController> controller_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Resume> waiting_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // Set when a new wait deadline may be earlier than the one the timer sleeps to.
  bool timer_dirty_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;
};

// "registered mfp-207 in place of mfp-203", "registered mfp-207",
// "unregistered mfp-203", or "" for no change: for JobProgress and logs.
std::string DescribeChanges(const RegistrationChanges& changes);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_REGISTRATION_MANAGER_H_
