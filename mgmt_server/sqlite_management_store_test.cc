#include "mgmt_server/sqlite_management_store.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::mgmt {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return *arg == value;
}

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

std::string TempDbPath() {
  return absl::StrCat(::testing::TempDir(), "/mgmt_store_", RandomHex(8), ".db");
}

relay::v1::DeviceList List(const std::string& gateway_id, int64_t version,
                           std::vector<std::pair<std::string, bool>> devices) {
  relay::v1::DeviceList list;
  list.set_gateway_id(gateway_id);
  list.set_version(version);
  for (const auto& [id, registered] : devices) {
    relay::v1::DeviceInfo* device = list.add_devices();
    device->set_device_id(id);
    device->set_registered(registered);
  }
  return list;
}

class SqliteManagementStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempDbPath();
    auto store = SqliteManagementStore::Open(path_);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::remove(path_.c_str());
  }

  std::string path_;
  std::unique_ptr<SqliteManagementStore> store_;
};

TEST_F(SqliteManagementStoreTest, SessionEpochIncreasesAndSurvivesReopen) {
  EXPECT_THAT(store_->BeginSession("gw-1", "lan-a", "1.0", kT0), IsOkAndHolds(1));
  EXPECT_THAT(store_->BeginSession("gw-1", "lan-a", "1.1", kT0 + absl::Seconds(1)),
              IsOkAndHolds(2));
  auto gateway = store_->GetGateway("gw-1");
  ASSERT_THAT(gateway, IsOk());
  EXPECT_TRUE(gateway->connected);
  EXPECT_EQ(gateway->software_version, "1.1");
  EXPECT_EQ(gateway->lan_id, "lan-a");
  EXPECT_EQ(gateway->connected_since, kT0 + absl::Seconds(1));

  store_.reset();
  auto reopened = SqliteManagementStore::Open(path_);
  ASSERT_THAT(reopened, IsOk());
  store_ = std::move(*reopened);
  ASSERT_THAT(store_->MarkAllDisconnected(), IsOk());
  gateway = store_->GetGateway("gw-1");
  ASSERT_THAT(gateway, IsOk());
  EXPECT_FALSE(gateway->connected);
  EXPECT_EQ(gateway->session_epoch, 2);
  EXPECT_THAT(store_->BeginSession("gw-1", "lan-a", "1.1", kT0), IsOkAndHolds(3));
}

TEST_F(SqliteManagementStoreTest, EndOfAReplacedSessionKeepsTheNewOneConnected) {
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());  // epoch 1
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());  // epoch 2
  ASSERT_THAT(store_->EndSession("gw-1", 1, kT0 + absl::Seconds(5)), IsOk());
  EXPECT_TRUE(store_->GetGateway("gw-1")->connected);
  ASSERT_THAT(store_->EndSession("gw-1", 2, kT0 + absl::Seconds(6)), IsOk());
  auto gateway = store_->GetGateway("gw-1");
  EXPECT_FALSE(gateway->connected);
  EXPECT_EQ(gateway->last_seen, kT0 + absl::Seconds(6));
}

TEST_F(SqliteManagementStoreTest, UnknownGatewayAndDevice) {
  EXPECT_THAT(store_->GetGateway("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ReplaceDevices(List("nope", 1, {{"mfp-1", true}}), kT0),
              StatusIs(absl::StatusCode::kNotFound));
  auto missing = store_->FindDevice("mfp-1");
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(missing.status().message(), "device mfp-1 is not known to any gateway");
}

TEST_F(SqliteManagementStoreTest, StoresDevicesWithEveryField) {
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());
  relay::v1::DeviceList list = List("gw-1", 1, {});
  relay::v1::DeviceInfo* device = list.add_devices();
  device->set_device_id("mfp-201");
  device->set_name("MFP 201");
  device->set_model("SimMFP C300");
  device->set_address("127.0.0.1:50081");
  device->set_protocol("mfp-sim");
  device->mutable_capabilities()->set_print(true);
  device->mutable_capabilities()->set_color(true);
  device->mutable_capabilities()->add_formats("application/pdf");
  device->set_status(relay::v1::DEVICE_STATUS_BUSY);
  device->set_registered(true);
  device->set_is_gateway_host(true);
  device->set_job_in_flight(true);
  device->set_discovered_by("probe");
  device->set_last_seen_unix(123);
  ASSERT_THAT(store_->ReplaceDevices(list, kT0),
              IsOkAndHolds(DeviceListUpdate::kApplied));
  auto devices = store_->ListDevices("gw-1");
  ASSERT_THAT(devices, IsOk());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].SerializeAsString(), device->SerializeAsString());
  EXPECT_EQ(store_->GetGateway("gw-1")->device_list_version, 1);
}

TEST_F(SqliteManagementStoreTest, ReplaceDropsDevicesNoLongerListed) {
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());
  ASSERT_THAT(store_->ReplaceDevices(List("gw-1", 1, {{"a", true}, {"b", false}}), kT0),
              IsOk());
  ASSERT_THAT(store_->ReplaceDevices(List("gw-1", 2, {{"b", true}}), kT0), IsOk());
  auto devices = store_->ListDevices("gw-1");
  ASSERT_THAT(devices, IsOk());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].device_id(), "b");
  EXPECT_THAT(store_->FindDevice("a"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SqliteManagementStoreTest, OlderListIsIgnoredWithinASessionButNotAfterANewOne) {
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());
  ASSERT_THAT(store_->ReplaceDevices(List("gw-1", 5, {{"a", true}}), kT0), IsOk());
  EXPECT_THAT(store_->ReplaceDevices(List("gw-1", 4, {{"old", true}}), kT0),
              IsOkAndHolds(DeviceListUpdate::kStale));
  EXPECT_THAT(store_->FindDevice("old"), StatusIs(absl::StatusCode::kNotFound));
  // The gateway's state was wiped and it counts from 1 again.
  ASSERT_THAT(store_->BeginSession("gw-1", "", "", kT0), IsOk());
  EXPECT_THAT(store_->ReplaceDevices(List("gw-1", 1, {{"new", true}}), kT0),
              IsOkAndHolds(DeviceListUpdate::kApplied));
  EXPECT_THAT(store_->FindDevice("new"), IsOk());
}

TEST_F(SqliteManagementStoreTest, DeviceSeenByTwoGatewaysPrefersRegisteredThenNewest) {
  ASSERT_THAT(store_->BeginSession("gw-a", "lan", "", kT0), IsOk());
  ASSERT_THAT(store_->BeginSession("gw-b", "lan", "", kT0), IsOk());
  // Unregistered at both: the most recent report wins.
  ASSERT_THAT(store_->ReplaceDevices(List("gw-a", 1, {{"mfp", false}}), kT0), IsOk());
  ASSERT_THAT(
      store_->ReplaceDevices(List("gw-b", 1, {{"mfp", false}}), kT0 + absl::Seconds(1)),
      IsOk());
  EXPECT_EQ(store_->FindDevice("mfp")->gateway_id, "gw-b");
  ASSERT_THAT(
      store_->ReplaceDevices(List("gw-a", 2, {{"mfp", false}}), kT0 + absl::Seconds(2)),
      IsOk());
  EXPECT_EQ(store_->FindDevice("mfp")->gateway_id, "gw-a");
  // Registered at gw-b: gw-b wins even though gw-a reported later.
  ASSERT_THAT(
      store_->ReplaceDevices(List("gw-b", 2, {{"mfp", true}}), kT0 + absl::Seconds(3)),
      IsOk());
  ASSERT_THAT(
      store_->ReplaceDevices(List("gw-a", 3, {{"mfp", false}}), kT0 + absl::Seconds(4)),
      IsOk());
  auto location = store_->FindDevice("mfp");
  ASSERT_THAT(location, IsOk());
  EXPECT_EQ(location->gateway_id, "gw-b");
  EXPECT_TRUE(location->registered);
}

TEST_F(SqliteManagementStoreTest, ListsGateways) {
  ASSERT_THAT(store_->BeginSession("gw-b", "", "", kT0), IsOk());
  ASSERT_THAT(store_->BeginSession("gw-a", "", "", kT0), IsOk());
  ASSERT_THAT(store_->TouchGateway("gw-a", kT0 + absl::Seconds(9)), IsOk());
  auto gateways = store_->ListGateways();
  ASSERT_THAT(gateways, IsOk());
  ASSERT_EQ(gateways->size(), 2u);
  EXPECT_EQ((*gateways)[0].gateway_id, "gw-a");
  EXPECT_EQ((*gateways)[0].last_seen, kT0 + absl::Seconds(9));
  EXPECT_EQ((*gateways)[1].gateway_id, "gw-b");
}

}  // namespace
}  // namespace relay::mgmt
