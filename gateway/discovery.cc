#include "gateway/discovery.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/discovery_wire.h"
#include "common/logging.h"

namespace relay::gateway {
namespace {

using relay::v1::DeviceInfo;

// Resolves an IPv4 "host:port" for sendto.
bool ResolveIpv4(const std::string& target, sockaddr_in* out) {
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = target.substr(0, colon);
  std::string port = target.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &result) != 0 || result == nullptr) {
    return false;
  }
  std::memcpy(out, result->ai_addr, sizeof(sockaddr_in));
  freeaddrinfo(result);
  return true;
}

}  // namespace

Discovery::Discovery(Options options, const Clock* clock, DevicesCallback on_devices,
                     StaticStatusFetcher fetch_static)
    : options_(std::move(options)),
      clock_(clock),
      on_devices_(std::move(on_devices)),
      fetch_static_(std::move(fetch_static)),
      table_(options_.static_devices, options_.max_missed_rounds) {}

Discovery::~Discovery() { Shutdown(); }

void Discovery::Start() { thread_ = std::thread([this] { Loop(); }); }

void Discovery::ProbeNow() {
  absl::MutexLock lock(&mu_);
  probe_now_ = true;
}

void Discovery::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Discovery::SetPaused(bool paused) {
  absl::MutexLock lock(&mu_);
  paused_ = paused;
  if (!paused) probe_now_ = true;
}

void Discovery::Loop() {
  bool first_round = true;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto running = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || !paused_;
      };
      mu_.Await(absl::Condition(&running));
      if (shutdown_) return;
    }
    std::vector<DeviceInfo> announced = ProbeRound();
    absl::Time now = clock_->Now();
    bool changed = table_.EndRound(announced, now);
    if (fetch_static_) {
      for (const StaticDevice& s : options_.static_devices) {
        absl::StatusOr<DeviceInfo> info = fetch_static_(s);
        if (info.ok()) {
          changed |= table_.UpdateStatic(*info, now);
        } else {
          Log(LogLevel::kDebug, "event=static_device_unreachable device=%s error=\"%s\"",
              s.device_id, info.status().message());
        }
      }
    }
    if (changed || first_round) {
      first_round = false;
      std::vector<std::string> ids = table_.DeviceIds();
      LogInfo("event=devices_discovered gateway=%s count=%d devices=%s",
              options_.gateway_id, ids.size(), absl::StrJoin(ids, ","));
    }
    on_devices_(table_.Devices());

    absl::MutexLock lock(&mu_);
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutdown_ || probe_now_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&wake), options_.interval);
    if (shutdown_) return;
    probe_now_ = false;
  }
}

std::vector<DeviceInfo> Discovery::ProbeRound() {
  std::vector<DeviceInfo> announced;
  if (options_.probe_targets.empty()) return announced;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    LogWarning("event=discovery_socket_failed gateway=%s error=\"%s\"",
               options_.gateway_id, std::strerror(errno));
    return announced;
  }
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &yes, sizeof(yes));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  any.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any));

  relay::v1::DiscoveryProbe probe;
  absl::BitGen gen;
  probe.set_nonce(absl::Uniform<uint64_t>(gen));
  probe.set_gateway_id(options_.gateway_id);
  std::string datagram = EncodeProbe(probe);
  for (const std::string& target : options_.probe_targets) {
    sockaddr_in addr{};
    if (!ResolveIpv4(target, &addr)) {
      LogWarning("event=probe_target_unresolved gateway=%s target=%s",
                 options_.gateway_id, target);
      continue;
    }
    if (::sendto(fd, datagram.data(), datagram.size(), 0,
                 reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      Log(LogLevel::kDebug, "event=probe_send_failed gateway=%s target=%s error=\"%s\"",
          options_.gateway_id, target, std::strerror(errno));
    }
  }

  absl::Time deadline = absl::Now() + options_.answer_window;
  std::string buffer(kMaxDiscoveryDatagramBytes + 1, '\0');
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) break;
    }
    pollfd pfd{fd, POLLIN, 0};
    int timeout_ms = static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 100));
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                           reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) continue;
    char ip[INET_ADDRSTRLEN] = {0};
    ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
    absl::StatusOr<relay::v1::DiscoveryAnnouncement> answer =
        DecodeAnnouncement(absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!answer.ok()) {
      Log(LogLevel::kDebug, "event=discovery_datagram_ignored from=%s error=\"%s\"", ip,
          answer.status().message());
      continue;
    }
    if (answer->nonce() != probe.nonce()) continue;  // a stale or foreign answer
    absl::StatusOr<DeviceInfo> device =
        SanitizeAnnouncedDevice(answer->device(), ip, clock_->Now());
    if (!device.ok()) {
      LogWarning("event=announcement_rejected gateway=%s from=%s error=\"%s\"",
                 options_.gateway_id, ip, device.status().message());
      continue;
    }
    announced.push_back(*std::move(device));
  }
  ::close(fd);
  return announced;
}

}  // namespace relay::gateway
