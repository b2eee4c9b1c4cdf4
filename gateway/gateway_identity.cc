#include "gateway/gateway_identity.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "gateway/ids.h"

namespace relay::gateway {
namespace {
constexpr char kGatewayIdKey[] = "gateway_id";
}  // namespace

absl::StatusOr<GatewayIdentity> LoadOrCreateGatewayIdentity(
    GatewayStore* store, const std::string& gateway_id_override,
    const std::string& lan_id) {
  if (!IsSafeId(lan_id, 64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lan id \"", lan_id,
        "\" is invalid: use 1-64 letters, digits, '.', '_', ':' or '-'"));
  }
  GatewayIdentity identity;
  identity.lan_id = lan_id;
  if (!gateway_id_override.empty()) {
    if (!IsSafeId(gateway_id_override, 64)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gateway id \"", gateway_id_override,
          "\" is invalid: use 1-64 letters, digits, '.', '_', ':' or '-'"));
    }
    identity.gateway_id = gateway_id_override;
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> saved, store->GetSetting(kGatewayIdKey));
    if (saved.has_value() && IsSafeId(*saved, 64)) return GatewayIdentity{*saved, lan_id};
    identity.gateway_id = absl::StrCat("gw-", RandomHex(8));
  }
  RETURN_IF_ERROR(store->PutSetting(kGatewayIdKey, identity.gateway_id));
  return identity;
}

}  // namespace relay::gateway
