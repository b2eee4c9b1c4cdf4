#include "gateway/device_list.h"

#include <map>
#include <utility>

namespace relay::gateway {
namespace {

using relay::v1::DeviceInfo;

// Equal apart from the version, last_seen_unix and, if `ignore_busy`,
// job_in_flight.
bool SameList(const relay::v1::DeviceList& a, const relay::v1::DeviceList& b,
              bool ignore_busy) {
  relay::v1::DeviceList x = a;
  relay::v1::DeviceList y = b;
  x.clear_version();
  y.clear_version();
  for (relay::v1::DeviceList* list : {&x, &y}) {
    for (DeviceInfo& d : *list->mutable_devices()) {
      d.clear_last_seen_unix();
      if (ignore_busy) d.clear_job_in_flight();
    }
  }
  return x.SerializeAsString() == y.SerializeAsString();
}

}  // namespace

DeviceList::DeviceList(std::string gateway_id, int nmax, int64_t initial_version)
    : gateway_id_(std::move(gateway_id)), nmax_(nmax) {
  list_.set_gateway_id(gateway_id_);
  list_.set_nmax(nmax_);
  list_.set_version(initial_version);
  content_version_ = initial_version;
}

bool DeviceList::SetDiscovered(std::vector<DeviceInfo> devices) {
  absl::MutexLock lock(&mu_);
  discovered_ = std::move(devices);
  return Rebuild();
}

bool DeviceList::SetRegistrations(uint64_t seq, std::vector<DeviceRegistration> rows) {
  absl::MutexLock lock(&mu_);
  if (seq < registrations_seq_) return false;
  registrations_seq_ = seq;
  registrations_ = std::move(rows);
  return Rebuild();
}

bool DeviceList::Rebuild() {
  std::map<std::string, const DeviceRegistration*> marks;
  for (const DeviceRegistration& r : registrations_) marks[r.device_id] = &r;
  relay::v1::DeviceList next;
  next.set_gateway_id(gateway_id_);
  next.set_nmax(nmax_);
  std::map<std::string, bool> listed;
  auto apply_marks = [&](DeviceInfo* d) {
    auto it = marks.find(d->device_id());
    if (it == marks.end()) return;
    d->set_registered(it->second->registered);
    d->set_job_in_flight(it->second->busy());
    d->set_is_gateway_host(it->second->self);
  };
  for (const DeviceInfo& found : discovered_) {
    if (listed[found.device_id()]) continue;
    listed[found.device_id()] = true;
    DeviceInfo* d = next.add_devices();
    *d = found;
    d->clear_registered();
    d->clear_job_in_flight();
    d->clear_is_gateway_host();
    apply_marks(d);
  }
  // Registered devices discovery does not list (the gateway's own device, or
  // one gone while a job on it runs) are listed too: they hold slots.
  for (const DeviceRegistration& r : registrations_) {
    if (listed[r.device_id] || !(r.registered || r.self)) continue;
    listed[r.device_id] = true;
    DeviceInfo* d = next.add_devices();
    d->set_device_id(r.device_id);
    d->set_name(r.device_id);
    d->set_status(r.present ? relay::v1::DEVICE_STATUS_UNSPECIFIED
                            : relay::v1::DEVICE_STATUS_OFFLINE);
    apply_marks(d);
  }
  if (SameList(next, list_, /*ignore_busy=*/false)) {
    // Keep the fresher last_seen values without a new version.
    next.set_version(list_.version());
    list_ = std::move(next);
    return false;
  }
  next.set_version(list_.version() + 1);
  if (!SameList(next, list_, /*ignore_busy=*/true)) content_version_ = next.version();
  list_ = std::move(next);
  return true;
}

relay::v1::DeviceList DeviceList::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return list_;
}

int64_t DeviceList::version() const {
  absl::MutexLock lock(&mu_);
  return list_.version();
}

int64_t DeviceList::content_version() const {
  absl::MutexLock lock(&mu_);
  return content_version_;
}

std::optional<DeviceInfo> DeviceList::Find(const std::string& device_id) const {
  absl::MutexLock lock(&mu_);
  for (const DeviceInfo& d : discovered_) {
    if (d.device_id() == device_id) return d;
  }
  return std::nullopt;
}

}  // namespace relay::gateway
