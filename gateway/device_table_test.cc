#include "gateway/device_table.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using relay::testing::StatusIs;
using relay::v1::DeviceInfo;
using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

DeviceInfo Announced(const std::string& id, const std::string& address = "10.0.0.5:50081") {
  DeviceInfo d;
  d.set_device_id(id);
  d.set_name("Printer " + id);
  d.set_model("SimMFP 3000");
  d.set_address(address);
  d.set_protocol("mfp-sim");
  d.mutable_capabilities()->set_print(true);
  d.mutable_capabilities()->add_formats("application/pdf");
  d.set_status(relay::v1::DEVICE_STATUS_IDLE);
  return d;
}

DeviceInfo Clean(const DeviceInfo& d) {
  absl::StatusOr<DeviceInfo> clean = SanitizeAnnouncedDevice(d, "10.0.0.5", kNow);
  EXPECT_THAT(clean, IsOk());
  return *clean;
}

TEST(ParseStaticDevicesTest, ParsesEntriesInOrder) {
  auto devices = ParseStaticDevices("mfp-1=10.0.0.1:50081, mfp-2=printer.lan:9000");
  ASSERT_THAT(devices, IsOk());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].device_id, "mfp-1");
  EXPECT_EQ((*devices)[0].address, "10.0.0.1:50081");
  EXPECT_EQ((*devices)[1].address, "printer.lan:9000");
  EXPECT_THAT(ParseStaticDevices(""), IsOk());
}

TEST(ParseStaticDevicesTest, RejectsMalformedEntries) {
  EXPECT_THAT(ParseStaticDevices("mfp-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseStaticDevices("mfp-1=10.0.0.1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseStaticDevices("mfp-1=10.0.0.1:0"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseStaticDevices("mfp-1=10.0.0.1:70000"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseStaticDevices("../x=10.0.0.1:1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseStaticDevices("a=h:1,a=h:2"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseHostPortListTest, AcceptsIpv4NamesAndBracketedIpv6) {
  auto targets = ParseHostPortList("127.255.255.255:50090,[::1]:50090,lan:1");
  ASSERT_THAT(targets, IsOk());
  EXPECT_THAT(*targets, ElementsAre("127.255.255.255:50090", "[::1]:50090", "lan:1"));
  EXPECT_THAT(ParseHostPortList("::1:50090"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPortList("host:port"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SanitizeAnnouncedDeviceTest, KeepsWhatTheDeviceSaysAndClearsTheGatewaysMarks) {
  DeviceInfo d = Announced("mfp-201");
  d.set_registered(true);
  d.set_is_gateway_host(true);
  d.set_job_in_flight(true);
  d.set_discovered_by("static");
  DeviceInfo clean = Clean(d);
  EXPECT_EQ(clean.device_id(), "mfp-201");
  EXPECT_EQ(clean.name(), "Printer mfp-201");
  EXPECT_EQ(clean.address(), "10.0.0.5:50081");
  EXPECT_FALSE(clean.registered());
  EXPECT_FALSE(clean.is_gateway_host());
  EXPECT_FALSE(clean.job_in_flight());
  EXPECT_EQ(clean.discovered_by(), "probe");
  EXPECT_EQ(clean.last_seen_unix(), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(clean.capabilities().formats(0), "application/pdf");
}

TEST(SanitizeAnnouncedDeviceTest, ReplacesAWildcardHostWithTheSender) {
  DeviceInfo clean = Clean(Announced("mfp-201", "0.0.0.0:50081"));
  EXPECT_EQ(clean.address(), "10.0.0.5:50081");
}

TEST(SanitizeAnnouncedDeviceTest, MapsAnUnknownStatusToUnspecified) {
  DeviceInfo d = Announced("mfp-201");
  d.set_status(static_cast<relay::v1::DeviceStatus>(99));
  EXPECT_EQ(Clean(d).status(), relay::v1::DEVICE_STATUS_UNSPECIFIED);
}

TEST(SanitizeAnnouncedDeviceTest, RejectsMalformedAnnouncements) {
  auto rejects = [](DeviceInfo d) {
    return SanitizeAnnouncedDevice(d, "10.0.0.5", kNow).status().code() ==
           absl::StatusCode::kInvalidArgument;
  };
  DeviceInfo d = Announced("");
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp 1");
  EXPECT_TRUE(rejects(d));
  d = Announced(std::string(65, 'a'));
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp-1", "no-port");
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp-1");
  d.set_protocol("telnet");
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp-1");
  d.set_name("evil\nevent=forged");
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp-1");
  d.set_model(std::string(500, 'm'));
  EXPECT_TRUE(rejects(d));
  d = Announced("mfp-1");
  for (int i = 0; i < 40; ++i) d.mutable_capabilities()->add_formats("x/y");
  EXPECT_TRUE(rejects(d));
}

TEST(DeviceTableTest, StaticDevicesComeFirstThenProbedInOrderFirstSeen) {
  DeviceTable table({{"mfp-s", "10.0.0.9:50081"}}, 3);
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-s"));
  EXPECT_EQ(table.Devices()[0].discovered_by(), "static");

  EXPECT_TRUE(table.EndRound({Clean(Announced("mfp-2")), Clean(Announced("mfp-1"))}, kNow));
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-s", "mfp-2", "mfp-1"));
  // A later round in another order keeps the discovery order.
  EXPECT_FALSE(table.EndRound({Clean(Announced("mfp-1")), Clean(Announced("mfp-2"))},
                              kNow + absl::Seconds(10)));
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-s", "mfp-2", "mfp-1"));
  EXPECT_EQ(table.Devices()[1].last_seen_unix(), absl::ToUnixSeconds(kNow) + 10);
}

TEST(DeviceTableTest, DropsADeviceAfterMissedRoundsAndAppendsItWhenItReturns) {
  DeviceTable table({}, 2);
  table.EndRound({Clean(Announced("mfp-1")), Clean(Announced("mfp-2"))}, kNow);
  EXPECT_FALSE(table.EndRound({Clean(Announced("mfp-2"))}, kNow));  // missed once
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-1", "mfp-2"));
  EXPECT_TRUE(table.EndRound({Clean(Announced("mfp-2"))}, kNow));  // missed twice: drop
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-2"));
  EXPECT_TRUE(table.EndRound({Clean(Announced("mfp-1")), Clean(Announced("mfp-2"))}, kNow));
  EXPECT_THAT(table.DeviceIds(), ElementsAre("mfp-2", "mfp-1"));
}

TEST(DeviceTableTest, ReportsAChangeOfInformation) {
  DeviceTable table({}, 3);
  table.EndRound({Clean(Announced("mfp-1"))}, kNow);
  DeviceInfo busy = Clean(Announced("mfp-1"));
  busy.set_status(relay::v1::DEVICE_STATUS_PAPER_OUT);
  EXPECT_TRUE(table.EndRound({busy}, kNow));
  EXPECT_EQ(table.Devices()[0].status(), relay::v1::DEVICE_STATUS_PAPER_OUT);
}

TEST(DeviceTableTest, StaticDevicesNeverDropAndIgnoreAnnouncements) {
  DeviceTable table({{"mfp-s", "10.0.0.9:50081"}}, 1);
  table.EndRound({Clean(Announced("mfp-s", "10.6.6.6:1"))}, kNow);
  table.EndRound({}, kNow);
  table.EndRound({}, kNow);
  ASSERT_THAT(table.DeviceIds(), ElementsAre("mfp-s"));
  EXPECT_EQ(table.Devices()[0].address(), "10.0.0.9:50081");
}

TEST(DeviceTableTest, UpdateStaticMergesStatusButKeepsConfiguredAddress) {
  DeviceTable table({{"mfp-s", "10.0.0.9:50081"}}, 3);
  DeviceInfo info = Announced("mfp-s", "0.0.0.0:1");
  info.set_registered(true);
  EXPECT_TRUE(table.UpdateStatic(info, kNow));
  DeviceInfo listed = table.Devices()[0];
  EXPECT_EQ(listed.address(), "10.0.0.9:50081");
  EXPECT_EQ(listed.model(), "SimMFP 3000");
  EXPECT_EQ(listed.discovered_by(), "static");
  EXPECT_FALSE(listed.registered());
  EXPECT_FALSE(table.UpdateStatic(info, kNow + absl::Seconds(5)));
  EXPECT_FALSE(table.UpdateStatic(Announced("unknown"), kNow));
}

}  // namespace
}  // namespace relay::gateway
