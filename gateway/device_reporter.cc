#include "gateway/device_reporter.h"

#include "common/logging.h"

namespace relay::gateway {

DeviceReporter::DeviceReporter(const DeviceList* list, MgmtClient* mgmt,
                               absl::Duration min_interval)
    : list_(list), mgmt_(mgmt), min_interval_(min_interval) {}

DeviceReporter::~DeviceReporter() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;  // a throttled report goes now; executor_ then drains
}

void DeviceReporter::MaybeReport() {
  {
    absl::MutexLock lock(&mu_);
    poked_ = true;  // a throttled wait re-checks for an urgent change
  }
  executor_.Post([this] { Report(/*force=*/false); });
}

void DeviceReporter::ReportAll() {
  executor_.Post([this] { Report(/*force=*/true); });
}

void DeviceReporter::Report(bool force) {
  if (!force && list_->version() == last_reported_version_) return;
  // Waits on the reporter's own thread; later requests queue behind and find
  // the list reported.
  const absl::Time deadline = last_report_time_ + min_interval_;
  while (!force && list_->content_version() <= last_reported_version_) {
    absl::MutexLock lock(&mu_);
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || poked_; };
    if (stopping_ || absl::Now() >= deadline) break;
    poked_ = false;
    if (!mu_.AwaitWithDeadline(absl::Condition(&wake), deadline)) break;
  }
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
  last_report_time_ = absl::Now();
  int registered = 0;
  for (const auto& d : snapshot.devices()) registered += d.registered() ? 1 : 0;
  LogInfo("event=devices_reported gateway=%s version=%d devices=%d registered=%d",
          snapshot.gateway_id(), snapshot.version(), snapshot.devices_size(), registered);
}

}  // namespace relay::gateway
