#include "mgmt_server/device_mirror.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"

namespace relay::mgmt {

DeviceMirror::DeviceMirror(CloudLink* link, DeviceMirrorOptions options)
    : link_(link), options_(options), backoff_(options.initial_backoff) {
  thread_ = std::thread([this] { Loop(); });
}

DeviceMirror::~DeviceMirror() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
}

void DeviceMirror::Enqueue(relay::v1::DeviceList list) {
  absl::MutexLock lock(&mu_);
  std::string gateway_id = list.gateway_id();
  Entry& entry = entries_[gateway_id];
  entry.latest = std::move(list);
  if (entry.in_flight) {
    entry.dirty = true;
  } else if (!entry.queued) {
    entry.queued = true;
    ready_.push_back(std::move(gateway_id));
  }
  changed_.Signal();
}

size_t DeviceMirror::undelivered() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void DeviceMirror::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    bool can_send = !ready_.empty() && in_flight_ < options_.max_in_flight;
    if (can_send && absl::Now() >= retry_at_) {
      std::string gateway_id = std::move(ready_.front());
      ready_.pop_front();
      Entry& entry = entries_[gateway_id];
      entry.queued = false;
      entry.in_flight = true;
      entry.dirty = false;
      ++in_flight_;
      relay::v1::DeviceList list = entry.latest;
      int64_t version = list.version();
      // The link may call back on this very thread: never hold mu_ across it.
      mu_.Unlock();
      link_->UpdateDevices(list, [this, gateway_id, version](absl::Status status) {
        OnSent(gateway_id, version, status);
      });
      mu_.Lock();
      continue;
    }
    absl::Time deadline = can_send ? retry_at_ : absl::InfiniteFuture();
    changed_.WaitWithDeadline(&mu_, deadline);
  }
}

void DeviceMirror::OnSent(const std::string& gateway_id, int64_t version,
                          const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  auto it = entries_.find(gateway_id);
  Entry& entry = it->second;
  entry.in_flight = false;
  if (status.ok()) {
    if (failing_) LogInfo("event=cloud_mirror_recovered");
    failing_ = false;
    backoff_ = options_.initial_backoff;
    retry_at_ = absl::InfinitePast();
    LogInfo("event=devices_mirrored gateway=%s version=%d devices=%d", gateway_id,
            version, entry.latest.devices_size());
    if (!entry.dirty) {
      entries_.erase(it);
      changed_.Signal();
      return;
    }
  } else {
    // One line per outage, not one per attempt.
    if (!failing_) {
      LogWarning("event=cloud_mirror_failed gateway=%s version=%d reason=\"%s\"",
                 gateway_id, version, status.ToString());
    }
    failing_ = true;
    retry_at_ = absl::Now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
  entry.dirty = false;
  if (!entry.queued) {
    entry.queued = true;
    ready_.push_back(gateway_id);
  }
  changed_.Signal();
}

}  // namespace relay::mgmt
