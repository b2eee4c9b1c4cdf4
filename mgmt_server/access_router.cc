#include "mgmt_server/access_router.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "mgmt_server/request_validation.h"

namespace relay::mgmt {

AccessRouter::AccessRouter(ManagementStore* store, SessionRegistry* registry)
    : store_(store), registry_(registry) {}

absl::StatusOr<std::string> AccessRouter::RequestAccess(
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
    std::function<void(absl::StatusOr<std::string>)> done) {
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

absl::StatusOr<std::string> AccessRouter::Route(const relay::v1::AccessRequest& request,
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
  absl::Status pushed = registry_->Push(location->gateway_id, std::move(event));
  if (!pushed.ok()) {
    LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
               request.job_id(), location->gateway_id, request.device_id(),
               pushed.ToString());
    return pushed;
  }
  LogInfo("event=access_routed job=%s gateway=%s device=%s direction=%s",
          request.job_id(), location->gateway_id, request.device_id(),
          relay::v1::Direction_Name(request.direction()));
  return location->gateway_id;
}

}  // namespace relay::mgmt
