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

// Where an access request went.
struct RoutedAccess {
  // The device's gateway (it opens the tunnel).
  std::string gateway_id;
  // Not empty: that gateway had no session (asleep), and the request went
  // down the session of this other gateway of its LAN, which wakes it and
  // forwards the request (related design 1).
  std::string substitute_gateway_id;
};

// Routes an access request from the cloud to the gateway that manages the
// device: looks the device up in the management table and pushes a
// TunnelRequest down that gateway's session. Knows nothing of gRPC.
// When that gateway has no session (asleep in power-saving mode, or offline),
// another gateway of the same LAN that has one is chosen as the substitute
// (the first by gateway id) and gets a WakeForward instead: it wakes the
// sleeping gateway over the LAN and forwards the request to it.
//
//   AccessRouter router(&store, &registry);
//   absl::StatusOr<std::string> gateway_id = router.RequestAccess(request);
class AccessRouter {
 public:
  AccessRouter(ManagementStore* store, SessionRegistry* registry);

  // Blocking (store read): call it from an executor. Returns the gateway the
  // request is for (and the substitute it went through, if any).
  // INVALID_ARGUMENT for a malformed request, NOT_FOUND for a device no
  // gateway reported, UNAVAILABLE if its gateway has no session now and no
  // other gateway of its LAN has one.
  absl::StatusOr<RoutedAccess> RequestAccess(const relay::v1::AccessRequest& request);

  // The same, non-blocking, with the device information refreshed first when
  // the refresher decides so (related design 2). The work runs on
  // `executor`; `done` is called once, on the executor.
  void RequestAccessAsync(const relay::v1::AccessRequest& request,
                          SerialExecutor* executor,
                          std::function<void(absl::StatusOr<RoutedAccess>)> done);

  // Set once before serving; null (the default): no refresh before routing.
  void SetRefresher(DeviceInfoRefresher* refresher) { refresher_ = refresher; }

 private:
  // Pushes the TunnelRequest down the session of `location.gateway_id`.
  absl::StatusOr<RoutedAccess> Route(const relay::v1::AccessRequest& request,
                                     const DeviceLocation& location);
  // The gateway has no session: WakeForward down a substitute's session.
  // A gateway that never said where it can be woken (no LAN address) gets
  // `no_session` back unchanged.
  absl::StatusOr<RoutedAccess> RouteViaSubstitute(const relay::v1::AccessRequest& request,
                                                  const std::string& gateway_id,
                                                  const relay::v1::TunnelRequest& tunnel,
                                                  const absl::Status& no_session);

  ManagementStore* const store_;
  SessionRegistry* const registry_;
  DeviceInfoRefresher* refresher_ = nullptr;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_ACCESS_ROUTER_H_
