#ifndef RELAY_TOOLS_MFP_SIM_DISCOVERY_RESPONDER_H_
#define RELAY_TOOLS_MFP_SIM_DISCOVERY_RESPONDER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "relay/v1/common.pb.h"

namespace relay::mfp_sim {

// Answers UDP discovery probes for the simulated LAN (datagram format:
// common/discovery_wire.h). Each valid probe gets one announcement per device,
// sent to the probe's source address. Malformed datagrams are ignored with a
// rate-limited warning.
//
//   auto responder = DiscoveryResponder::Start("0.0.0.0:50090", [&] { return Devices();
//   });
class DiscoveryResponder {
 public:
  // The devices to announce, with their MfpDevice address. An address whose
  // host is 0.0.0.0 is replaced, per probe, by the local address that routes
  // to the prober.
  using DeviceSource = std::function<std::vector<relay::v1::DeviceInfo>()>;

  // Binds `listen` ("ipv4:port"; port 0 picks one) with SO_REUSEADDR and
  // SO_BROADCAST and starts answering on a thread of its own.
  static absl::StatusOr<std::unique_ptr<DiscoveryResponder>> Start(
      const std::string& listen, DeviceSource devices);
  ~DiscoveryResponder();
  DiscoveryResponder(const DiscoveryResponder&) = delete;
  DiscoveryResponder& operator=(const DiscoveryResponder&) = delete;

  int port() const { return port_; }

 private:
  DiscoveryResponder(int fd, int wake_fd, int port, DeviceSource devices);
  void Loop();
  void WarnMalformed(const std::string& from, const std::string& reason);

  const int fd_;
  const int wake_fd_;
  const int port_;
  const DeviceSource devices_;
  // Rate limit of malformed-datagram warnings (touched by the loop only).
  absl::Time last_warning_ = absl::InfinitePast();
  int suppressed_warnings_ = 0;
  std::thread thread_;
};

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_DISCOVERY_RESPONDER_H_
