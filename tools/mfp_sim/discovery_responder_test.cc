#include "tools/mfp_sim/discovery_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <set>
#include <string>

#include "common/discovery_wire.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay::mfp_sim {
namespace {

using ::relay::testing::IsOk;

class DiscoveryResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto responder = DiscoveryResponder::Start("127.0.0.1:0", [] {
      std::vector<relay::v1::DeviceInfo> devices(2);
      devices[0].set_device_id("mfp-201");
      devices[0].set_address("0.0.0.0:50081");
      devices[1].set_device_id("mfp-202");
      devices[1].set_address("10.1.2.3:50081");
      return devices;
    });
    ASSERT_THAT(responder, IsOk());
    responder_ = std::move(*responder);
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd_, 0);
    // A safety net so a broken responder fails the test instead of hanging it.
    timeval timeout{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    to_.sin_family = AF_INET;
    to_.sin_port = htons(static_cast<uint16_t>(responder_->port()));
    inet_pton(AF_INET, "127.0.0.1", &to_.sin_addr);
  }
  void TearDown() override { close(fd_); }

  void SendRaw(const std::string& datagram) {
    ASSERT_EQ(sendto(fd_, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to_), sizeof(to_)),
              static_cast<ssize_t>(datagram.size()));
  }

  std::string Receive() {
    std::string buffer(kMaxDiscoveryDatagramBytes + 1, '\0');
    ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::string();
    buffer.resize(static_cast<size_t>(n));
    return buffer;
  }

  std::unique_ptr<DiscoveryResponder> responder_;
  int fd_ = -1;
  sockaddr_in to_{};
};

TEST_F(DiscoveryResponderTest, AnswersAProbeWithOneAnnouncementPerDevice) {
  // Malformed datagrams first: ignored, no answer.
  SendRaw("hello");
  SendRaw(std::string("RLY1\xff\xff", 6));
  relay::v1::DiscoveryProbe probe;
  probe.set_nonce(42);
  probe.set_gateway_id("gw-1");
  SendRaw(EncodeProbe(probe));

  std::set<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto announcement = DecodeAnnouncement(Receive());
    ASSERT_THAT(announcement, IsOk());
    EXPECT_EQ(announcement->nonce(), 42u);
    ids.insert(announcement->device().device_id());
    if (announcement->device().device_id() == "mfp-201") {
      // The wildcard host became the address that reaches the prober.
      EXPECT_EQ(announcement->device().address(), "127.0.0.1:50081");
    } else {
      EXPECT_EQ(announcement->device().address(), "10.1.2.3:50081");
    }
  }
  EXPECT_EQ(ids, (std::set<std::string>{"mfp-201", "mfp-202"}));

  // Still answering after the garbage.
  probe.set_nonce(43);
  SendRaw(EncodeProbe(probe));
  auto next = DecodeAnnouncement(Receive());
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->nonce(), 43u);
}

TEST(DiscoveryResponderStartTest, RejectsBadAddresses) {
  auto noop = [] { return std::vector<relay::v1::DeviceInfo>(); };
  EXPECT_FALSE(DiscoveryResponder::Start("nonsense", noop).ok());
  EXPECT_FALSE(DiscoveryResponder::Start("localhost:1", noop).ok());
  EXPECT_FALSE(DiscoveryResponder::Start("127.0.0.1:70000", noop).ok());
}

}  // namespace
}  // namespace relay::mfp_sim
