#ifndef RELAY_CLOUD_SERVER_DEVICE_MIRROR_H_
#define RELAY_CLOUD_SERVER_DEVICE_MIRROR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cloud_server/cloud_store.h"
#include "common/clock.h"
#include "relay/v1/cloud.pb.h"

namespace relay::cloud {

// Where a device can be reached: the gateway that lists it.
struct DeviceLocation {
  std::string gateway_id;
  relay::v1::DeviceInfo device;
  bool gateway_online = false;
};

// The cloud's copy of every gateway's device list (forwarded by the
// management server), and the rules that read it. Blocking (store I/O).
class DeviceMirror {
 public:
  DeviceMirror(CloudStore* store, const Clock* clock)
      : store_(store), clock_(clock) {}

  // Validates and keeps `list` unless an newer version is stored.
  absl::Status UpdateDevices(const relay::v1::DeviceList& list);
  // Every device of every gateway, by gateway then device id.
  absl::StatusOr<std::vector<relay::v1::Printer>> ListPrinters();
  // The gateway to use for `device_id`. When several gateways list it, prefer
  // one that registered it and is online. NOT_FOUND "device X is not known to
  // any gateway".
  absl::StatusOr<DeviceLocation> Locate(const std::string& device_id);
  // OK if `gateway_id`'s list holds `device_id`; NOT_FOUND otherwise.
  absl::Status CheckDeviceOfGateway(const std::string& gateway_id,
                                    const std::string& device_id);
  // What the cloud learned about a gateway's session (a routed request
  // succeeded, or the management server said it is offline).
  void SetGatewayOnline(const std::string& gateway_id, bool online);

 private:
  CloudStore* store_;
  const Clock* clock_;
};

// The message used wherever a device is missing from the mirror.
std::string UnknownDeviceMessage(const std::string& device_id);

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_DEVICE_MIRROR_H_
