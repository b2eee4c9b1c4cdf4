#ifndef RELAY_GATEWAY_DISCOVERY_H_
#define RELAY_GATEWAY_DISCOVERY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/device_table.h"
#include "relay/v1/common.pb.h"

namespace relay::gateway {

// Finds the devices of the LAN: at start and every `interval`, sends one UDP
// DiscoveryProbe ("RLY1" + proto, common/discovery_wire.h) to each probe target
// (SO_BROADCAST, so a broadcast address works), collects the announcements
// that arrive within `answer_window` and carry the probe's nonce, and merges
// them with the static devices in a DeviceTable. After each round it calls
// `on_devices` with the device list in discovery order (on its own thread).
// Malformed or foreign datagrams are ignored (logged at debug level).
//
//   Discovery discovery(options, SystemClock::Get(),
//                       [&](std::vector<DeviceInfo> devices) { ... });
//   discovery.Start();
//   ...
//   discovery.Shutdown();
class Discovery {
 public:
  struct Options {
    std::string gateway_id;
    std::vector<std::string> probe_targets;  // host:port
    std::vector<StaticDevice> static_devices;
    absl::Duration interval = absl::Seconds(10);
    absl::Duration answer_window = absl::Milliseconds(500);
    // A probed device silent for this many rounds in a row is dropped.
    int max_missed_rounds = 3;
  };
  using DevicesCallback = std::function<void(std::vector<relay::v1::DeviceInfo>)>;
  // Optional: asks a static device for its details (MfpDevice.GetStatus).
  using StaticStatusFetcher =
      std::function<absl::StatusOr<relay::v1::DeviceInfo>(const StaticDevice&)>;

  Discovery(Options options, const Clock* clock, DevicesCallback on_devices,
            StaticStatusFetcher fetch_static = nullptr);
  ~Discovery();

  // Starts the probe thread; the first round runs at once.
  void Start();
  // Runs a round as soon as possible (e.g. an access names an unknown device).
  void ProbeNow();
  // Power saving (related design 1): no probes while paused; a round runs
  // at once when resumed.
  void SetPaused(bool paused);
  void Shutdown();

 private:
  void Loop();
  // One probe round: returns the sanitized announcements.
  std::vector<relay::v1::DeviceInfo> ProbeRound();

  const Options options_;
  const Clock* const clock_;
  DevicesCallback on_devices_;
  StaticStatusFetcher fetch_static_;
  DeviceTable table_;  // only touched by the probe thread

  absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool probe_now_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DISCOVERY_H_
