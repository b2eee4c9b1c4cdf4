#include "mgmt_server/request_validation.h"

#include <string>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay::mgmt {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

relay::v1::AccessRequest GoodAccess() {
  relay::v1::AccessRequest request;
  request.set_job_id("job-1");
  request.set_device_id("mfp-201");
  request.set_direction(relay::v1::DIRECTION_PRINT);
  request.set_tunnel_token("tok");
  return request;
}

TEST(RequestValidationTest, AccessRequest) {
  EXPECT_THAT(ValidateAccessRequest(GoodAccess()), IsOk());
  auto bad = GoodAccess();
  bad.clear_job_id();
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = GoodAccess();
  bad.clear_device_id();
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = GoodAccess();
  bad.set_direction(relay::v1::DIRECTION_UNSPECIFIED);
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = GoodAccess();
  bad.clear_tunnel_token();
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = GoodAccess();
  bad.set_job_id(std::string(kMaxIdBytes + 1, 'j'));
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = GoodAccess();
  bad.set_device_id("mfp\n1");
  EXPECT_THAT(ValidateAccessRequest(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RequestValidationTest, DeviceList) {
  relay::v1::DeviceList list;
  list.set_gateway_id("gw-1");
  list.add_devices()->set_device_id("a");
  EXPECT_THAT(ValidateDeviceList(list), IsOk());
  list.add_devices()->set_device_id("");
  EXPECT_THAT(ValidateDeviceList(list), StatusIs(absl::StatusCode::kInvalidArgument));
  list.mutable_devices(1)->set_device_id("a");
  EXPECT_THAT(ValidateDeviceList(list), StatusIs(absl::StatusCode::kInvalidArgument));
  list.mutable_devices(1)->set_device_id("b");
  EXPECT_THAT(ValidateDeviceList(list), IsOk());
  list.clear_gateway_id();
  EXPECT_THAT(ValidateDeviceList(list), StatusIs(absl::StatusCode::kInvalidArgument));

  relay::v1::DeviceList huge;
  huge.set_gateway_id("gw-1");
  for (int i = 0; i <= kMaxDevicesPerList; ++i) {
    huge.add_devices()->set_device_id(std::to_string(i));
  }
  EXPECT_THAT(ValidateDeviceList(huge), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(RequestValidationTest, ProgressAndUpload) {
  relay::v1::JobProgress progress;
  progress.set_job_id("j");
  progress.set_gateway_id("gw");
  progress.set_state(relay::v1::JOB_STATE_PRINTING);
  EXPECT_THAT(ValidateJobProgress(progress), IsOk());
  progress.set_state(relay::v1::JOB_STATE_UNSPECIFIED);
  EXPECT_THAT(ValidateJobProgress(progress),
              StatusIs(absl::StatusCode::kInvalidArgument));

  relay::v1::UploadAccessRequest upload;
  upload.set_scan_id("s");
  upload.set_gateway_id("gw");
  upload.set_device_id("d");
  upload.set_user_id("alice");
  EXPECT_THAT(ValidateUploadRequest(upload), IsOk());
  upload.clear_user_id();
  EXPECT_THAT(ValidateUploadRequest(upload),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay::mgmt
