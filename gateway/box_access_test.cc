#include "gateway/box_access.h"

#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::v1::BOX_OPERATION_DELETE;
using relay::v1::BOX_OPERATION_LIST;
using relay::v1::BOX_OPERATION_READ;

// 2023-11-14 22:13:20 UTC.
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

absl::Time AtUtc(int hour, int minute) {
  return absl::FromCivil(absl::CivilMinute(2023, 11, 14, hour, minute), absl::UTCTimeZone());
}

relay::v1::BoxAccessCondition Condition() {
  relay::v1::BoxAccessCondition c;
  c.set_device_id("mfp-1");
  c.set_box_id("scans");
  c.add_allowed_clients("relayctl");
  c.add_allowed_users("bob");
  c.add_operations(BOX_OPERATION_LIST);
  c.add_operations(BOX_OPERATION_READ);
  return c;
}

relay::v1::BoxRequest Request(relay::v1::BoxOperation op = BOX_OPERATION_LIST,
                              const std::string& client = "relayctl",
                              const std::string& user = "alice") {
  relay::v1::BoxRequest r;
  r.set_box_id("scans");
  r.set_operation(op);
  r.set_client_id(client);
  r.set_user_id(user);
  return r;
}

TEST(BoxAccessTest, NoConditionsDeniesEverything) {
  BoxDecision d = EvaluateBoxAccess(std::nullopt, Request(), kNow, 0);
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.failed_condition, "no_conditions");
}

TEST(BoxAccessTest, PermittedWhenEveryConditionHolds) {
  BoxDecision d = EvaluateBoxAccess(Condition(), Request(), kNow, 0);
  EXPECT_TRUE(d.permitted) << d.message;
  EXPECT_EQ(d.failed_condition, "");
}

TEST(BoxAccessTest, PartyByClientOrByUser) {
  EXPECT_TRUE(EvaluateBoxAccess(Condition(), Request(BOX_OPERATION_LIST, "relayctl", "x"),
                                kNow, 0)
                  .permitted);
  EXPECT_TRUE(EvaluateBoxAccess(Condition(), Request(BOX_OPERATION_LIST, "web", "bob"),
                                kNow, 0)
                  .permitted);
  BoxDecision d =
      EvaluateBoxAccess(Condition(), Request(BOX_OPERATION_LIST, "web", "mallory"), kNow, 0);
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.failed_condition, "party");
  // An empty client or user never matches.
  relay::v1::BoxAccessCondition empty_listed = Condition();
  empty_listed.add_allowed_users("");
  EXPECT_EQ(EvaluateBoxAccess(empty_listed, Request(BOX_OPERATION_LIST, "", ""), kNow, 0)
                .failed_condition,
            "party");
}

TEST(BoxAccessTest, OperationMustBeListed) {
  EXPECT_TRUE(EvaluateBoxAccess(Condition(), Request(BOX_OPERATION_READ), kNow, 0).permitted);
  BoxDecision d = EvaluateBoxAccess(Condition(), Request(BOX_OPERATION_DELETE), kNow, 0);
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.failed_condition, "operation");
}

TEST(BoxAccessTest, ExpiryBoundaryBothSides) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_expires_unix(absl::ToUnixSeconds(kNow) + 1);
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), kNow, 0).permitted);
  c.set_expires_unix(absl::ToUnixSeconds(kNow));
  BoxDecision d = EvaluateBoxAccess(c, Request(), kNow, 0);
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.failed_condition, "expiry");
}

TEST(BoxAccessTest, WindowBoundariesBothSides) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_window_start_minute(9 * 60);
  c.set_window_end_minute(17 * 60);
  EXPECT_EQ(EvaluateBoxAccess(c, Request(), AtUtc(8, 59), 0).failed_condition, "time_window");
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), AtUtc(9, 0), 0).permitted);
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), AtUtc(16, 59), 0).permitted);
  EXPECT_EQ(EvaluateBoxAccess(c, Request(), AtUtc(17, 0), 0).failed_condition, "time_window");
}

TEST(BoxAccessTest, WindowWrappingPastMidnight) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_window_start_minute(22 * 60);
  c.set_window_end_minute(6 * 60);
  EXPECT_EQ(EvaluateBoxAccess(c, Request(), AtUtc(21, 59), 0).failed_condition, "time_window");
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), AtUtc(22, 0), 0).permitted);
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), AtUtc(5, 59), 0).permitted);
  EXPECT_EQ(EvaluateBoxAccess(c, Request(), AtUtc(6, 0), 0).failed_condition, "time_window");
}

TEST(BoxAccessTest, EqualWindowEndsMeanAnyTime) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_window_start_minute(600);
  c.set_window_end_minute(600);
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), AtUtc(3, 0), 0).permitted);
}

TEST(BoxAccessTest, MaxAccessesBoundaryBothSides) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_max_accesses(2);
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), kNow, 1).permitted);
  BoxDecision d = EvaluateBoxAccess(c, Request(), kNow, 2);
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.failed_condition, "max_accesses");
  c.set_max_accesses(0);  // unlimited
  EXPECT_TRUE(EvaluateBoxAccess(c, Request(), kNow, 1000).permitted);
}

TEST(BoxAccessTest, FirstFailingConditionIsReported) {
  relay::v1::BoxAccessCondition c = Condition();
  c.set_expires_unix(1);
  EXPECT_EQ(EvaluateBoxAccess(c, Request(BOX_OPERATION_DELETE, "web", "mallory"), kNow, 0)
                .failed_condition,
            "expiry");
}

TEST(BoxAccessTest, ValidateCondition) {
  EXPECT_EQ(ValidateBoxCondition(Condition()), "");
  relay::v1::BoxAccessCondition c = Condition();
  c.set_window_end_minute(1440);
  EXPECT_NE(ValidateBoxCondition(c), "");
  c = Condition();
  c.set_max_accesses(-1);
  EXPECT_NE(ValidateBoxCondition(c), "");
  c = Condition();
  c.clear_box_id();
  EXPECT_NE(ValidateBoxCondition(c), "");
}

}  // namespace
}  // namespace relay::gateway
