#include "mgmt_server/device_mirror.h"

#include "gtest/gtest.h"
#include "mgmt_server/testing/fake_cloud_link.h"

namespace relay::mgmt {
namespace {

DeviceMirrorOptions FastRetry() {
  DeviceMirrorOptions options;
  options.initial_backoff = absl::Milliseconds(1);
  options.max_backoff = absl::Milliseconds(5);
  return options;
}

relay::v1::DeviceList List(const std::string& gateway_id, int64_t version) {
  relay::v1::DeviceList list;
  list.set_gateway_id(gateway_id);
  list.set_version(version);
  list.add_devices()->set_device_id("mfp-1");
  return list;
}

TEST(DeviceMirrorTest, ForwardsEachGatewaysList) {
  testing::FakeCloudLink cloud;
  DeviceMirror mirror(&cloud, FastRetry());
  mirror.Enqueue(List("gw-a", 1));
  mirror.Enqueue(List("gw-b", 3));
  EXPECT_TRUE(cloud.WaitForDeviceList("gw-a", 1));
  EXPECT_TRUE(cloud.WaitForDeviceList("gw-b", 3));
}

TEST(DeviceMirrorTest, KeepsTheNewestListAndResendsWhenTheCloudComesBack) {
  testing::FakeCloudLink cloud;
  cloud.SetUp(false);
  DeviceMirror mirror(&cloud, FastRetry());
  mirror.Enqueue(List("gw-a", 1));
  ASSERT_TRUE(cloud.WaitForUpdateDevicesCalls(1));
  mirror.Enqueue(List("gw-a", 2));
  ASSERT_TRUE(cloud.WaitForUpdateDevicesCalls(3));  // Still retrying.
  EXPECT_TRUE(cloud.device_lists().empty());
  cloud.SetUp(true);
  ASSERT_TRUE(cloud.WaitForDeviceList("gw-a", 2));
  std::vector<relay::v1::DeviceList> delivered = cloud.device_lists();
  ASSERT_FALSE(delivered.empty());
  // Version 1 was superseded while the cloud was down: never delivered.
  for (const auto& list : delivered) EXPECT_EQ(list.version(), 2);
}

}  // namespace
}  // namespace relay::mgmt
