#ifndef RELAY_GATEWAY_DEVICE_INFO_RESPONDER_H_
#define RELAY_GATEWAY_DEVICE_INFO_RESPONDER_H_

#include "absl/time/time.h"
#include "common/serial_executor.h"
#include "gateway/device_driver.h"
#include "gateway/device_list.h"
#include "gateway/mgmt_client.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::gateway {

// Answers the management server's DeviceInfoRequest (related design 2): asks
// each requested device (every device of the device list when none is named)
// for its information right now through its driver (identity, capabilities,
// state, counters) and reports it with GatewaySession.ReportDeviceInfo.
// A device the list does not have, or that answers NOT_FOUND, is reported
// missing (gone); one that does not answer is reported OFFLINE.
// Handle() never blocks: the queries run on an executor of its own.
//
//   DeviceInfoResponder responder(gateway_id, &device_list, &drivers, &mgmt);
//   session handler: responder.Handle(request);
class DeviceInfoResponder {
 public:
  DeviceInfoResponder(std::string gateway_id, DeviceList* devices, DriverRegistry* drivers,
                      MgmtClient* mgmt)
      : gateway_id_(std::move(gateway_id)),
        devices_(devices),
        drivers_(drivers),
        mgmt_(mgmt) {}

  void Handle(const relay::v1::DeviceInfoRequest& request);

  // The report for `request` (blocking; tests).
  relay::v1::DeviceInfoReport Collect(const relay::v1::DeviceInfoRequest& request);

 private:
  const std::string gateway_id_;
  DeviceList* const devices_;
  DriverRegistry* const drivers_;
  MgmtClient* const mgmt_;
  SerialExecutor executor_{"device-info"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_INFO_RESPONDER_H_
