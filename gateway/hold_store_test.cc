#include "gateway/hold_store.h"

#include <filesystem>

#include "common/testing/status_matchers.h"
#include "gateway/hold_manager.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::relay::testing::IsOk;

HeldJob Job(const std::string& id, const std::string& device, int64_t held_ms,
            int64_t expires_ms) {
  HeldJob job;
  job.job_id = id;
  job.device_id = device;
  job.request.set_job_id(id);
  job.request.set_device_id(device);
  job.request.set_user_id("alice");
  job.request.set_content_type("application/pdf");
  job.reason = "device " + device + " is out of paper";
  job.spool_path = "/spool/" + id + ".held";
  job.size = 42;
  job.sha256_hex = "abc";
  job.held_at = absl::FromUnixMillis(held_ms);
  job.expires = absl::FromUnixMillis(expires_ms);
  return job;
}

TEST(HoldStoreTest, AddListUpdateRemove) {
  auto store = HoldStore::Open(":memory:");
  ASSERT_THAT(store.status(), IsOk());
  ASSERT_THAT((*store)->Add(Job("job-b", "mfp-1", 2000, 9000)), IsOk());
  ASSERT_THAT((*store)->Add(Job("job-a", "mfp-2", 1000, 9000)), IsOk());
  auto listed = (*store)->List();
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].job_id, "job-a");  // oldest hold first
  EXPECT_EQ((*listed)[0].request.user_id(), "alice");
  EXPECT_EQ((*listed)[0].size, 42);
  EXPECT_EQ((*listed)[0].held_at, absl::FromUnixMillis(1000));
  EXPECT_EQ((*listed)[0].expires, absl::FromUnixMillis(9000));

  ASSERT_THAT((*store)->UpdateReason("job-b", "device mfp-1 is offline"), IsOk());
  auto got = (*store)->Get("job-b");
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->reason, "device mfp-1 is offline");

  ASSERT_THAT((*store)->Remove("job-b"), IsOk());
  ASSERT_THAT((*store)->Remove("job-b"), IsOk());  // idempotent
  got = (*store)->Get("job-b");
  ASSERT_THAT(got.status(), IsOk());
  EXPECT_FALSE(got->has_value());
}

TEST(HoldStoreTest, HoldsSurviveReopening) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("holds-test-" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::filesystem::remove(path);
  {
    auto store = HoldStore::Open(path);
    ASSERT_THAT(store.status(), IsOk());
    HeldJob forever = Job("job-1", "mfp-1", 1000, 0);
    forever.expires = absl::InfiniteFuture();
    ASSERT_THAT((*store)->Add(forever), IsOk());
  }
  auto store = HoldStore::Open(path);
  ASSERT_THAT(store.status(), IsOk());
  auto listed = (*store)->List();
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].job_id, "job-1");
  EXPECT_EQ((*listed)[0].expires, absl::InfiniteFuture());
  std::filesystem::remove(path);
}

TEST(HoldActionsTest, ExpiryBoundaryBothSides) {
  std::vector<HeldJob> held = {Job("job-1", "mfp-1", 0, 5000)};
  HoldActions before = DecideHoldActions(held, absl::FromUnixMillis(4999));
  EXPECT_TRUE(before.expire.empty());
  ASSERT_EQ(before.deliver.size(), 1u);
  HoldActions at = DecideHoldActions(held, absl::FromUnixMillis(5000));
  ASSERT_EQ(at.expire.size(), 1u);
  EXPECT_TRUE(at.deliver.empty());
}

TEST(HoldActionsTest, OnlyTheOldestJobOfEachDeviceIsTried) {
  std::vector<HeldJob> held = {Job("job-1", "mfp-1", 0, 9000), Job("job-2", "mfp-1", 1, 9000),
                               Job("job-3", "mfp-2", 2, 9000)};
  HoldActions actions = DecideHoldActions(held, absl::FromUnixMillis(10));
  ASSERT_EQ(actions.deliver.size(), 2u);
  EXPECT_EQ(actions.deliver[0].job_id, "job-1");
  EXPECT_EQ(actions.deliver[1].job_id, "job-3");
}

TEST(HoldActionsTest, AnExpiredJobLetsTheNextOfItsDeviceBeTried) {
  std::vector<HeldJob> held = {Job("job-1", "mfp-1", 0, 100), Job("job-2", "mfp-1", 1, 9000)};
  HoldActions actions = DecideHoldActions(held, absl::FromUnixMillis(200));
  ASSERT_EQ(actions.expire.size(), 1u);
  EXPECT_EQ(actions.expire[0].job_id, "job-1");
  ASSERT_EQ(actions.deliver.size(), 1u);
  EXPECT_EQ(actions.deliver[0].job_id, "job-2");
}

}  // namespace
}  // namespace relay::gateway
