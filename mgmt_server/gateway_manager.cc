#include "mgmt_server/gateway_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "mgmt_server/request_validation.h"

namespace relay::mgmt {

GatewayManager::GatewayManager(ManagementStore* store, SessionRegistry* registry,
                               DeviceMirror* mirror, CloudLink* cloud, Clock* clock)
    : store_(store), registry_(registry), mirror_(mirror), cloud_(cloud), clock_(clock) {}

absl::StatusOr<int64_t> GatewayManager::BeginSession(
    const relay::v1::OpenSessionRequest& request) {
  RETURN_IF_ERROR(ValidateOpenSession(request));
  ASSIGN_OR_RETURN(int64_t epoch,
                   store_->BeginSession(request.gateway_id(), request.lan_id(),
                                        request.software_version(), clock_->Now()));
  // Related design 1: how another gateway of the LAN wakes this one.
  GatewayWakeInfo wake;
  wake.gateway_id = request.gateway_id();
  wake.lan_id = request.lan_id();
  wake.lan_address = request.lan_address();
  wake.mac_address = request.mac_address();
  wake.wol_address = request.wol_address();
  absl::Status saved = store_->SetWakeInfo(wake);
  if (!saved.ok()) {
    LogError("event=store_error op=set_wake_info gateway=%s reason=\"%s\"",
             request.gateway_id(), saved.ToString());
  }
  return epoch;
}

void GatewayManager::EndSession(const std::string& gateway_id, int64_t epoch) {
  absl::Status status = store_->EndSession(gateway_id, epoch, clock_->Now());
  if (!status.ok()) {
    LogError("event=store_error op=end_session gateway=%s reason=\"%s\"", gateway_id,
             status.ToString());
  }
}

absl::Status GatewayManager::ReportDevices(const relay::v1::DeviceList& list) {
  RETURN_IF_ERROR(ValidateDeviceList(list));
  // A gateway must have opened a session once (now or before a restart of
  // this server) before its devices are believed.
  absl::StatusOr<DeviceListUpdate> update = store_->ReplaceDevices(list, clock_->Now());
  if (absl::IsNotFound(update.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gateway ", list.gateway_id(), " is not known: open a session first"));
  }
  RETURN_IF_ERROR(update.status());
  if (*update == DeviceListUpdate::kStale) {
    LogInfo("event=device_list_stale gateway=%s version=%d", list.gateway_id(),
            list.version());
    return absl::OkStatus();
  }
  LogInfo("event=device_list_stored gateway=%s version=%d devices=%d online=%d",
          list.gateway_id(), list.version(), list.devices_size(),
          registry_->HasSession(list.gateway_id()) ? 1 : 0);
  mirror_->Enqueue(list);
  return absl::OkStatus();
}

void GatewayManager::ReportJobProgress(const relay::v1::JobProgress& progress,
                                       std::function<void(absl::Status)> done) {
  absl::Status valid = ValidateJobProgress(progress);
  if (!valid.ok()) {
    done(valid);
    return;
  }
  LogInfo("event=job_progress job=%s gateway=%s device=%s state=%s", progress.job_id(),
          progress.gateway_id(), progress.device_id(),
          relay::v1::JobState_Name(progress.state()));
  cloud_->UpdateJobProgress(
      progress, [job_id = progress.job_id(), gateway_id = progress.gateway_id(),
                 done = std::move(done)](absl::Status status) {
        if (!status.ok()) {
          LogWarning("event=job_progress_forward_failed job=%s gateway=%s reason=\"%s\"",
                     job_id, gateway_id, status.ToString());
        }
        done(std::move(status));
      });
}

void GatewayManager::RequestUpload(
    const relay::v1::UploadAccessRequest& request,
    std::function<void(absl::StatusOr<std::string>)> done) {
  absl::Status valid = ValidateUploadRequest(request);
  if (!valid.ok()) {
    done(valid);
    return;
  }
  relay::v1::AuthorizeUploadRequest authorize;
  authorize.set_scan_id(request.scan_id());
  authorize.set_gateway_id(request.gateway_id());
  authorize.set_device_id(request.device_id());
  authorize.set_user_id(request.user_id());
  authorize.set_size(request.size());
  authorize.set_content_type(request.content_type());
  cloud_->AuthorizeUpload(
      authorize, [scan_id = request.scan_id(), gateway_id = request.gateway_id(),
                  device_id = request.device_id(),
                  done = std::move(done)](absl::StatusOr<std::string> token) {
        if (token.ok()) {
          LogInfo("event=upload_authorized job=%s gateway=%s device=%s", scan_id,
                  gateway_id, device_id);
        } else {
          LogWarning("event=upload_refused job=%s gateway=%s device=%s reason=\"%s\"",
                     scan_id, gateway_id, device_id, token.status().ToString());
        }
        done(std::move(token));
      });
}

}  // namespace relay::mgmt
