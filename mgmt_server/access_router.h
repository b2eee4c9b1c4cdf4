#ifndef RELAY_MGMT_SERVER_ACCESS_ROUTER_H_
#define RELAY_MGMT_SERVER_ACCESS_ROUTER_H_

#include <string>

#include "absl/status/statusor.h"
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

 private:
  ManagementStore* const store_;
  SessionRegistry* const registry_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_ACCESS_ROUTER_H_
