#ifndef RELAY_CLOUD_SERVER_JOB_DISPATCHER_H_
#define RELAY_CLOUD_SERVER_JOB_DISPATCHER_H_

#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cloud_server/access_router.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_manager.h"
#include "cloud_server/tunnel_token.h"
#include "common/clock.h"

namespace relay::cloud {

struct DispatcherOptions {
  // Retry delays while the management server is unreachable or the gateway
  // offline: doubled at each failure, capped.
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(5);
  // A job routed to a gateway that neither opened a tunnel nor reported
  // progress for this long is routed again (with a fresh token). Keep it
  // below the token lifetime.
  absl::Duration redispatch_after = absl::Minutes(2);
};

// Hands QUEUED print jobs to the management server (AccessRouter), one at a
// time, on a thread of its own. Retries with capped exponential backoff while
// the management server or the gateway is unavailable; routes a job again if
// its tunnel never opens; fails a job whose device no gateway knows. At start
// every job not DONE/FAILED is resumed.
//
//   JobDispatcher dispatcher(&jobs, &mirror, &router, &signer, clock, {});
//   jobs.SetQueuedListener([&](const std::string& id) { dispatcher.Wake(id); });
//   RETURN_IF_ERROR(dispatcher.Start());
//
// Tests drive it without the thread: LoadUnfinishedJobs(), then RunOnce()
// with a FakeClock.
class JobDispatcher {
 public:
  JobDispatcher(JobManager* jobs, DeviceMirror* mirror, AccessRouter* router,
                const TunnelTokenSigner* signer, const Clock* clock,
                DispatcherOptions options);
  ~JobDispatcher();
  JobDispatcher(const JobDispatcher&) = delete;
  JobDispatcher& operator=(const JobDispatcher&) = delete;

  // Loads the unfinished jobs and starts the thread.
  absl::Status Start();
  // Stops the thread (cancelling a call in progress). Idempotent.
  void Stop();

  // Dispatch `job_id` now (a new job, or one whose tunnel was lost).
  void Wake(const std::string& job_id);

  absl::Status LoadUnfinishedJobs();
  // Handles every job due at clock->Now(); returns when the next one is due
  // (absl::InfiniteFuture() if none).
  absl::Time RunOnce();
  // Jobs the dispatcher is following (tests).
  int PendingJobs();

 private:
  struct Entry {
    absl::Time due = absl::InfinitePast();
    // Dispatch at once, whatever the timers say (new job, tunnel lost).
    bool immediate = true;
    uint64_t wake_generation = 0;
    int attempts = 0;
    absl::Duration backoff;
    absl::Time last_dispatch = absl::InfinitePast();
  };
  // Returns false when the job needs no more attention.
  bool Process(const std::string& job_id, Entry& entry, absl::Time now);
  void Retry(Entry& entry, absl::Time now);
  bool stopping();
  void Loop();

  JobManager* jobs_;
  DeviceMirror* mirror_;
  AccessRouter* router_;
  const TunnelTokenSigner* signer_;
  const Clock* clock_;
  const DispatcherOptions options_;

  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_JOB_DISPATCHER_H_
