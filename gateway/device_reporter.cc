#include "gateway/device_reporter.h"

#include "common/logging.h"

namespace relay::gateway {

DeviceReporter::DeviceReporter(const DeviceList* list, MgmtClient* mgmt)
    : list_(list), mgmt_(mgmt) {}

void DeviceReporter::MaybeReport() {
  executor_.Post([this] { Report(/*force=*/false); });
}

void DeviceReporter::ReportAll() {
  executor_.Post([this] { Report(/*force=*/true); });
}

void DeviceReporter::Report(bool force) {
  relay::v1::DeviceList snapshot = list_->Snapshot();
  if (!force && snapshot.version() == last_reported_version_) return;
  absl::Status status = mgmt_->ReportDevices(snapshot);
  if (!status.ok()) {
    // Logged once per failure streak: the session being down is routine.
    if (!last_failed_) {
      LogWarning("event=report_devices_failed gateway=%s version=%d error=\"%s\"",
                 snapshot.gateway_id(), snapshot.version(), status.ToString());
    }
    last_failed_ = true;
    return;
  }
  last_failed_ = false;
  last_reported_version_ = snapshot.version();
  int registered = 0;
  for (const auto& d : snapshot.devices()) registered += d.registered() ? 1 : 0;
  LogInfo("event=devices_reported gateway=%s version=%d devices=%d registered=%d",
          snapshot.gateway_id(), snapshot.version(), snapshot.devices_size(), registered);
}

}  // namespace relay::gateway
