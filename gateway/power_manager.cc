#include "gateway/power_manager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace relay::gateway {

PowerManager::PowerManager(Options options, Hooks hooks, const Clock* clock)
    : options_(std::move(options)), hooks_(std::move(hooks)), clock_(clock) {
  absl::MutexLock lock(&mu_);
  last_activity_ = clock_->Now();
}

PowerManager::~PowerManager() { Shutdown(); }

absl::Status PowerManager::Start() {
  const std::string& listen = options_.wol_listen;
  size_t colon = listen.rfind(':');
  int port = -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1), &port) || port < 0 ||
      port > 65535 || inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--wol_listen=", listen, " is not IPv4 host:port"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return absl::UnavailableError(
        absl::StrCat("cannot bind --wol_listen=", listen, ": ", std::strerror(err)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  wol_address_ = absl::StrCat(listen.substr(0, colon), ":", ntohs(addr.sin_port));
  thread_ = std::thread([this] { Loop(); });
  LogInfo("event=power_manager_started gateway=%s mac=%s wol=%s power_save_after=%s",
          options_.gateway_id, FormatMac(options_.mac), wol_address_,
          absl::FormatDuration(options_.power_save_after));
  return absl::OkStatus();
}

void PowerManager::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string PowerManager::wol_address() const { return wol_address_; }

bool PowerManager::sleeping() const {
  absl::MutexLock lock(&mu_);
  return sleeping_;
}

void PowerManager::Touch() {
  absl::MutexLock lock(&mu_);
  last_activity_ = clock_->Now();
}

bool PowerManager::Sleep(const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (sleeping_ || shutdown_) return sleeping_;
    sleeping_ = true;
  }
  LogInfo("event=power_save_entered gateway=%s reason=%s wol=%s mac=%s", options_.gateway_id,
          reason, wol_address_, FormatMac(options_.mac));
  if (hooks_.enter) hooks_.enter();
  return true;
}

void PowerManager::Wake(const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    last_activity_ = clock_->Now();
    if (!sleeping_) return;
    sleeping_ = false;
  }
  LogInfo("event=power_save_left gateway=%s reason=%s", options_.gateway_id, reason);
  if (hooks_.leave) hooks_.leave();
}

void PowerManager::WakeThen(const std::string& reason, std::function<void()> then,
                            absl::Duration max_wait) {
  Wake(reason);
  after_wake_.Post([this, then = std::move(then), max_wait] {
    absl::Time deadline = absl::Now() + max_wait;
    while (hooks_.session_connected && !hooks_.session_connected() &&
           absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (shutdown_) return;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
    }
    then();
  });
}

void PowerManager::OnDatagram(const std::string& data, const std::string& from) {
  std::optional<MacAddress> mac = ParseMagicPacket(data);
  if (!mac.has_value()) {
    LogWarning("event=wol_datagram_ignored gateway=%s from=%s bytes=%d reason=not_a_magic_packet",
               options_.gateway_id, from, data.size());
    return;
  }
  if (*mac != options_.mac) {
    LogInfo("event=wol_datagram_ignored gateway=%s from=%s target_mac=%s reason=other_mac",
            options_.gateway_id, from, FormatMac(*mac));
    return;
  }
  LogInfo("event=magic_packet_received gateway=%s from=%s mac=%s sleeping=%d",
          options_.gateway_id, from, FormatMac(*mac), sleeping() ? 1 : 0);
  Wake("magic_packet");
}

void PowerManager::Loop() {
  char buffer[512];
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, 200);
    if (ready > 0 && (p.revents & POLLIN)) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n = ::recvfrom(fd_, buffer, sizeof(buffer), 0,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n >= 0) {
        char host[INET_ADDRSTRLEN] = {0};
        inet_ntop(AF_INET, &from.sin_addr, host, sizeof(host));
        OnDatagram(std::string(buffer, static_cast<size_t>(n)),
                   absl::StrCat(host, ":", ntohs(from.sin_port)));
      }
    }
    if (options_.power_save_after <= absl::ZeroDuration()) continue;
    bool idle;
    {
      absl::MutexLock lock(&mu_);
      idle = !sleeping_ && clock_->Now() - last_activity_ >= options_.power_save_after;
    }
    if (idle && hooks_.busy && hooks_.busy()) {
      Touch();  // a long access counts as activity
      idle = false;
    }
    if (idle) {
      Sleep(absl::StrCat("idle_", absl::FormatDuration(options_.power_save_after)));
    }
  }
}

}  // namespace relay::gateway
