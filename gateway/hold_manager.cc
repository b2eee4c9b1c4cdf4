#include "gateway/hold_manager.h"

#include <set>
#include <string>
#include <utility>

#include "common/logging.h"

namespace relay::gateway {

HoldActions DecideHoldActions(const std::vector<HeldJob>& held, absl::Time now) {
  HoldActions actions;
  std::set<std::string> devices_tried;
  for (const HeldJob& job : held) {
    if (job.expires <= now) {
      actions.expire.push_back(job);
    } else if (devices_tried.insert(job.device_id).second) {
      actions.deliver.push_back(job);
    }
  }
  return actions;
}

HoldManager::HoldManager(HoldStore* store, const Clock* clock,
                         absl::Duration poll_interval, Action deliver, Action expire)
    : store_(store),
      clock_(clock),
      poll_interval_(poll_interval),
      deliver_(std::move(deliver)),
      expire_(std::move(expire)) {}

HoldManager::~HoldManager() { Shutdown(); }

void HoldManager::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void HoldManager::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HoldManager::Poke() {
  absl::MutexLock lock(&mu_);
  poked_ = true;
}

void HoldManager::RunOnce() {
  absl::StatusOr<std::vector<HeldJob>> held = store_->List();
  if (!held.ok()) {
    LogError("event=hold_store_error error=\"%s\"", held.status().ToString());
    return;
  }
  HoldActions actions = DecideHoldActions(*held, clock_->Now());
  for (const HeldJob& job : actions.expire) expire_(job);
  for (const HeldJob& job : actions.deliver) deliver_(job);
}

void HoldManager::Loop() {
  while (true) {
    RunOnce();
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || poked_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), poll_interval_);
    if (stopping_) return;
    poked_ = false;
  }
}

}  // namespace relay::gateway
