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

// Which gateways a user may use (their printers, their scans): implemented
// by the user directory (user_directory.h).
class GatewayAccess {
 public:
  virtual ~GatewayAccess() = default;
  virtual bool MayUseGateway(const std::string& user,
                             const std::string& gateway_id) const = 0;
};

// The cloud's copy of every gateway's device list (forwarded by the
// management server), and the rules that read it. Blocking (store I/O).
class DeviceMirror {
 public:
  DeviceMirror(CloudStore* store, const Clock* clock)
      : store_(store), clock_(clock) {}

  // Validates and keeps `list` unless an newer version is stored.
  absl::Status UpdateDevices(const relay::v1::DeviceList& list);
  // Set once, before use: restricts what `user` arguments below see. Without
  // it every user sees every gateway.
  void SetGatewayAccess(const GatewayAccess* access) { access_ = access; }

  // Every device of every gateway, by gateway then device id; with `user`,
  // only the gateways that user may use.
  absl::StatusOr<std::vector<relay::v1::Printer>> ListPrinters(
      const std::string& user = "");
  // The gateway to use for `device_id`. When several gateways list it, prefer
  // one that registered it and is online. NOT_FOUND "device X is not known to
  // any gateway".
  // With `user`, only among the gateways that user may use (another
  // tenant's device is as unknown as a missing one).
  absl::StatusOr<DeviceLocation> Locate(const std::string& device_id,
                                        const std::string& user = "");
  // OK if `gateway_id`'s list holds `device_id`; NOT_FOUND otherwise.
  absl::Status CheckDeviceOfGateway(const std::string& gateway_id,
                                    const std::string& device_id);
  // OK if `user` may use `gateway_id` (always, without SetGatewayAccess);
  // PERMISSION_DENIED otherwise.
  absl::Status CheckUserGateway(const std::string& user, const std::string& gateway_id) const;
  // What the cloud learned about a gateway's session (a routed request
  // succeeded, or the management server said it is offline).
  void SetGatewayOnline(const std::string& gateway_id, bool online);

 private:
  bool Visible(const std::string& user, const std::string& gateway_id) const {
    return user.empty() || access_ == nullptr || access_->MayUseGateway(user, gateway_id);
  }

  CloudStore* store_;
  const Clock* clock_;
  const GatewayAccess* access_ = nullptr;
};

// The message used wherever a device is missing from the mirror.
std::string UnknownDeviceMessage(const std::string& device_id);

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_DEVICE_MIRROR_H_
