#ifndef RELAY_CLOUD_SERVER_ACCESS_ROUTER_H_
#define RELAY_CLOUD_SERVER_ACCESS_ROUTER_H_

#include <string>

#include "absl/status/statusor.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::cloud {

// The management server's AccessRouter as the dispatcher sees it; tests
// replace it (cloud_server/testing/fake_access_router.h).
class AccessRouter {
 public:
  struct Reply {
    // OK: the gateway the request was pushed to. UNAVAILABLE: the gateway has
    // no session, or the management server could not be reached (see
    // `server_answered`). NOT_FOUND: no gateway knows the device.
    absl::StatusOr<std::string> gateway_id;
    // The status came from the management server itself (not from a failed
    // connection): an UNAVAILABLE then means the gateway is offline.
    bool server_answered = false;
    // OK: the device's gateway was asleep and the request went down this
    // other gateway's session (related design 1).
    std::string substitute_gateway_id;
  };

  virtual ~AccessRouter() = default;
  // Blocks until the management server answers (bounded by a deadline).
  virtual Reply RequestAccess(const relay::v1::AccessRequest& request) = 0;
  // Cancels a call in progress and makes later calls fail at once.
  virtual void Shutdown() {}
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_ACCESS_ROUTER_H_
