#include "gateway/box_condition_store.h"

#include <filesystem>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

relay::v1::BoxAccessCondition Condition(int max_accesses) {
  relay::v1::BoxAccessCondition c;
  c.set_device_id("mfp-201");
  c.set_box_id("scans");
  c.add_allowed_users("alice");
  c.add_operations(relay::v1::BOX_OPERATION_LIST);
  c.set_max_accesses(max_accesses);
  return c;
}

relay::v1::BoxRequest List(const std::string& user) {
  relay::v1::BoxRequest r;
  r.set_box_id("scans");
  r.set_operation(relay::v1::BOX_OPERATION_LIST);
  r.set_user_id(user);
  return r;
}

class BoxConditionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("box-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "boxes.db").string(); }
  std::filesystem::path dir_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(BoxConditionStoreTest, NoConditionsDeniesEverything) {
  auto store = BoxConditionStore::Open(path());
  ASSERT_THAT(store, IsOk());
  auto decision = (*store)->Authorize("mfp-201", List("alice"), now_);
  ASSERT_THAT(decision, IsOk());
  EXPECT_FALSE(decision->permitted);
  EXPECT_EQ(decision->failed_condition, "no_conditions");
}

TEST_F(BoxConditionStoreTest, RefusesInvalidConditions) {
  auto store = BoxConditionStore::Open(path());
  ASSERT_THAT(store, IsOk());
  relay::v1::BoxAccessCondition bad = Condition(0);
  bad.set_window_start_minute(2000);
  EXPECT_THAT((*store)->Put(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(BoxConditionStoreTest, CountsPermittedAccessesOnlyAndPersistsThem) {
  {
    auto store = BoxConditionStore::Open(path());
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Put(Condition(2)), IsOk());
    EXPECT_TRUE((*store)->Authorize("mfp-201", List("alice"), now_)->permitted);
    // A denied request does not use up an access.
    EXPECT_FALSE((*store)->Authorize("mfp-201", List("mallory"), now_)->permitted);
    EXPECT_EQ(*(*store)->AccessCount("mfp-201", "scans"), 1);
  }
  auto reopened = BoxConditionStore::Open(path());
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ(*(*reopened)->AccessCount("mfp-201", "scans"), 1);
  EXPECT_TRUE((*reopened)->Authorize("mfp-201", List("alice"), now_)->permitted);
  auto third = (*reopened)->Authorize("mfp-201", List("alice"), now_);
  EXPECT_FALSE(third->permitted);
  EXPECT_EQ(third->failed_condition, "max_accesses");
  // New conditions start counting again.
  ASSERT_THAT((*reopened)->Put(Condition(2)), IsOk());
  EXPECT_EQ(*(*reopened)->AccessCount("mfp-201", "scans"), 0);
  EXPECT_TRUE((*reopened)->Authorize("mfp-201", List("alice"), now_)->permitted);
}

TEST_F(BoxConditionStoreTest, ConditionsArePerDeviceAndBox) {
  auto store = BoxConditionStore::Open(path());
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Put(Condition(0)), IsOk());
  EXPECT_FALSE((*store)->Authorize("mfp-202", List("alice"), now_)->permitted);
  auto got = (*store)->Get("mfp-201", "scans");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->allowed_users(0), "alice");
}

}  // namespace
}  // namespace relay::gateway
