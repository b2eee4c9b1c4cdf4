#include "tools/mfp_sim/discovery_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/discovery_wire.h"
#include "common/logging.h"

namespace relay::mfp_sim {
namespace {

absl::StatusOr<sockaddr_in> ParseIpv4(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", host_port, "\" is not ipv4:port (e.g. 0.0.0.0:50090)"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string host = host_port.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", host, "\" is not an IPv4 address"));
  }
  return addr;
}

std::string ToString(const sockaddr_in& addr) {
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
  return absl::StrCat(host, ":", ntohs(addr.sin_port));
}

// The local IPv4 address the kernel would use to reach `peer`, found by
// connecting a throwaway UDP socket (nothing is sent).
std::string LocalAddressTowards(const sockaddr_in& peer) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "127.0.0.1";
  std::string result = "127.0.0.1";
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof(peer)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    char host[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &local.sin_addr, host, sizeof(host));
    result = host;
  }
  close(fd);
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DiscoveryResponder>> DiscoveryResponder::Start(
    const std::string& listen, DeviceSource devices) {
  absl::StatusOr<sockaddr_in> addr = ParseIpv4(listen);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    std::string error = std::strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot bind UDP ", listen, ": ", error));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<DiscoveryResponder>(
      new DiscoveryResponder(fd, wake_fd, ntohs(bound.sin_port), std::move(devices)));
}

DiscoveryResponder::DiscoveryResponder(int fd, int wake_fd, int port,
                                       DeviceSource devices)
    : fd_(fd), wake_fd_(wake_fd), port_(port), devices_(std::move(devices)) {
  thread_ = std::thread([this] { Loop(); });
}

DiscoveryResponder::~DiscoveryResponder() {
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
  thread_.join();
  close(fd_);
  close(wake_fd_);
}

void DiscoveryResponder::WarnMalformed(const std::string& from,
                                       const std::string& reason) {
  absl::Time now = absl::Now();
  if (now - last_warning_ < absl::Seconds(10)) {
    ++suppressed_warnings_;
    return;
  }
  LogWarning("event=discovery_malformed from=%s reason=\"%s\" suppressed=%d", from,
             reason, suppressed_warnings_);
  last_warning_ = now;
  suppressed_warnings_ = 0;
}

void DiscoveryResponder::Loop() {
  std::string buffer(kMaxDiscoveryDatagramBytes + 1, '\0');
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      LogError("event=discovery_poll_failed reason=\"%s\"", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0,
                         reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n < 0) continue;
    std::string from = ToString(peer);
    absl::StatusOr<relay::v1::DiscoveryProbe> probe =
        DecodeProbe(absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!probe.ok()) {
      WarnMalformed(from, std::string(probe.status().message()));
      continue;
    }
    std::string local_host;  // Computed once per probe, if needed.
    int answered = 0;
    for (relay::v1::DeviceInfo& device : devices_()) {
      if (absl::StartsWith(device.address(), "0.0.0.0:")) {
        if (local_host.empty()) local_host = LocalAddressTowards(peer);
        device.set_address(absl::StrCat(local_host, device.address().substr(7)));
      }
      relay::v1::DiscoveryAnnouncement announcement;
      announcement.set_nonce(probe->nonce());
      *announcement.mutable_device() = std::move(device);
      std::string datagram = EncodeAnnouncement(announcement);
      if (datagram.size() > kMaxDiscoveryDatagramBytes) {
        LogWarning("event=discovery_announcement_too_large device=%s bytes=%d",
                   announcement.device().device_id(), static_cast<int>(datagram.size()));
        continue;
      }
      if (sendto(fd_, datagram.data(), datagram.size(), 0,
                 reinterpret_cast<const sockaddr*>(&peer), sizeof(peer)) >= 0) {
        ++answered;
      }
    }
    LogInfo("event=discovery_probe from=%s gateway=%s nonce=%d answered=%d", from,
            probe->gateway_id(), probe->nonce(), answered);
  }
}

}  // namespace relay::mfp_sim
