#include "gateway/wake_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "gateway/ids.h"
#include "gateway/wake_on_lan.h"
#include "grpcpp/client_context.h"
#include "relay/v1/lan.grpc.pb.h"

namespace relay::gateway {

absl::Status SendMagicPacket(const std::string& host_port, const std::string& mac_text) {
  RETURN_IF_ERROR(CheckWakeTarget(host_port));
  ASSIGN_OR_RETURN(MacAddress mac, ParseMac(mac_text));
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  int port = 0;
  absl::SimpleAtoi(absl::string_view(host_port).substr(colon + 1), &port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  std::string packet = EncodeMagicPacket(mac);
  ssize_t sent = ::sendto(fd, packet.data(), packet.size(), 0,
                          reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(packet.size())) {
    return absl::UnavailableError(
        absl::StrCat("cannot send the magic packet to ", host_port, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

void WakeForwarder::Handle(const relay::v1::WakeForward& forward) {
  executor_.Post([this, forward] { Forward(forward).IgnoreError(); });
}

absl::Status WakeForwarder::Forward(const relay::v1::WakeForward& forward) {
  const relay::v1::TunnelRequest& request = forward.tunnel_request();
  const std::string job = IsSafeId(request.job_id()) ? request.job_id() : "<invalid>";
  const std::string target =
      IsSafeId(forward.target_gateway_id()) ? forward.target_gateway_id() : "<invalid>";
  const std::string device = IsSafeId(request.device_id()) ? request.device_id() : "<invalid>";
  auto fail = [&](const absl::Status& status) {
    LogWarning("event=wake_forward_failed job=%s gateway=%s target=%s device=%s error=\"%s\"",
               job, gateway_id_, target, device, status.ToString());
    return status;
  };
  if (target == "<invalid>" || target == gateway_id_) {
    return fail(absl::InvalidArgumentError("the target gateway id is missing or this gateway"));
  }
  absl::Status lan_ok = CheckWakeTarget(forward.lan_address());
  if (!lan_ok.ok()) return fail(lan_ok);
  // No WoL address: UDP on the port of the LAN address (lan.proto).
  std::string wol = forward.wol_address().empty() ? forward.lan_address() : forward.wol_address();
  LogInfo("event=wake_forward job=%s gateway=%s target=%s device=%s lan=%s wol=%s mac=%s", job,
          gateway_id_, target, device, forward.lan_address(), wol, forward.mac_address());
  absl::Status magic = SendMagicPacket(wol, forward.mac_address());
  if (!magic.ok()) {
    // The forwarded request wakes it too; the packet is the LAN-level wake.
    LogWarning("event=magic_packet_failed job=%s gateway=%s target=%s error=\"%s\"", job,
               gateway_id_, target, magic.ToString());
  } else {
    LogInfo("event=magic_packet_sent job=%s gateway=%s target=%s wol=%s", job, gateway_id_,
            target, wol);
  }
  auto stub = relay::v1::GatewayLan::NewStub(
      CreateRelayChannel(forward.lan_address(), ChannelOptions()));
  relay::v1::ForwardTunnelRequestRequest call;
  call.set_from_gateway_id(gateway_id_);
  call.set_target_gateway_id(forward.target_gateway_id());
  *call.mutable_tunnel_request() = request;
  absl::Time deadline = absl::Now() + timeout_;
  int attempts = 0;
  grpc::Status status;
  while (true) {
    ++attempts;
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    relay::v1::PowerStateResponse response;
    status = stub->ForwardTunnelRequest(&context, call, &response);
    if (status.ok()) {
      LogInfo("event=wake_forwarded job=%s gateway=%s target=%s device=%s attempts=%d "
              "target_sleeping=%d",
              job, gateway_id_, target, device, attempts, response.sleeping() ? 1 : 0);
      return absl::OkStatus();
    }
    // A refusal (wrong target, malformed) will not change; a target still
    // starting up will.
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      break;
    }
    if (absl::Now() + absl::Milliseconds(200) >= deadline) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return fail(absl::Status(ToAbslStatus(status).code(),
                           absl::StrCat("gateway ", target, " at ", forward.lan_address(),
                                        " did not take the request after ", attempts,
                                        " attempts: ", status.error_message())));
}

}  // namespace relay::gateway
