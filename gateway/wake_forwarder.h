#ifndef RELAY_GATEWAY_WAKE_FORWARDER_H_
#define RELAY_GATEWAY_WAKE_FORWARDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/serial_executor.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::gateway {

// The substitute's side of related design 1: the management server sent a
// WakeForward down this gateway's session because the device's gateway
// sleeps. The forwarder sends a Wake-on-LAN magic packet to the sleeping
// gateway's MAC at its WoL address, then calls its
// GatewayLan.ForwardTunnelRequest (retrying until it answers, up to
// `timeout`). Addresses come from the management server: only loopback
// targets are accepted (CheckWakeTarget). Logs event=wake_forwarded (or
// event=wake_forward_failed) with job=, gateway= (this one), target=.
//
//   WakeForwarder forwarder("gw-a");
//   session handler: forwarder.Handle(event.wake_forward());   // non-blocking
class WakeForwarder {
 public:
  explicit WakeForwarder(std::string gateway_id, absl::Duration timeout = absl::Seconds(10))
      : gateway_id_(std::move(gateway_id)), timeout_(timeout) {}

  void Handle(const relay::v1::WakeForward& forward);

  // Blocking: one forward (tests; Handle runs it on the executor).
  absl::Status Forward(const relay::v1::WakeForward& forward);

 private:
  const std::string gateway_id_;
  const absl::Duration timeout_;
  SerialExecutor executor_{"wake-forward"};
};

// Sends one magic packet for `mac` to `host_port` (UDP). Loopback only.
absl::Status SendMagicPacket(const std::string& host_port, const std::string& mac);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_WAKE_FORWARDER_H_
