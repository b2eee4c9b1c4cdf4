#ifndef RELAY_GATEWAY_DEVICE_REPORTER_H_
#define RELAY_GATEWAY_DEVICE_REPORTER_H_

#include <cstdint>
#include <string>

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
//   DeviceReporter reporter(&device_list, &mgmt);
//   if (device_list.SetDiscovered(devices)) reporter.MaybeReport();
//   ...session callback: reporter.ReportAll();
class DeviceReporter {
 public:
  DeviceReporter(const DeviceList* list, MgmtClient* mgmt);
  // Drains the queued reports, then stops.
  ~DeviceReporter() = default;

  void MaybeReport();
  void ReportAll();

 private:
  void Report(bool force);

  const DeviceList* const list_;
  MgmtClient* const mgmt_;
  // Only touched on executor_.
  int64_t last_reported_version_ = -1;
  bool last_failed_ = false;
  SerialExecutor executor_{"device-reporter"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_REPORTER_H_
