#ifndef RELAY_GATEWAY_DEVICE_REPORTER_H_
#define RELAY_GATEWAY_DEVICE_REPORTER_H_

#include <cstdint>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/serial_executor.h"
#include "gateway/device_list.h"
#include "gateway/mgmt_client.h"

namespace relay::gateway {

// Sends the device list to the management server (GatewaySession.ReportDevices)
// when its version moved past the last one reported, and unconditionally on
// every new session. Calls are queued on an executor of its own, so callers
// (gRPC callbacks included) never block; bursts coalesce into one report of
// the latest list. A failed report is retried on the next MaybeReport (every
// discovery round) or the next session.
//
// A change that only flips job_in_flight flags is throttled to one report per
// `min_interval`: it waits for the end of the interval and goes with whatever
// else changed meanwhile. Every job flips its device's flag twice, and each
// report costs a durable write at the management server and at the cloud:
// without the throttle a busy gateway would send two reports per job. Any
// other change (devices, states, registrations) is reported at once, and takes
// the waiting flags along.
//
//   DeviceReporter reporter(&device_list, &mgmt);
//   if (device_list.SetDiscovered(devices)) reporter.MaybeReport();
//   ...session callback: reporter.ReportAll();
class DeviceReporter {
 public:
  DeviceReporter(const DeviceList* list, MgmtClient* mgmt,
                 absl::Duration min_interval = absl::ZeroDuration());
  // Sends what a throttle holds back at once, drains the queue, then stops.
  ~DeviceReporter();

  void MaybeReport();
  void ReportAll();

 private:
  void Report(bool force);

  const DeviceList* const list_;
  MgmtClient* const mgmt_;
  const absl::Duration min_interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;  // MaybeReport called since the wait began
  // Only touched on executor_.
  int64_t last_reported_version_ = -1;
  absl::Time last_report_time_ = absl::InfinitePast();
  bool last_failed_ = false;
  SerialExecutor executor_{"device-reporter"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_REPORTER_H_
