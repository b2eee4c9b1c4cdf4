// Discovery's socket half against an in-process UDP responder.

#include "gateway/discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/discovery_wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::testing::ElementsAre;

// Answers each probe with junk, a stale answer, a malformed device and two
// good devices (one with a wildcard address).
class FakeResponder {
 public:
  FakeResponder() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeResponder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  void Loop() {
    std::string buffer(kMaxDiscoveryDatagramBytes + 1, '\0');
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      auto probe = DecodeProbe(absl::string_view(buffer.data(), static_cast<size_t>(n)));
      if (!probe.ok()) continue;
      auto send = [&](const std::string& datagram) {
        ::sendto(fd_, datagram.data(), datagram.size(), 0,
                 reinterpret_cast<sockaddr*>(&from), len);
      };
      send("garbage");
      relay::v1::DiscoveryAnnouncement a;
      a.set_nonce(probe->nonce() + 1);  // stale
      a.mutable_device()->set_device_id("mfp-stale");
      a.mutable_device()->set_address("127.0.0.1:1");
      a.mutable_device()->set_protocol("mfp-sim");
      send(EncodeAnnouncement(a));
      a.set_nonce(probe->nonce());
      a.mutable_device()->set_device_id("bad id");  // malformed
      send(EncodeAnnouncement(a));
      a.mutable_device()->set_device_id("mfp-2");
      a.mutable_device()->set_address("0.0.0.0:50081");
      send(EncodeAnnouncement(a));
      a.mutable_device()->set_device_id("mfp-1");
      a.mutable_device()->set_address("127.0.0.1:50082");
      send(EncodeAnnouncement(a));
    }
  }
  int fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(DiscoveryTest, CollectsValidAnnouncementsAndStaticDevices) {
  FakeResponder responder;
  absl::Mutex mu;
  std::vector<std::vector<relay::v1::DeviceInfo>> rounds;
  Discovery::Options options;
  options.gateway_id = "gw-test";
  options.probe_targets = {absl::StrCat("127.0.0.1:", responder.port())};
  options.static_devices = {{"mfp-static", "127.0.0.1:50083"}};
  options.interval = absl::Hours(1);
  options.answer_window = absl::Milliseconds(300);
  Discovery discovery(options, SystemClock::Get(),
                      [&](std::vector<relay::v1::DeviceInfo> devices) {
                        absl::MutexLock lock(&mu);
                        rounds.push_back(std::move(devices));
                      });
  discovery.Start();
  {
    absl::MutexLock lock(&mu);
    auto one = [&] { return !rounds.empty(); };
    mu.Await(absl::Condition(&one));
  }
  discovery.Shutdown();
  absl::MutexLock lock(&mu);
  std::vector<std::string> ids;
  for (const auto& d : rounds[0]) ids.push_back(d.device_id());
  EXPECT_THAT(ids, ElementsAre("mfp-static", "mfp-2", "mfp-1"));
  EXPECT_EQ(rounds[0][1].address(), "127.0.0.1:50081");  // wildcard -> sender
  EXPECT_EQ(rounds[0][1].discovered_by(), "probe");
}

}  // namespace
}  // namespace relay::gateway
