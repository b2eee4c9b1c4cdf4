#include "mgmt_server/refresh_policy.h"

#include "gtest/gtest.h"

namespace relay::mgmt {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

StoredDeviceInfo Info(relay::v1::DeviceStatus status, absl::Duration age) {
  StoredDeviceInfo stored;
  stored.gateway_id = "gw-1";
  stored.info.set_device_id("mfp-1");
  stored.info.set_status(status);
  stored.fetched_at = kNow - age;
  return stored;
}

TEST(RefreshPolicyTest, UnknownDeviceIsRefreshed) {
  EXPECT_EQ(DecideRefresh(std::nullopt, kNow, absl::Minutes(5)),
            RefreshReason::kUnknownDevice);
}

TEST(RefreshPolicyTest, AgeBoundaryBothSides) {
  const absl::Duration max_age = absl::Minutes(5);
  EXPECT_EQ(DecideRefresh(Info(relay::v1::DEVICE_STATUS_IDLE, max_age), kNow, max_age),
            RefreshReason::kNone);
  EXPECT_EQ(DecideRefresh(Info(relay::v1::DEVICE_STATUS_IDLE,
                               max_age + absl::Milliseconds(1)),
                          kNow, max_age),
            RefreshReason::kStale);
  EXPECT_EQ(DecideRefresh(Info(relay::v1::DEVICE_STATUS_IDLE, absl::ZeroDuration()), kNow,
                          max_age),
            RefreshReason::kNone);
}

TEST(RefreshPolicyTest, ZeroMaxAgeAlwaysRefreshes) {
  EXPECT_EQ(DecideRefresh(Info(relay::v1::DEVICE_STATUS_IDLE, absl::ZeroDuration()), kNow,
                          absl::ZeroDuration()),
            RefreshReason::kStale);
}

TEST(RefreshPolicyTest, EachFaultStateIsRefreshedEvenWhenFresh) {
  for (auto status : {relay::v1::DEVICE_STATUS_PAPER_OUT, relay::v1::DEVICE_STATUS_TONER_EMPTY,
                      relay::v1::DEVICE_STATUS_OFFLINE}) {
    EXPECT_EQ(DecideRefresh(Info(status, absl::ZeroDuration()), kNow, absl::Minutes(5)),
              RefreshReason::kLastStateFault)
        << relay::v1::DeviceStatus_Name(status);
  }
}

TEST(RefreshPolicyTest, BusyIsNotAFault) {
  EXPECT_EQ(DecideRefresh(Info(relay::v1::DEVICE_STATUS_BUSY, absl::Seconds(1)), kNow,
                          absl::Minutes(5)),
            RefreshReason::kNone);
}

TEST(RefreshPolicyTest, ReasonNames) {
  EXPECT_EQ(RefreshReasonName(RefreshReason::kStale), "stale");
  EXPECT_EQ(RefreshReasonName(RefreshReason::kUnknownDevice), "unknown_device");
  EXPECT_EQ(RefreshReasonName(RefreshReason::kLastStateFault), "last_state_fault");
}

}  // namespace
}  // namespace relay::mgmt
