#include "mgmt_server/request_validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::mgmt {
namespace {

bool HasControlCharacters(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

absl::Status ValidateText(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxTextBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDirection(relay::v1::Direction direction) {
  if (direction != relay::v1::DIRECTION_PRINT && direction != relay::v1::DIRECTION_SCAN &&
      direction != relay::v1::DIRECTION_BOX) {
    return absl::InvalidArgumentError(
        "direction must be DIRECTION_PRINT, DIRECTION_SCAN or DIRECTION_BOX");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (value.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxIdBytes, " bytes"));
  }
  if (HasControlCharacters(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " contains control characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateOpenSession(const relay::v1::OpenSessionRequest& request) {
  RETURN_IF_ERROR(ValidateId("gateway_id", request.gateway_id()));
  if (!request.lan_id().empty()) RETURN_IF_ERROR(ValidateId("lan_id", request.lan_id()));
  RETURN_IF_ERROR(ValidateText("lan_address", request.lan_address()));
  RETURN_IF_ERROR(ValidateText("mac_address", request.mac_address()));
  RETURN_IF_ERROR(ValidateText("wol_address", request.wol_address()));
  return ValidateText("software_version", request.software_version());
}

absl::Status ValidateDeviceList(const relay::v1::DeviceList& list) {
  RETURN_IF_ERROR(ValidateId("device_list.gateway_id", list.gateway_id()));
  if (list.version() < 0) {
    return absl::InvalidArgumentError("device_list.version is negative");
  }
  if (list.devices_size() > kMaxDevicesPerList) {
    return absl::ResourceExhaustedError(
        absl::StrCat("device list has ", list.devices_size(), " devices; the limit is ",
                     kMaxDevicesPerList));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < list.devices_size(); ++i) {
    const relay::v1::DeviceInfo& device = list.devices(i);
    std::string where = absl::StrCat("devices[", i, "]");
    RETURN_IF_ERROR(ValidateId(absl::StrCat(where, ".device_id"), device.device_id()));
    if (!seen.insert(device.device_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("device ", device.device_id(), " is listed twice"));
    }
    RETURN_IF_ERROR(ValidateText(absl::StrCat(where, ".name"), device.name()));
    RETURN_IF_ERROR(ValidateText(absl::StrCat(where, ".model"), device.model()));
    RETURN_IF_ERROR(ValidateText(absl::StrCat(where, ".address"), device.address()));
    RETURN_IF_ERROR(ValidateText(absl::StrCat(where, ".protocol"), device.protocol()));
    RETURN_IF_ERROR(
        ValidateText(absl::StrCat(where, ".discovered_by"), device.discovered_by()));
    if (device.capabilities().formats_size() > kMaxFormatsPerDevice) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " lists more than ", kMaxFormatsPerDevice, " formats"));
    }
    for (const std::string& format : device.capabilities().formats()) {
      RETURN_IF_ERROR(ValidateText(absl::StrCat(where, ".capabilities.formats"), format));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAccessRequest(const relay::v1::AccessRequest& request) {
  RETURN_IF_ERROR(ValidateId("job_id", request.job_id()));
  RETURN_IF_ERROR(ValidateId("device_id", request.device_id()));
  RETURN_IF_ERROR(ValidateDirection(request.direction()));
  if (request.tunnel_token().empty()) {
    return absl::InvalidArgumentError("tunnel_token is empty");
  }
  RETURN_IF_ERROR(ValidateText("tunnel_token", request.tunnel_token()));
  if (!request.user_id().empty())
    RETURN_IF_ERROR(ValidateId("user_id", request.user_id()));
  RETURN_IF_ERROR(ValidateText("document_name", request.document_name()));
  RETURN_IF_ERROR(ValidateText("content_type", request.content_type()));
  if (request.document_size() < 0) {
    return absl::InvalidArgumentError("document_size is negative");
  }
  if (request.direction() == relay::v1::DIRECTION_BOX) {
    RETURN_IF_ERROR(ValidateId("box.box_id", request.box().box_id()));
    RETURN_IF_ERROR(ValidateText("box.document_id", request.box().document_id()));
  }
  return absl::OkStatus();
}

absl::Status ValidateJobProgress(const relay::v1::JobProgress& progress) {
  RETURN_IF_ERROR(ValidateId("job_id", progress.job_id()));
  RETURN_IF_ERROR(ValidateId("gateway_id", progress.gateway_id()));
  if (!progress.device_id().empty()) {
    RETURN_IF_ERROR(ValidateId("device_id", progress.device_id()));
  }
  if (progress.state() == relay::v1::JOB_STATE_UNSPECIFIED ||
      !relay::v1::JobState_IsValid(progress.state())) {
    return absl::InvalidArgumentError("state is unspecified or unknown");
  }
  RETURN_IF_ERROR(ValidateText("reason", progress.reason()));
  return ValidateText("registration_change", progress.registration_change());
}

absl::Status ValidateUploadRequest(const relay::v1::UploadAccessRequest& request) {
  RETURN_IF_ERROR(ValidateId("scan_id", request.scan_id()));
  RETURN_IF_ERROR(ValidateId("gateway_id", request.gateway_id()));
  RETURN_IF_ERROR(ValidateId("device_id", request.device_id()));
  RETURN_IF_ERROR(ValidateId("user_id", request.user_id()));
  if (request.size() < 0) return absl::InvalidArgumentError("size is negative");
  return ValidateText("content_type", request.content_type());
}

}  // namespace relay::mgmt
