#ifndef RELAY_GATEWAY_REGISTRATION_CONTROLLER_H_
#define RELAY_GATEWAY_REGISTRATION_CONTROLLER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/registration_store.h"

namespace relay::gateway {

enum class RegistrationMode {
  kSwap,    // first embodiment (FIG. 10): pre-register Nmax, swap when full
  kMargin,  // third embodiment (FIG. 16): pre-register Nmax - M, add into the M
};

// Parses "swap" or "margin" (configuration).
absl::StatusOr<RegistrationMode> ParseRegistrationMode(absl::string_view text);

struct RegistrationConfig {
  // The most devices registered at once, the gateway's own device included.
  int nmax = 5;
  RegistrationMode mode = RegistrationMode::kSwap;
  // M: slots pre-registration leaves free in margin mode (1 <= M).
  int margin = 2;
  // How long a request may wait for a slot; zero disables waiting.
  absl::Duration wait_timeout = absl::Minutes(5);
  // What happens to a swap after its job, unless the user has an override.
  AfterJob default_after_job = AfterJob::kRevert;
  std::map<std::string, AfterJob> per_user_after_job;
  // Pre-registration ranks devices by jobs relayed in [now - period, now].
  absl::Duration usage_period = absl::Hours(24 * 7);
  // The device the gateway runs on, if it is one: always registered, counts
  // toward nmax, never swapped out. Empty if the gateway is not a device.
  std::string self_device_id;
};

// OK, or INVALID_ARGUMENT saying which field to fix.
absl::Status ValidateRegistrationConfig(const RegistrationConfig& config);

struct AccessRequest {
  std::string request_id;  // unique among the requests not yet released
  std::string device_id;
  std::string user_id;  // selects the revert/keep override
};

// Devices whose registration an event changed, each list sorted by id.
struct RegistrationChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;  // includes a swapped-out device
  bool empty() const { return added.empty() && removed.empty(); }
};

// The answer to Request().
struct Decision {
  enum Kind {
    kGranted,  // the device is registered: relay now, then Release()
    kQueued,   // no slot: wait for a later Effects::granted or Effects::failed
  };
  Kind kind = kGranted;
  RegistrationChanges changes;  // kGranted: the add or swap made for it
  absl::Time wait_deadline;     // kQueued: when ExpireWaiting() fails it
};

// A waiting request that has just been granted.
struct Grant {
  std::string request_id;
  std::string device_id;
  RegistrationChanges changes;  // the add or swap made for this request
};

// A waiting request that has just been dropped.
struct Failure {
  std::string request_id;
  std::string device_id;
  absl::Status status;  // DEADLINE_EXCEEDED (timeout), NOT_FOUND (vanished)
};

// What an event did, for the caller to act on.
struct Effects {
  // Net change of the registered set: report the new device list if non-empty.
  RegistrationChanges changes;
  // Waiting requests granted by this event, in arrival order: relay them.
  std::vector<Grant> granted;
  // Waiting requests dropped by this event: fail them with `status`.
  std::vector<Failure> failed;
  // The first error writing the store, if any. The new state is in effect in
  // memory all the same; saving it is retried on the next change.
  absl::Status store_status;
};

// One row of the device list.
struct DeviceRegistration {
  std::string device_id;
  bool registered = false;
  RegistrationKind kind = RegistrationKind::kPreRegistered;  // if registered
  int jobs_in_flight = 0;
  bool self = false;
  // False for a device gone from discovery but still registered because a
  // job on it is in flight.
  bool present = true;

  bool busy() const { return jobs_in_flight > 0; }
};

// The registration control of the gateway (SPEC section 4; FIG. 10 and FIG. 16
// of the seed): which devices are registered ("managed"), at most nmax at once,
// and who may relay when.
//
// A pure state machine: no I/O but the store, no threads, no timers; time comes
// from the injected Clock. It is not thread-safe: the caller serializes calls
// (holds its own mutex) and acts on the returned decisions, e.g.
//
//   ASSIGN_OR_RETURN(auto controller,
//                    RegistrationController::Create(config, &store, &clock));
//   controller->UpdateDevices({"mfp-201", "mfp-202", ...});
//   ASSIGN_OR_RETURN(Decision d,
//                    controller->Request({"job-1", "mfp-207", "ann"}));
//   if (d.kind == Decision::kGranted) StartRelay("job-1");  // else it waits
//   // ...when the relay of job-1 ends, whatever its outcome:
//   ASSIGN_OR_RETURN(Effects e, controller->Release("job-1"));
//   for (const Grant& g : e.granted) StartRelay(g.request_id);
//   // ...and when NextWaitDeadline() comes:
//   for (const Failure& f : controller->ExpireWaiting().failed) {
//     FailJob(f.request_id, f.status);
//   }
//
// Rules:
// - Pre-registration fills free slots up to nmax (swap mode) or nmax - M
//   (margin mode) with the devices that relayed the most jobs in the usage
//   period, ties in discovery order (so with no history: discovery order).
//   It runs after every event, so a slot left free when a temporary
//   registration ends is refilled at once (possibly by that very device: it
//   has just had a job). Rebalance() also replaces idle pre-registered devices
//   that have fallen out of the ranking.
// - A request for a registered device changes nothing and is granted at once,
//   even while other requests wait: it needs no slot, so it takes nothing
//   from them. Several jobs may run on one device at once.
// - A request for an unregistered device is granted with an add when a slot is
//   free (margin mode: beyond nmax - M the add is temporary). In swap mode,
//   when full, it swaps out the idle pre-registered device (not self) that
//   pre-registration values least: fewest jobs in the usage period, then
//   latest in discovery order. Otherwise it waits.
// - Waiting requests for unregistered devices are served strictly in arrival
//   order; a new request for an unregistered device never overtakes them.
// - When the last job on a device ends: a margin add is dropped; a swap is
//   reverted (the swapped-out device returns if still present) or kept, by the
//   policy of the user whose request made the swap.
// - Registrations are persisted on every change, with what is needed to undo
//   the temporary ones. A restarted gateway has no job in flight, so Create()
//   ends the temporary registrations it finds as if their jobs had ended.
class RegistrationController {
 public:
  // Validates `config` and restores the state saved in `store`.
  // `store` and `clock` must outlive the controller.
  static absl::StatusOr<std::unique_ptr<RegistrationController>> Create(
      RegistrationConfig config, RegistrationStore* store, const Clock* clock);

  RegistrationController(const RegistrationController&) = delete;
  RegistrationController& operator=(const RegistrationController&) = delete;

  // The devices discovery currently finds, in discovery order (the gateway's
  // own device may be omitted). Devices no longer present are unregistered
  // once idle and their waiting requests fail with NOT_FOUND; free slots go to
  // waiting requests first, then to pre-registration.
  Effects UpdateDevices(const std::vector<std::string>& discovered_in_order);

  // A request to relay a job to or from a device. Errors: INVALID_ARGUMENT
  // (empty ids), ALREADY_EXISTS (request id in use), NOT_FOUND (device not in
  // the device list), RESOURCE_EXHAUSTED (would wait but waiting is
  // disabled), or the store's error when the new registration cannot be saved
  // (then nothing changed).
  absl::StatusOr<Decision> Request(const AccessRequest& request);

  // The request is over: the job of a granted request ended (whatever its
  // outcome), or a waiting request is abandoned. NOT_FOUND for an unknown id.
  absl::StatusOr<Effects> Release(absl::string_view request_id);

  // Fails the waiting requests whose wait_timeout has passed.
  Effects ExpireWaiting();
  // The earliest deadline of a waiting request, if any is waiting.
  std::optional<absl::Time> NextWaitDeadline() const;

  // Re-runs pre-registration against the current usage ranking: idle
  // pre-registered devices outside the top nmax (or nmax - M) are replaced by
  // better-ranked ones. Also prunes the history older than the usage period.
  // For a periodic timer.
  Effects Rebalance();

  // The device list: present devices in discovery order (the gateway's own
  // device first unless discovered), then registered devices no longer
  // present.
  std::vector<DeviceRegistration> Snapshot() const;

  bool IsRegistered(absl::string_view device_id) const;
  int registered_count() const {
    return static_cast<int>(registrations_.size());
  }
  int waiting_count() const { return static_cast<int>(waiting_.size()); }
  const RegistrationConfig& config() const { return config_; }

 private:
  struct ActiveRequest {
    std::string device_id;
    std::string user_id;
    bool granted = false;
    absl::Time deadline;  // while waiting
  };
  using Registrations = std::map<std::string, StoredRegistration, std::less<>>;

  RegistrationController(RegistrationConfig config, RegistrationStore* store,
                         const Clock* clock);

  absl::Status Load();
  void SetPresent(std::vector<std::string> devices);
  bool IsPresent(absl::string_view device_id) const;
  bool IsSelf(absl::string_view device_id) const;
  int PreRegistrationTarget() const;
  AfterJob PolicyFor(absl::string_view user_id) const;

  void PruneUsage(absl::Time now);
  int64_t UsageCount(const std::string& device_id) const;
  // `devices` best first: most jobs in the usage period, then discovery order.
  std::vector<std::string> Ranked(std::vector<std::string> devices) const;
  // The idle pre-registered device (not self) pre-registration values least.
  std::optional<std::string> SwapVictim() const;

  void Register(const std::string& device_id, RegistrationKind kind,
                const std::string& restore_device_id = "",
                AfterJob after_job = AfterJob::kRevert);
  void Unregister(const std::string& device_id);
  // Adds or swaps in `device_id` if a slot can be had now.
  bool TryAcquireSlot(const std::string& device_id, const std::string& user_id);
  // The last job on `device_id` has ended (or there is none after a restart).
  void EndJobs(const std::string& device_id);
  bool HasWaiterForUnregisteredDevice() const;
  void ServeWaiting(Effects* effects);
  void FillPreRegistration();
  // Serves waiting requests, fills pre-registration, saves, and sets
  // effects->changes relative to `before`.
  void Finish(const Registrations& before, Effects* effects);
  absl::Status Persist();

  static RegistrationChanges Diff(const Registrations& before,
                                  const Registrations& after);

  const RegistrationConfig config_;
  RegistrationStore* const store_;
  const Clock* const clock_;

  // Present devices in discovery order, and each one's index in it.
  std::vector<std::string> present_;
  std::map<std::string, size_t, std::less<>> present_index_;
  Registrations registrations_;
  // The registrations last saved successfully.
  Registrations persisted_;
  std::map<std::string, int, std::less<>> jobs_in_flight_;
  std::map<std::string, ActiveRequest, std::less<>> requests_;
  std::deque<std::string> waiting_;  // request ids in arrival order
  // Job end times within the usage period, oldest first, per device.
  std::map<std::string, std::deque<absl::Time>> usage_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_REGISTRATION_CONTROLLER_H_
