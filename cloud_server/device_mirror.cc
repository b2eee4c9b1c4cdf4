#include "cloud_server/device_mirror.h"

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_util.h"

namespace relay::cloud {

std::string UnknownDeviceMessage(const std::string& device_id) {
  return absl::StrCat("device ", device_id,
                      " is not known to any gateway (see `relayctl printers`)");
}

absl::Status DeviceMirror::UpdateDevices(const relay::v1::DeviceList& list) {
  if (list.gateway_id().empty()) {
    return absl::InvalidArgumentError("device list has no gateway_id");
  }
  if (list.version() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("device list of gateway ", list.gateway_id(),
                     " has a negative version ", list.version()));
  }
  std::set<std::string> seen;
  for (const relay::v1::DeviceInfo& device : list.devices()) {
    if (device.device_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "device list of gateway ", list.gateway_id(), " has a device without id"));
    }
    if (!seen.insert(device.device_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("device list of gateway ", list.gateway_id(),
                       " lists device ", device.device_id(), " twice"));
    }
  }
  ASSIGN_OR_RETURN(bool kept, store_->PutDeviceList(list, clock_->Now()));
  if (kept) {
    LogInfo("event=device_list_updated gateway=%s version=%d devices=%d",
            list.gateway_id(), list.version(), list.devices_size());
  } else {
    LogInfo("event=device_list_ignored gateway=%s version=%d reason=older_version",
            list.gateway_id(), list.version());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<relay::v1::Printer>> DeviceMirror::ListPrinters(
    const std::string& user) {
  ASSIGN_OR_RETURN(std::vector<GatewayMirror> gateways, store_->ListGateways());
  std::vector<relay::v1::Printer> printers;
  for (const GatewayMirror& g : gateways) {
    if (!Visible(user, g.device_list.gateway_id())) continue;
    for (const relay::v1::DeviceInfo& device : g.device_list.devices()) {
      relay::v1::Printer& p = printers.emplace_back();
      p.set_gateway_id(g.device_list.gateway_id());
      *p.mutable_device() = device;
      p.set_gateway_online(g.online);
    }
  }
  return printers;
}

absl::StatusOr<DeviceLocation> DeviceMirror::Locate(const std::string& device_id,
                                                    const std::string& user) {
  ASSIGN_OR_RETURN(std::vector<GatewayMirror> gateways, store_->ListGateways());
  const GatewayMirror* best = nullptr;
  const relay::v1::DeviceInfo* best_device = nullptr;
  auto rank = [](const GatewayMirror& g, const relay::v1::DeviceInfo& d) {
    return std::make_tuple(d.registered() && g.online, g.online, d.registered());
  };
  for (const GatewayMirror& g : gateways) {  // Ordered by gateway id.
    if (!Visible(user, g.device_list.gateway_id())) continue;
    for (const relay::v1::DeviceInfo& d : g.device_list.devices()) {
      if (d.device_id() != device_id) continue;
      if (best == nullptr || rank(g, d) > rank(*best, *best_device)) {
        best = &g;
        best_device = &d;
      }
    }
  }
  if (best == nullptr) return absl::NotFoundError(UnknownDeviceMessage(device_id));
  return DeviceLocation{best->device_list.gateway_id(), *best_device, best->online};
}

absl::Status DeviceMirror::CheckDeviceOfGateway(const std::string& gateway_id,
                                                const std::string& device_id) {
  ASSIGN_OR_RETURN(std::vector<GatewayMirror> gateways, store_->ListGateways());
  for (const GatewayMirror& g : gateways) {
    if (g.device_list.gateway_id() != gateway_id) continue;
    for (const relay::v1::DeviceInfo& d : g.device_list.devices()) {
      if (d.device_id() == device_id) return absl::OkStatus();
    }
    return absl::NotFoundError(absl::StrCat("device ", device_id,
                                            " is not in the device list of gateway ",
                                            gateway_id));
  }
  return absl::NotFoundError(
      absl::StrCat("gateway ", gateway_id, " has not reported any device list"));
}

absl::Status DeviceMirror::CheckUserGateway(const std::string& user,
                                          const std::string& gateway_id) const {
  if (access_ == nullptr || access_->MayUseGateway(user, gateway_id)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "user ", user, " is unknown or may not use gateway ", gateway_id));
}

void DeviceMirror::SetGatewayOnline(const std::string& gateway_id, bool online) {
  absl::Status status = store_->SetGatewayOnline(gateway_id, online, clock_->Now());
  if (!status.ok()) {
    LogWarning("event=gateway_state_not_saved gateway=%s error=\"%s\"", gateway_id,
               status.ToString());
  }
}

}  // namespace relay::cloud
