#ifndef RELAY_GATEWAY_HOLD_MANAGER_H_
#define RELAY_GATEWAY_HOLD_MANAGER_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/hold_store.h"

namespace relay::gateway {

// What to do with the held jobs at one poll.
struct HoldActions {
  // Try to deliver these now (the oldest held job of each device: a device's
  // held jobs are delivered in the order they were held).
  std::vector<HeldJob> deliver;
  // Their hold expired: fail them.
  std::vector<HeldJob> expire;
};

// Pure rule of the poll: a job whose `expires` is at or before `now` expires;
// of the others, the oldest of each device is tried.
HoldActions DecideHoldActions(const std::vector<HeldJob>& held, absl::Time now);

// Polls the held jobs (related design 3, "deliver by proxy"): every
// `poll_interval`, and at once after Poke(), it reads the hold store and hands
// each job to `deliver` (which checks the device's state and prints if it can
// execute the job now; the AccessHandler) or to `expire`. Both callbacks must
// not block for long; they skip a job already being worked on. A thread of
// its own.
//
//   HoldManager holds(store, clock, absl::Seconds(1),
//                     [&](const HeldJob& j) { handler.DeliverHeld(j); },
//                     [&](const HeldJob& j) { handler.ExpireHeld(j); });
//   holds.Start();
class HoldManager {
 public:
  using Action = std::function<void(const HeldJob&)>;
  HoldManager(HoldStore* store, const Clock* clock, absl::Duration poll_interval,
              Action deliver, Action expire);
  ~HoldManager();

  void Start();
  void Shutdown();
  // Poll now (a device's state changed, a job was held).
  void Poke();
  // One poll (tests call it directly, without Start).
  void RunOnce();

 private:
  void Loop();

  HoldStore* const store_;
  const Clock* const clock_;
  const absl::Duration poll_interval_;
  Action deliver_;
  Action expire_;
  absl::Mutex mu_;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_HOLD_MANAGER_H_
