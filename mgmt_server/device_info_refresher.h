#ifndef RELAY_MGMT_SERVER_DEVICE_INFO_REFRESHER_H_
#define RELAY_MGMT_SERVER_DEVICE_INFO_REFRESHER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "mgmt_server/management_store.h"
#include "mgmt_server/refresh_policy.h"
#include "mgmt_server/session_registry.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

struct RefreshOptions {
  // false: no device information is fetched (neither at session start nor
  // before routing).
  bool enabled = true;
  // Stored information older than this is fetched again before routing.
  absl::Duration max_age = absl::Minutes(5);
  // How long routing waits for the gateway's answer; after it, the access is
  // routed with the information at hand.
  absl::Duration fetch_timeout = absl::Seconds(3);
};

// Device information, fresh when it matters (related design 2). The
// management server fetches it through the gateway's session (a
// DeviceInfoRequest event; the gateway answers with ReportDeviceInfo):
//   - when a session is established (every device of the gateway);
//   - before routing an access, when DecideRefresh says so (unknown device,
//     stale, last state a fault), waiting at most fetch_timeout.
// Answers are stored in the management table with their time. A refresh
// that shows the device gone fails the access (NOT_FOUND) with that reason.
// Knows nothing of gRPC; a thread of its own times out unanswered fetches.
//
//   DeviceInfoRefresher refresher(&store, &registry, &executor, clock, {});
//   refresher.Start();
//   session established:  refresher.OnSessionStarted("gw-1");
//   ReportDeviceInfo RPC:  refresher.OnReport(report, done);
//   routing (executor):    refresher.BeforeRouting(job, gw, device, proceed);
class DeviceInfoRefresher {
 public:
  DeviceInfoRefresher(ManagementStore* store, SessionRegistry* registry,
                      SerialExecutor* executor, Clock* clock, RefreshOptions options);
  ~DeviceInfoRefresher();

  void Start();
  void Stop();

  // Non-blocking: asks the gateway for every device's information.
  void OnSessionStarted(const std::string& gateway_id);

  // A gateway's answer. Non-blocking: stored on the executor, then `done`
  // (and the access waiting for it, if any, proceeds).
  void OnReport(const relay::v1::DeviceInfoReport& report,
                std::function<void(absl::Status)> done);

  // Call on the executor before routing an access to `device_id` behind
  // `gateway_id`. Calls `proceed` (on the executor, possibly inline) with OK
  // to route, or NOT_FOUND when the refreshed information shows the device
  // gone.
  void BeforeRouting(const std::string& job_id, const std::string& gateway_id,
                     const std::string& device_id,
                     std::function<void(absl::Status)> proceed);

  const RefreshOptions& options() const { return options_; }

 private:
  using Callback = std::function<void(std::optional<relay::v1::DeviceInfoReport>)>;
  struct Pending {
    std::string gateway_id;
    absl::Time deadline;
    Callback callback;  // runs on the executor
  };
  // Pushes a DeviceInfoRequest; `callback` (if any) gets the report or
  // nullopt on timeout / no session.
  void Fetch(const std::string& gateway_id, std::vector<std::string> device_ids,
             Callback callback);
  void TimerLoop();

  ManagementStore* const store_;
  SessionRegistry* const registry_;
  SerialExecutor* const executor_;
  Clock* const clock_;
  const RefreshOptions options_;

  absl::Mutex mu_;
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_DEVICE_INFO_REFRESHER_H_
