#ifndef RELAY_CLOUD_SERVER_JOB_NOTIFIER_H_
#define RELAY_CLOUD_SERVER_JOB_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "relay/v1/cloud.pb.h"

namespace relay::cloud {

// In-process fan-out of job changes to watchers (WatchJob streams). Every
// change to a job is published with the job as stored after it.
//
//   uint64_t id = notifier.Subscribe(job_id, [](const Job& job) { ... });
//   ...
//   notifier.Unsubscribe(id);  // no callback runs after this returns
//
// Callbacks run on the publisher's thread, under the notifier's lock: they
// must be quick and must not call back into the notifier.
class JobNotifier {
 public:
  using Callback = std::function<void(const relay::v1::Job&)>;

  // `on_shutdown` runs once if the notifier shuts down while subscribed.
  uint64_t Subscribe(const std::string& job_id, Callback callback,
                     std::function<void()> on_shutdown);
  void Unsubscribe(uint64_t id);
  void Publish(const relay::v1::Job& job);
  // Runs every watcher's `on_shutdown` (the server is stopping) and refuses
  // later subscriptions (Subscribe returns 0).
  void Shutdown();

 private:
  struct Watcher {
    std::string job_id;
    Callback callback;
    std::function<void()> on_shutdown;
  };
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, uint64_t> by_job_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_JOB_NOTIFIER_H_
