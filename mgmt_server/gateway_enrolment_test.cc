#include "mgmt_server/gateway_enrolment.h"

#include <string>
#include <vector>

#include "cloud_server/testing/temp_dir.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::mgmt {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using ::testing::HasSubstr;

class GatewayEnrolmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/management.db";
    auto store = EnrolmentStore::Open(path_);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
    enrolment_ = std::make_unique<GatewayEnrolment>(
        store_.get(), &clock_, absl::Hours(1),
        [this](const std::string& id, const absl::Status& why) {
          closed_.push_back(id);
          reasons_.push_back(why);
        });
    ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  }

  cloud::testing::TempDir dir_;
  std::string path_;
  testing::FakeClock clock_;
  std::unique_ptr<EnrolmentStore> store_;
  std::unique_ptr<GatewayEnrolment> enrolment_;
  std::vector<std::string> closed_;
  std::vector<absl::Status> reasons_;
};

TEST_F(GatewayEnrolmentTest, AnUnknownGatewayIsRefusedAndRecordedAsPending) {
  absl::Status status = enrolment_->Check("gw-new");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(status.message()), HasSubstr("mgmt_server gateways approve gw-new"));
  ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  auto list = store_->List();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].gateway_id, "gw-new");
  EXPECT_EQ((*list)[0].state, EnrolmentState::kPending);
  EXPECT_THAT(enrolment_->Check("gw-new"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(GatewayEnrolmentTest, ApproveAndRevokeFromAnotherConnectionTakeEffect) {
  // The `mgmt_server gateways` command: another process, another connection.
  auto cli = EnrolmentStore::Open(path_);
  ASSERT_THAT(cli, IsOk());
  ASSERT_THAT((*cli)->SetState("gw-1", EnrolmentState::kApproved, "test", clock_.Now()),
              IsOk());
  ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  EXPECT_THAT(enrolment_->Check("gw-1"), IsOk());
  EXPECT_TRUE(closed_.empty());

  ASSERT_THAT((*cli)->SetState("gw-1", EnrolmentState::kRevoked, "test", clock_.Now()),
              IsOk());
  ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  EXPECT_THAT(enrolment_->Check("gw-1"), StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_EQ(closed_, std::vector<std::string>{"gw-1"});
  EXPECT_THAT(std::string(reasons_[0].message()), HasSubstr("revoked"));
  // A later poll does not close it again.
  ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  EXPECT_EQ(closed_.size(), 1u);
}

TEST_F(GatewayEnrolmentTest, TheCommandValidatesIds) {
  EXPECT_EQ(RunGatewaysCommand({"gateways", "approve", "gw/../x"}, path_), 2);
  EXPECT_EQ(RunGatewaysCommand({"gateways", "approve", "gw-ok"}, path_), 0);
  EXPECT_EQ(RunGatewaysCommand({"gateways", "frobnicate", "gw-ok"}, path_), 2);
  ASSERT_THAT(enrolment_->PollOnce(), IsOk());
  EXPECT_THAT(enrolment_->Check("gw-ok"), IsOk());
}

}  // namespace
}  // namespace relay::mgmt
