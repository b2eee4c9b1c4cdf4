#include "gateway/registration_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace relay::gateway {

std::string DescribeChanges(const RegistrationChanges& changes) {
  if (changes.empty()) return "";
  if (changes.added.size() == 1 && changes.removed.size() == 1) {
    return absl::StrCat("registered ", changes.added[0], " in place of ",
                        changes.removed[0]);
  }
  std::vector<std::string> parts;
  if (!changes.added.empty()) {
    parts.push_back(absl::StrCat("registered ", absl::StrJoin(changes.added, ", ")));
  }
  if (!changes.removed.empty()) {
    parts.push_back(absl::StrCat("unregistered ", absl::StrJoin(changes.removed, ", ")));
  }
  return absl::StrJoin(parts, "; ");
}

RegistrationManager::RegistrationManager(
    std::unique_ptr<RegistrationController> controller, const Clock* clock,
    ListChanged on_list_changed, absl::Duration rebalance_interval)
    : clock_(clock),
      on_list_changed_(std::move(on_list_changed)),
      rebalance_interval_(rebalance_interval),
      controller_(std::move(controller)) {}

RegistrationManager::~RegistrationManager() { Shutdown(); }

void RegistrationManager::Start() {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    PublishList(&deferred);
  }
  Run(deferred);
  timer_ = std::thread([this] { TimerLoop(); });
}

void RegistrationManager::Shutdown() {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      shutdown_ = true;
      for (auto& [id, resume] : waiting_) {
        controller_->Release(id).IgnoreError();
        deferred.push_back([resume = std::move(resume)] {
          resume(absl::CancelledError("the gateway is shutting down"));
        });
      }
      waiting_.clear();
    }
  }
  if (timer_.joinable()) timer_.join();
  Run(deferred);
}

void RegistrationManager::Run(Deferred& deferred) {
  for (auto& f : deferred) f();
  deferred.clear();
}

void RegistrationManager::PublishList(Deferred* deferred) {
  if (!on_list_changed_) return;
  uint64_t seq = ++seq_;
  std::vector<DeviceRegistration> rows = controller_->Snapshot();
  deferred->push_back([this, seq, rows = std::move(rows)]() mutable {
    on_list_changed_(seq, std::move(rows));
  });
}

void RegistrationManager::Apply(const Effects& effects, const char* event,
                                Deferred* deferred) {
  if (!effects.store_status.ok()) {
    LogError("event=registration_store_failed cause=%s error=\"%s\"", event,
             effects.store_status.ToString());
  }
  if (!effects.changes.empty()) {
    LogInfo("event=registration_changed cause=%s change=\"%s\"", event,
            DescribeChanges(effects.changes));
  }
  for (const Grant& grant : effects.granted) {
    auto it = waiting_.find(grant.request_id);
    if (it == waiting_.end()) continue;
    deferred->push_back([resume = std::move(it->second), changes = grant.changes] {
      resume(changes);
    });
    waiting_.erase(it);
  }
  for (const Failure& failure : effects.failed) {
    auto it = waiting_.find(failure.request_id);
    if (it == waiting_.end()) continue;
    deferred->push_back([resume = std::move(it->second), status = failure.status] {
      resume(status);
    });
    waiting_.erase(it);
  }
}

absl::StatusOr<RegistrationManager::Outcome> RegistrationManager::Request(
    const AccessRequest& request, Resume resume) {
  Deferred deferred;
  absl::StatusOr<Outcome> result;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("the gateway is shutting down");
    absl::StatusOr<Decision> decision = controller_->Request(request);
    if (!decision.ok()) return decision.status();
    Outcome outcome;
    if (decision->kind == Decision::kGranted) {
      outcome.granted = true;
      outcome.changes = decision->changes;
      if (!decision->changes.empty()) {
        LogInfo("event=registration_changed cause=request job=%s device=%s change=\"%s\"",
                request.request_id, request.device_id, DescribeChanges(decision->changes));
      }
    } else {
      outcome.wait_deadline = decision->wait_deadline;
      waiting_[request.request_id] = std::move(resume);
      timer_dirty_ = true;
    }
    PublishList(&deferred);
    result = outcome;
  }
  Run(deferred);
  return result;
}

void RegistrationManager::Release(const std::string& request_id) {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Effects> effects = controller_->Release(request_id);
    if (!effects.ok()) {
      LogWarning("event=registration_release_failed job=%s error=\"%s\"", request_id,
                 effects.status().ToString());
      return;
    }
    waiting_.erase(request_id);  // an abandoned waiter is not resumed
    Apply(*effects, "release", &deferred);
    PublishList(&deferred);
    timer_dirty_ = true;
  }
  Run(deferred);
}

void RegistrationManager::UpdateDevices(const std::vector<std::string>& ids) {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    Effects effects = controller_->UpdateDevices(ids);
    Apply(effects, "discovery", &deferred);
    PublishList(&deferred);
    timer_dirty_ = true;
  }
  Run(deferred);
}

void RegistrationManager::ExpireWaiting() {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    Effects effects = controller_->ExpireWaiting();
    if (effects.failed.empty() && effects.changes.empty() && effects.granted.empty()) {
      return;
    }
    Apply(effects, "wait_timeout", &deferred);
    PublishList(&deferred);
  }
  Run(deferred);
}

void RegistrationManager::Rebalance() {
  Deferred deferred;
  {
    absl::MutexLock lock(&mu_);
    Effects effects = controller_->Rebalance();
    Apply(effects, "rebalance", &deferred);
    if (!effects.changes.empty()) PublishList(&deferred);
  }
  Run(deferred);
}

std::pair<uint64_t, std::vector<DeviceRegistration>> RegistrationManager::Snapshot()
    const {
  absl::MutexLock lock(&mu_);
  return {seq_, controller_->Snapshot()};
}

bool RegistrationManager::IsRegistered(const std::string& device_id) const {
  absl::MutexLock lock(&mu_);
  return controller_->IsRegistered(device_id);
}

void RegistrationManager::TimerLoop() {
  absl::Time next_rebalance = clock_->Now() + rebalance_interval_;
  while (true) {
    absl::Duration sleep;
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
      absl::Time now = clock_->Now();
      absl::Time wake = next_rebalance;
      std::optional<absl::Time> deadline = controller_->NextWaitDeadline();
      if (deadline.has_value()) wake = std::min(wake, *deadline);
      // The clock may be a fake one in tests: never sleep longer than a
      // second between looks at it.
      sleep = std::clamp(wake - now, absl::ZeroDuration(), absl::Seconds(1));
      timer_dirty_ = false;
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || timer_dirty_;
      };
      if (sleep > absl::ZeroDuration()) {
        mu_.AwaitWithTimeout(absl::Condition(&woken), sleep);
      }
      if (shutdown_) return;
    }
    ExpireWaiting();
    if (clock_->Now() >= next_rebalance) {
      Rebalance();
      next_rebalance = clock_->Now() + rebalance_interval_;
    }
  }
}

}  // namespace relay::gateway
