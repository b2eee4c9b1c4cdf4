#ifndef RELAY_MGMT_SERVER_ACCESS_ROUTER_H_
#define RELAY_MGMT_SERVER_ACCESS_ROUTER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/serial_executor.h"
#include "mgmt_server/device_info_refresher.h"
#include "mgmt_server/management_store.h"
#include "mgmt_server/session_registry.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

// Routes an access request from the cloud to the gateway that manages the
// device: looks the device up in the management table and pushes a
// TunnelRequest down that gateway's session. Knows nothing of gRPC.
//
//   AccessRouter router(&store, &registry);
//   absl::StatusOr<std::string> gateway_id = router.RequestAccess(request);
class AccessRouter {
 public:
  AccessRouter(ManagementStore* store, SessionRegistry* registry);

  // Blocking (store read): call it from an executor. Returns the gateway the
  // request was pushed to. INVALID_ARGUMENT for a malformed request,
  // NOT_FOUND for a device no gateway reported, UNAVAILABLE if its gateway
  // has no session now.
  absl::StatusOr<std::string> RequestAccess(const relay::v1::AccessRequest& request);

  // The same, non-blocking, with the device information refreshed first when
  // the refresher decides so (related design 2). The work runs on
  // `executor`; `done` is called once, on the executor.
  void RequestAccessAsync(const relay::v1::AccessRequest& request,
                          SerialExecutor* executor,
                          std::function<void(absl::StatusOr<std::string>)> done);

  // Set once before serving; null (the default): no refresh before routing.
  void SetRefresher(DeviceInfoRefresher* refresher) { refresher_ = refresher; }

 private:
  // Pushes the TunnelRequest down the session of `location.gateway_id`.
  absl::StatusOr<std::string> Route(const relay::v1::AccessRequest& request,
                                    const DeviceLocation& location);

  ManagementStore* const store_;
  SessionRegistry* const registry_;
  DeviceInfoRefresher* refresher_ = nullptr;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_ACCESS_ROUTER_H_
