#include "gateway/registration_manager.h"

#include <vector>

#include "absl/synchronization/notification.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gateway/testing/in_memory_registration_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using ::testing::ElementsAre;

class RegistrationManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistrationConfig config;
    config.nmax = 1;
    config.mode = RegistrationMode::kSwap;
    config.wait_timeout = absl::Seconds(60);
    auto controller = RegistrationController::Create(config, &store_, &clock_);
    ASSERT_THAT(controller, IsOk());
    manager_ = std::make_unique<RegistrationManager>(
        *std::move(controller), &clock_,
        [this](uint64_t seq, std::vector<DeviceRegistration> rows) {
          absl::MutexLock lock(&mu_);
          seqs_.push_back(seq);
          last_rows_ = rows;
        });
    manager_->Start();
    manager_->UpdateDevices({"mfp-a", "mfp-b"});
  }
  void TearDown() override { manager_->Shutdown(); }

  testing::InMemoryRegistrationStore store_;
  relay::testing::FakeClock clock_;
  std::unique_ptr<RegistrationManager> manager_;
  absl::Mutex mu_;
  std::vector<uint64_t> seqs_ ABSL_GUARDED_BY(mu_);
  std::vector<DeviceRegistration> last_rows_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RegistrationManagerTest, PublishesEveryChangeWithIncreasingSequence) {
  absl::MutexLock lock(&mu_);
  ASSERT_GE(seqs_.size(), 2u);
  for (size_t i = 1; i < seqs_.size(); ++i) EXPECT_LT(seqs_[i - 1], seqs_[i]);
  ASSERT_EQ(last_rows_.size(), 2u);
  EXPECT_TRUE(last_rows_[0].registered);  // pre-registered in discovery order
  EXPECT_FALSE(last_rows_[1].registered);
}

TEST_F(RegistrationManagerTest, QueuedRequestResumesWhenTheBusyDeviceIsReleased) {
  auto first = manager_->Request({"job-1", "mfp-a", "alice"}, nullptr);
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->granted);
  EXPECT_TRUE(first->changes.empty());

  absl::Notification resumed;
  absl::StatusOr<RegistrationChanges> result;
  auto second = manager_->Request({"job-2", "mfp-b", "alice"},
                                  [&](absl::StatusOr<RegistrationChanges> r) {
                                    result = r;
                                    resumed.Notify();
                                  });
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE(second->granted);
  EXPECT_FALSE(resumed.HasBeenNotified());

  manager_->Release("job-1");
  resumed.WaitForNotification();
  ASSERT_THAT(result, IsOk());
  EXPECT_THAT(result->added, ElementsAre("mfp-b"));
  EXPECT_THAT(result->removed, ElementsAre("mfp-a"));
  EXPECT_EQ(DescribeChanges(*result), "registered mfp-b in place of mfp-a");
  EXPECT_TRUE(manager_->IsRegistered("mfp-b"));
  manager_->Release("job-2");
}

TEST_F(RegistrationManagerTest, QueuedRequestFailsAtItsDeadline) {
  ASSERT_THAT(manager_->Request({"job-1", "mfp-a", "alice"}, nullptr), IsOk());
  absl::Notification resumed;
  absl::StatusOr<RegistrationChanges> result;
  ASSERT_THAT(manager_->Request({"job-2", "mfp-b", "alice"},
                                [&](absl::StatusOr<RegistrationChanges> r) {
                                  result = r;
                                  resumed.Notify();
                                }),
              IsOk());
  manager_->ExpireWaiting();  // not yet due
  EXPECT_FALSE(resumed.HasBeenNotified());
  clock_.Advance(absl::Seconds(61));
  manager_->ExpireWaiting();  // the timer thread may have done it already
  resumed.WaitForNotification();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  manager_->Release("job-1");
}

TEST_F(RegistrationManagerTest, ShutdownCancelsWaitingRequests) {
  ASSERT_THAT(manager_->Request({"job-1", "mfp-a", "alice"}, nullptr), IsOk());
  absl::StatusOr<RegistrationChanges> result;
  ASSERT_THAT(manager_->Request({"job-2", "mfp-b", "alice"},
                                [&](absl::StatusOr<RegistrationChanges> r) { result = r; }),
              IsOk());
  manager_->Shutdown();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(manager_->Request({"job-3", "mfp-a", "bob"}, nullptr).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(RegistrationManagerTest, ErrorsPassThrough) {
  EXPECT_EQ(manager_->Request({"job-1", "mfp-zzz", "alice"}, nullptr).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DescribeChangesTest, Texts) {
  EXPECT_EQ(DescribeChanges({}), "");
  EXPECT_EQ(DescribeChanges({{"a"}, {}}), "registered a");
  EXPECT_EQ(DescribeChanges({{}, {"b"}}), "unregistered b");
  EXPECT_EQ(DescribeChanges({{"a", "c"}, {"b"}}), "registered a, c; unregistered b");
}

}  // namespace
}  // namespace relay::gateway
