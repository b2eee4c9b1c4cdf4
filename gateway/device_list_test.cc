#include "gateway/device_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::v1::DeviceInfo;

DeviceInfo Device(const std::string& id, int64_t last_seen = 100) {
  DeviceInfo d;
  d.set_device_id(id);
  d.set_address("10.0.0.1:50081");
  d.set_protocol("mfp-sim");
  d.set_last_seen_unix(last_seen);
  return d;
}

DeviceRegistration Row(const std::string& id, bool registered, int jobs = 0,
                       bool self = false, bool present = true) {
  DeviceRegistration r;
  r.device_id = id;
  r.registered = registered;
  r.jobs_in_flight = jobs;
  r.self = self;
  r.present = present;
  return r;
}

TEST(DeviceListTest, VersionGoesUpOnlyWhenTheListChanges) {
  DeviceList list("gw-1", 5, 1000);
  EXPECT_EQ(list.version(), 1000);
  EXPECT_TRUE(list.SetDiscovered({Device("a"), Device("b")}));
  EXPECT_EQ(list.version(), 1001);
  // Same devices, only last_seen moved: no new version, fresher timestamps.
  EXPECT_FALSE(list.SetDiscovered({Device("a", 200), Device("b", 200)}));
  EXPECT_EQ(list.version(), 1001);
  EXPECT_EQ(list.Snapshot().devices(0).last_seen_unix(), 200);
  EXPECT_TRUE(list.SetRegistrations(1, {Row("a", true), Row("b", false)}));
  EXPECT_EQ(list.version(), 1002);
  EXPECT_FALSE(list.SetRegistrations(2, {Row("a", true), Row("b", false)}));
  EXPECT_TRUE(list.SetRegistrations(3, {Row("a", true, 1), Row("b", false)}));
  EXPECT_EQ(list.version(), 1003);
}

TEST(DeviceListTest, BusyFlagsAloneDoNotMoveTheContentVersion) {
  DeviceList list("gw-1", 5, 1000);
  list.SetDiscovered({Device("a"), Device("b")});
  list.SetRegistrations(1, {Row("a", true), Row("b", false)});
  EXPECT_EQ(list.content_version(), list.version());
  const int64_t content = list.content_version();
  EXPECT_TRUE(list.SetRegistrations(2, {Row("a", true, 1), Row("b", false)}));
  EXPECT_TRUE(list.SetRegistrations(3, {Row("a", true, 0), Row("b", false)}));
  EXPECT_EQ(list.version(), content + 2);
  EXPECT_EQ(list.content_version(), content);
  // A registration change moves both, whatever else changed with it.
  EXPECT_TRUE(list.SetRegistrations(4, {Row("a", true, 1), Row("b", true)}));
  EXPECT_EQ(list.content_version(), list.version());
}

TEST(DeviceListTest, SnapshotCarriesTheRegistrationMarks) {
  DeviceList list("gw-1", 2);
  list.SetDiscovered({Device("a"), Device("b"), Device("c")});
  list.SetRegistrations(1, {Row("a", true), Row("b", true, 2), Row("c", false)});
  relay::v1::DeviceList snapshot = list.Snapshot();
  EXPECT_EQ(snapshot.gateway_id(), "gw-1");
  EXPECT_EQ(snapshot.nmax(), 2);
  ASSERT_EQ(snapshot.devices_size(), 3);
  EXPECT_TRUE(snapshot.devices(0).registered());
  EXPECT_FALSE(snapshot.devices(0).job_in_flight());
  EXPECT_TRUE(snapshot.devices(1).registered());
  EXPECT_TRUE(snapshot.devices(1).job_in_flight());
  EXPECT_FALSE(snapshot.devices(2).registered());
}

TEST(DeviceListTest, ListsRegisteredDevicesDiscoveryDoesNotSee) {
  DeviceList list("gw-1", 5);
  list.SetDiscovered({Device("a")});
  list.SetRegistrations(1, {Row("self-mfp", true, 0, /*self=*/true), Row("a", true),
                            Row("gone", true, 1, false, /*present=*/false)});
  relay::v1::DeviceList snapshot = list.Snapshot();
  ASSERT_EQ(snapshot.devices_size(), 3);
  EXPECT_EQ(snapshot.devices(0).device_id(), "a");
  EXPECT_EQ(snapshot.devices(1).device_id(), "self-mfp");
  EXPECT_TRUE(snapshot.devices(1).is_gateway_host());
  EXPECT_EQ(snapshot.devices(2).device_id(), "gone");
  EXPECT_EQ(snapshot.devices(2).status(), relay::v1::DEVICE_STATUS_OFFLINE);
}

TEST(DeviceListTest, IgnoresAnOlderRegistrationSnapshot) {
  DeviceList list("gw-1", 5);
  list.SetDiscovered({Device("a")});
  EXPECT_TRUE(list.SetRegistrations(5, {Row("a", true)}));
  EXPECT_FALSE(list.SetRegistrations(4, {Row("a", false)}));
  EXPECT_TRUE(list.Snapshot().devices(0).registered());
}

TEST(DeviceListTest, DiscoveredDeviceMarksAreNotTrusted) {
  DeviceList list("gw-1", 5);
  DeviceInfo d = Device("a");
  d.set_registered(true);
  list.SetDiscovered({d});
  EXPECT_FALSE(list.Snapshot().devices(0).registered());
  ASSERT_TRUE(list.Find("a").has_value());
  EXPECT_EQ(list.Find("a")->address(), "10.0.0.1:50081");
  EXPECT_FALSE(list.Find("zzz").has_value());
}

}  // namespace
}  // namespace relay::gateway
