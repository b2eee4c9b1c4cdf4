#include "cloud_server/job_notifier.h"

#include <utility>

namespace relay::cloud {

uint64_t JobNotifier::Subscribe(const std::string& job_id, Callback callback,
                               std::function<void()> on_shutdown) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return 0;
  uint64_t id = next_id_++;
  watchers_[id] = Watcher{job_id, std::move(callback), std::move(on_shutdown)};
  by_job_.emplace(job_id, id);
  return id;
}

void JobNotifier::Unsubscribe(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  auto range = by_job_.equal_range(it->second.job_id);
  for (auto j = range.first; j != range.second; ++j) {
    if (j->second == id) {
      by_job_.erase(j);
      break;
    }
  }
  watchers_.erase(it);
}

void JobNotifier::Publish(const relay::v1::Job& job) {
  absl::MutexLock lock(&mu_);
  auto range = by_job_.equal_range(job.job_id());
  for (auto it = range.first; it != range.second; ++it) {
    watchers_[it->second].callback(job);
  }
}

void JobNotifier::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (const auto& [id, watcher] : watchers_) {
    if (watcher.on_shutdown) watcher.on_shutdown();
  }
}

}  // namespace relay::cloud
