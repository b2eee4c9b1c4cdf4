#ifndef RELAY_MGMT_SERVER_DEVICE_MIRROR_H_
#define RELAY_MGMT_SERVER_DEVICE_MIRROR_H_

#include <deque>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mgmt_server/cloud_link.h"
#include "relay/v1/common.pb.h"

namespace relay::mgmt {

struct DeviceMirrorOptions {
  // Device lists sent to the cloud at the same time (one per gateway at most).
  int max_in_flight = 8;
  // After a failed send, wait this long before the next attempt, doubling up
  // to max_backoff; a success resets it.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
};

// Forwards each gateway's device list to the cloud server (CloudMirror.
// UpdateDevices) in the background. The cloud may be down: only the newest
// list of each gateway is kept, and it is resent with backoff until the cloud
// takes it. Memory is one list per gateway with a list not yet delivered.
//
//   DeviceMirror mirror(&cloud_link, {});
//   mirror.Enqueue(list);   // returns at once
class DeviceMirror {
 public:
  DeviceMirror(CloudLink* link, DeviceMirrorOptions options);
  // Stops sending and waits for the sends in flight to complete (the link's
  // deadline bounds that). Lists not delivered yet are dropped: the gateways
  // report again when they reconnect.
  ~DeviceMirror();
  DeviceMirror(const DeviceMirror&) = delete;
  DeviceMirror& operator=(const DeviceMirror&) = delete;

  // `list` replaces any undelivered list of the same gateway.
  void Enqueue(relay::v1::DeviceList list);

  // Gateways whose newest list the cloud has not confirmed yet.
  size_t undelivered() const;

 private:
  struct Entry {
    relay::v1::DeviceList latest;
    bool queued = false;     // In ready_.
    bool in_flight = false;  // A send is outstanding.
    bool dirty = false;      // A newer list arrived while in flight.
  };

  void Loop();
  void OnSent(const std::string& gateway_id, int64_t version, const absl::Status& status);

  CloudLink* const link_;
  const DeviceMirrorOptions options_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_DEVICE_MIRROR_H_
