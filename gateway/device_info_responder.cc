#include "gateway/device_info_responder.h"

#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"

namespace relay::gateway {

relay::v1::DeviceInfoReport DeviceInfoResponder::Collect(
    const relay::v1::DeviceInfoRequest& request) {
  relay::v1::DeviceInfoReport report;
  report.set_request_id(request.request_id());
  report.set_gateway_id(gateway_id_);
  std::vector<std::string> ids(request.device_ids().begin(), request.device_ids().end());
  if (ids.empty()) {
    relay::v1::DeviceList list = devices_->Snapshot();
    for (const auto& device : list.devices()) ids.push_back(device.device_id());
  }
  for (const std::string& id : ids) {
    std::optional<relay::v1::DeviceInfo> known = devices_->Find(id);
    if (!known.has_value()) {
      report.add_missing_device_ids(id);
      continue;
    }
    relay::v1::DeviceInfo info = *known;
    DeviceDriver* driver = drivers_->ForDevice(info);
    absl::StatusOr<relay::v1::DeviceInfo> fresh =
        driver != nullptr ? driver->GetStatus(info)
                          : absl::StatusOr<relay::v1::DeviceInfo>(
                                absl::UnimplementedError("no driver"));
    if (fresh.ok()) {
      info.set_status(fresh->status());
      if (fresh->has_capabilities()) *info.mutable_capabilities() = fresh->capabilities();
      if (fresh->has_counters()) *info.mutable_counters() = fresh->counters();
      if (!fresh->name().empty()) info.set_name(fresh->name());
      if (!fresh->model().empty()) info.set_model(fresh->model());
      info.set_last_seen_unix(fresh->last_seen_unix());
    } else if (fresh.status().code() == absl::StatusCode::kNotFound) {
      report.add_missing_device_ids(id);
      continue;
    } else {
      info.set_status(relay::v1::DEVICE_STATUS_OFFLINE);
    }
    *report.add_devices() = std::move(info);
  }
  return report;
}

void DeviceInfoResponder::Handle(const relay::v1::DeviceInfoRequest& request) {
  executor_.Post([this, request] {
    relay::v1::DeviceInfoReport report = Collect(request);
    absl::Status sent = mgmt_->ReportDeviceInfo(report);
    LogInfo("event=device_info_reported gateway=%s request=%s devices=%d missing=%d "
            "result=\"%s\"",
            gateway_id_, request.request_id(), report.devices_size(),
            report.missing_device_ids_size(), sent.ok() ? "ok" : sent.ToString());
  });
}

}  // namespace relay::gateway
