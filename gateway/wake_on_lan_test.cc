#include "gateway/wake_on_lan.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

TEST(WakeOnLanTest, ParsesAndFormatsMacs) {
  auto mac = ParseMac("02:1A:2b:3c:4d:5E");
  ASSERT_THAT(mac, IsOk());
  EXPECT_EQ(FormatMac(*mac), "02:1a:2b:3c:4d:5e");
  auto dashed = ParseMac("02-1a-2b-3c-4d-5e");
  ASSERT_THAT(dashed, IsOk());
  EXPECT_EQ(*dashed, *mac);
  EXPECT_THAT(ParseMac("02:1a:2b:3c:4d"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMac("02:1a:2b:3c:4d:5g"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMac("2:1a:2b:3c:4d:5e"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMac(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(WakeOnLanTest, RandomMacIsLocallyAdministeredUnicast) {
  for (int i = 0; i < 50; ++i) {
    MacAddress mac = RandomLocalMac();
    EXPECT_EQ(mac[0] & 0x03, 0x02);
  }
}

TEST(WakeOnLanTest, MagicPacketRoundTrip) {
  MacAddress mac = *ParseMac("02:00:5e:10:20:30");
  std::string packet = EncodeMagicPacket(mac);
  ASSERT_EQ(packet.size(), kMagicPacketBytes);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(static_cast<uint8_t>(packet[i]), 0xff);
  EXPECT_EQ(static_cast<uint8_t>(packet[6]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(packet[101]), 0x30);
  auto parsed = ParseMagicPacket(packet);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, mac);
  // A SecureOn password after the 16 repetitions is allowed (and ignored).
  EXPECT_TRUE(ParseMagicPacket(packet + "abcd").has_value());
  EXPECT_TRUE(ParseMagicPacket(packet + "abcdef").has_value());
}

TEST(WakeOnLanTest, RejectsWhatIsNotAMagicPacket) {
  MacAddress mac = *ParseMac("02:00:5e:10:20:30");
  std::string packet = EncodeMagicPacket(mac);
  EXPECT_FALSE(ParseMagicPacket("").has_value());
  EXPECT_FALSE(ParseMagicPacket(packet.substr(0, 101)).has_value());
  EXPECT_FALSE(ParseMagicPacket(packet + "x").has_value());
  std::string bad_sync = packet;
  bad_sync[3] = '\x00';
  EXPECT_FALSE(ParseMagicPacket(bad_sync).has_value());
  std::string bad_repeat = packet;
  bad_repeat[6 + 15 * 6 + 5] = '\x31';  // last repetition differs
  EXPECT_FALSE(ParseMagicPacket(bad_repeat).has_value());
}

TEST(WakeOnLanTest, OnlyLoopbackTargetsAreAllowed) {
  EXPECT_THAT(CheckWakeTarget("127.0.0.1:50079"), IsOk());
  EXPECT_THAT(CheckWakeTarget("127.1.2.3:9"), IsOk());
  EXPECT_THAT(CheckWakeTarget("localhost:9"), IsOk());
  EXPECT_THAT(CheckWakeTarget("10.0.0.7:9"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckWakeTarget("255.255.255.255:9"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckWakeTarget("example.com:9"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckWakeTarget("128.0.0.1:9"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckWakeTarget("127.0.0.1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckWakeTarget("127.0.0.1:0"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckWakeTarget("127.0.0.1:70000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckWakeTarget(":9"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay::gateway
