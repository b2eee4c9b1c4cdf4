#ifndef RELAY_GATEWAY_DEVICE_LIST_H_
#define RELAY_GATEWAY_DEVICE_LIST_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/registration_controller.h"
#include "relay/v1/common.pb.h"

namespace relay::gateway {

// The gateway's device list (SPEC section 3): every device discovery found,
// with the registration control's marks (registered, job in flight, the
// gateway's own device). Versioned: the version goes up by one each time the
// list as reported changes (last_seen_unix alone is not a change), so the
// management server can ignore stale reports. Thread-safe; no I/O.
//
//   DeviceList list(identity.gateway_id, config.nmax, absl::ToUnixMicros(absl::Now()));
//   list.SetDiscovered(discovery_devices);
//   list.SetRegistrations(seq, manager.Snapshot());
//   relay::v1::DeviceList report = list.Snapshot();
class DeviceList {
 public:
  // Versions start after `initial_version`. Pass something that grows across
  // restarts (main uses the start time in microseconds) so the first report
  // of a restarted gateway is not taken for a stale one.
  DeviceList(std::string gateway_id, int nmax, int64_t initial_version = 0);

  // Both return true if the list changed (the version went up).
  bool SetDiscovered(std::vector<relay::v1::DeviceInfo> devices);
  // `seq` orders snapshots taken concurrently: an older one is ignored.
  bool SetRegistrations(uint64_t seq, std::vector<DeviceRegistration> rows);

  relay::v1::DeviceList Snapshot() const;
  int64_t version() const;
  // The version of the last change to anything but job_in_flight (devices,
  // addresses, states, registrations). The reporter sends such changes at
  // once and lets the busy flags wait for its throttle.
  int64_t content_version() const;
  // The device as last discovered (address, protocol), if known.
  std::optional<relay::v1::DeviceInfo> Find(const std::string& device_id) const;

 private:
  // Rebuilds list_ from the inputs; bumps the version if it differs.
  bool Rebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string gateway_id_;
  const int nmax_;
  mutable absl::Mutex mu_;
  std::vector<relay::v1::DeviceInfo> discovered_ ABSL_GUARDED_BY(mu_);
  std::vector<DeviceRegistration> registrations_ ABSL_GUARDED_BY(mu_);
  uint64_t registrations_seq_ ABSL_GUARDED_BY(mu_) = 0;
  relay::v1::DeviceList list_ ABSL_GUARDED_BY(mu_);
  int64_t content_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_LIST_H_
