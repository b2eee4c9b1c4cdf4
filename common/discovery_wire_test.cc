#include "common/discovery_wire.h"

#include <string>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

TEST(DiscoveryWireTest, ProbeRoundTrips) {
  relay::v1::DiscoveryProbe probe;
  probe.set_nonce(0xfeedfacecafebeefULL);
  probe.set_gateway_id("gw-1");
  std::string datagram = EncodeProbe(probe);
  EXPECT_EQ(datagram.substr(0, 4), "RLY1");
  auto decoded = DecodeProbe(datagram);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->nonce(), probe.nonce());
  EXPECT_EQ(decoded->gateway_id(), "gw-1");
}

TEST(DiscoveryWireTest, AnnouncementRoundTrips) {
  relay::v1::DiscoveryAnnouncement announcement;
  announcement.set_nonce(7);
  announcement.mutable_device()->set_device_id("mfp-201");
  announcement.mutable_device()->set_address("10.0.0.7:50081");
  announcement.mutable_device()->mutable_capabilities()->set_color(true);
  auto decoded = DecodeAnnouncement(EncodeAnnouncement(announcement));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->nonce(), 7u);
  EXPECT_EQ(decoded->device().device_id(), "mfp-201");
  EXPECT_EQ(decoded->device().address(), "10.0.0.7:50081");
  EXPECT_TRUE(decoded->device().capabilities().color());
}

TEST(DiscoveryWireTest, EmptyMessageAfterMagicIsValid) {
  auto decoded = DecodeProbe("RLY1");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->nonce(), 0u);
}

TEST(DiscoveryWireTest, RejectsMissingMagic) {
  relay::v1::DiscoveryProbe probe;
  probe.set_nonce(1);
  std::string body;
  probe.SerializeToString(&body);
  EXPECT_THAT(DecodeProbe(body), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeProbe(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeProbe("RLY"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeAnnouncement("RLY2xxxx"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DiscoveryWireTest, RejectsGarbageAfterMagic) {
  // 0xff is an invalid wire type / truncated varint.
  EXPECT_THAT(DecodeProbe(std::string("RLY1\xff\xff\xff", 7)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeAnnouncement(std::string("RLY1\x12\x50", 6)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DiscoveryWireTest, RejectsOversizedDatagram) {
  relay::v1::DiscoveryAnnouncement announcement;
  announcement.mutable_device()->set_name(std::string(kMaxDiscoveryDatagramBytes, 'x'));
  std::string datagram = EncodeAnnouncement(announcement);
  ASSERT_GT(datagram.size(), kMaxDiscoveryDatagramBytes);
  EXPECT_THAT(DecodeAnnouncement(datagram), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay
