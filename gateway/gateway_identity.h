#ifndef RELAY_GATEWAY_GATEWAY_IDENTITY_H_
#define RELAY_GATEWAY_GATEWAY_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "gateway/gateway_store.h"

namespace relay::gateway {

// Who this gateway is: a stable id (the management server's key for its
// session and its devices) and the LAN it serves (gateways sharing a LAN
// carry the same lan id).
struct GatewayIdentity {
  std::string gateway_id;
  std::string lan_id;
};

// Returns the identity, creating it on first start: `gateway_id_override`
// (--gateway_id) if set, else the id saved in `store`, else a new
// "gw-" + 16 random hex digits, saved for the next start. An override is
// saved too, so the id stays the same when the flag is later dropped.
// INVALID_ARGUMENT for an id or lan id outside the safe alphabet (ids.h).
absl::StatusOr<GatewayIdentity> LoadOrCreateGatewayIdentity(
    GatewayStore* store, const std::string& gateway_id_override,
    const std::string& lan_id);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_GATEWAY_IDENTITY_H_
