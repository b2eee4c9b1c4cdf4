#include "mgmt_server/access_router.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "mgmt_server/request_validation.h"

namespace relay::mgmt {

AccessRouter::AccessRouter(ManagementStore* store, SessionRegistry* registry)
    : store_(store), registry_(registry) {}

absl::StatusOr<RoutedAccess> AccessRouter::RequestAccess(
    const relay::v1::AccessRequest& request) {
  absl::Status valid = ValidateAccessRequest(request);
  if (!valid.ok()) {
    LogWarning("event=access_refused job=%s device=%s reason=\"%s\"", request.job_id(),
               request.device_id(), valid.ToString());
    return valid;
  }
  absl::StatusOr<DeviceLocation> location = store_->FindDevice(request.device_id());
  if (!location.ok()) {
    LogWarning("event=access_refused job=%s device=%s reason=\"%s\"", request.job_id(),
               request.device_id(), location.status().ToString());
    return location.status();
  }
  return Route(request, *location);
}

void AccessRouter::RequestAccessAsync(
    const relay::v1::AccessRequest& request, SerialExecutor* executor,
    std::function<void(absl::StatusOr<RoutedAccess>)> done) {
  executor->Post([this, request, done = std::move(done)]() mutable {
    if (refresher_ == nullptr || request.device_id().empty()) {
      done(RequestAccess(request));
      return;
    }
    absl::Status valid = ValidateAccessRequest(request);
    if (!valid.ok()) {
      done(RequestAccess(request));  // refuses and logs it
      return;
    }
    absl::StatusOr<DeviceLocation> location = store_->FindDevice(request.device_id());
    if (!location.ok()) {
      done(RequestAccess(request));
      return;
    }
    if (!registry_->HasSession(location->gateway_id)) {
      // The gateway sleeps (or is offline): it cannot answer a refresh, and
      // asking would only cost the refresh timeout. The request goes through
      // a substitute that wakes it (related design 1); the woken gateway
      // checks the device itself before it opens the tunnel.
      LogInfo("event=device_info_refresh_skipped job=%s gateway=%s device=%s "
              "reason=gateway_without_session",
              request.job_id(), location->gateway_id, request.device_id());
      done(RequestAccess(request));
      return;
    }
    refresher_->BeforeRouting(
        request.job_id(), location->gateway_id, request.device_id(),
        [this, request, done](absl::Status refreshed) {
          if (!refreshed.ok()) {
            LogWarning("event=access_refused job=%s device=%s reason=\"%s\"",
                       request.job_id(), request.device_id(), refreshed.ToString());
            done(refreshed);
            return;
          }
          // Looked up again: the refresh may have moved or removed the device.
          done(RequestAccess(request));
        });
  });
}

absl::StatusOr<RoutedAccess> AccessRouter::Route(const relay::v1::AccessRequest& request,
                                                 const DeviceLocation& found) {
  const DeviceLocation* location = &found;
  relay::v1::SessionEvent event;
  relay::v1::TunnelRequest* tunnel = event.mutable_tunnel_request();
  tunnel->set_job_id(request.job_id());
  tunnel->set_device_id(request.device_id());
  tunnel->set_direction(request.direction());
  tunnel->set_tunnel_token(request.tunnel_token());
  tunnel->set_user_id(request.user_id());
  tunnel->set_document_name(request.document_name());
  tunnel->set_document_size(request.document_size());
  tunnel->set_content_type(request.content_type());
  if (request.has_options()) *tunnel->mutable_options() = request.options();
  if (request.has_box()) *tunnel->mutable_box() = request.box();
  const relay::v1::TunnelRequest tunnel_copy = *tunnel;
  absl::Status pushed = registry_->Push(location->gateway_id, std::move(event));
  // UNAVAILABLE: no session, or one that is closing (a gateway going to
  // sleep closes its session): a substitute of its LAN may wake it.
  if (absl::IsUnavailable(pushed)) {
    return RouteViaSubstitute(request, location->gateway_id, tunnel_copy, pushed);
  }
  if (!pushed.ok()) {
    LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
               request.job_id(), location->gateway_id, request.device_id(),
               pushed.ToString());
    return pushed;
  }
  LogInfo("event=access_routed job=%s gateway=%s device=%s direction=%s",
          request.job_id(), location->gateway_id, request.device_id(),
          relay::v1::Direction_Name(request.direction()));
  return RoutedAccess{location->gateway_id, ""};
}

absl::StatusOr<RoutedAccess> AccessRouter::RouteViaSubstitute(
    const relay::v1::AccessRequest& request, const std::string& gateway_id,
    const relay::v1::TunnelRequest& tunnel, const absl::Status& no_session) {
  absl::StatusOr<GatewayRecord> target = store_->GetGateway(gateway_id);
  std::string lan_id = target.ok() ? target->lan_id : "";
  absl::StatusOr<std::vector<GatewayWakeInfo>> lan =
      lan_id.empty() ? absl::StatusOr<std::vector<GatewayWakeInfo>>(
                           std::vector<GatewayWakeInfo>())
                     : store_->ListLanGateways(lan_id);
  if (!lan.ok()) {
    LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
               request.job_id(), gateway_id, request.device_id(), lan.status().ToString());
    return lan.status();
  }
  const GatewayWakeInfo* wake = nullptr;
  for (const GatewayWakeInfo& g : *lan) {
    if (g.gateway_id == gateway_id) wake = &g;
  }
  if (wake == nullptr || wake->lan_address.empty()) {
    // Not a gateway that sleeps and can be woken: simply offline.
    LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
               request.job_id(), gateway_id, request.device_id(), no_session.ToString());
    return no_session;
  }
  // Deterministic: the first gateway of the LAN (by id) that has a session.
  for (const GatewayWakeInfo& substitute : *lan) {
    if (substitute.gateway_id == gateway_id ||
        !registry_->HasSession(substitute.gateway_id)) {
      continue;
    }
    relay::v1::SessionEvent event;
    relay::v1::WakeForward* forward = event.mutable_wake_forward();
    forward->set_target_gateway_id(gateway_id);
    forward->set_lan_address(wake->lan_address);
    forward->set_mac_address(wake->mac_address);
    forward->set_wol_address(wake->wol_address);
    *forward->mutable_tunnel_request() = tunnel;
    absl::Status pushed = registry_->Push(substitute.gateway_id, std::move(event));
    if (!pushed.ok()) continue;
    LogInfo("event=access_via_substitute job=%s gateway=%s substitute=%s device=%s "
            "direction=%s lan=%s",
            request.job_id(), gateway_id, substitute.gateway_id, request.device_id(),
            relay::v1::Direction_Name(request.direction()), lan_id);
    return RoutedAccess{gateway_id, substitute.gateway_id};
  }
  std::string reason = absl::StrCat("gateway ", gateway_id,
                                    " is asleep or offline and no other gateway of LAN ",
                                    lan_id, " has a session");
  LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
             request.job_id(), gateway_id, request.device_id(), reason);
  return absl::UnavailableError(reason);
}

}  // namespace relay::mgmt
