#include "gateway/access_handler.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/synchronization/notification.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gateway/scan_spool.h"
#include "gateway/scan_uploader.h"
#include "gateway/testing/fake_device_driver.h"
#include "gateway/testing/fake_mgmt_client.h"
#include "gateway/testing/fake_tunnel_client.h"
#include "gateway/testing/in_memory_registration_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using relay::v1::JobState;
using ::testing::HasSubstr;

relay::v1::DeviceInfo Device(const std::string& id) {
  relay::v1::DeviceInfo d;
  d.set_device_id(id);
  d.set_address("10.0.0.7:50081");
  d.set_protocol("mfp-sim");
  return d;
}

relay::v1::TunnelRequest Print(const std::string& job, const std::string& device,
                               const std::string& user = "alice") {
  relay::v1::TunnelRequest r;
  r.set_job_id(job);
  r.set_device_id(device);
  r.set_direction(relay::v1::DIRECTION_PRINT);
  r.set_tunnel_token("token-" + job);
  r.set_user_id(user);
  return r;
}

// Wires an AccessHandler to fakes: nmax 1 in swap mode over mfp-a, mfp-b
// (mfp-a pre-registered).
class AccessHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = GatewayStore::Open(":memory:");
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    RegistrationConfig config;
    config.nmax = 1;
    config.wait_timeout = absl::Seconds(60);
    auto controller = RegistrationController::Create(config, &registration_store_, &clock_);
    ASSERT_THAT(controller, IsOk());
    registration_ = std::make_unique<RegistrationManager>(
        *std::move(controller), &clock_,
        [this](uint64_t seq, std::vector<DeviceRegistration> rows) {
          devices_.SetRegistrations(seq, std::move(rows));
        });
    registration_->Start();
    devices_.SetDiscovered({Device("mfp-a"), Device("mfp-b")});
    registration_->UpdateDevices({"mfp-a", "mfp-b"});
    handler_ = std::make_unique<AccessHandler>(AccessHandler::Deps{
        {"gw-test", "lan-test"}, store_.get(), registration_.get(), &devices_, &mgmt_,
        &tunnels_, &driver_, &clock_, 4});
  }
  void TearDown() override {
    handler_.reset();
    registration_->Shutdown();
  }

  relay::testing::FakeClock clock_;
  testing::InMemoryRegistrationStore registration_store_;
  std::unique_ptr<GatewayStore> store_;
  DeviceList devices_{"gw-test", 1};
  std::unique_ptr<RegistrationManager> registration_;
  testing::FakeMgmtClient mgmt_;
  testing::FakeTunnelClient tunnels_;
  testing::FakeDeviceDriver driver_;
  std::unique_ptr<AccessHandler> handler_;
};

TEST_F(AccessHandlerTest, PrintsToARegisteredDevice) {
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  handler_->WaitIdle();
  auto prints = driver_.prints();
  ASSERT_EQ(prints.count("job-1"), 1u);
  EXPECT_EQ(prints["job-1"].data, "document of job-1");
  EXPECT_TRUE(prints["job-1"].finished);
  EXPECT_EQ(prints["job-1"].device_id, "mfp-a");
  EXPECT_TRUE(*store_->IsJobDelivered("job-1"));
  // One final report (PRINTING goes down the tunnel); no registration change.
  auto progress = mgmt_.ProgressFor("job-1");
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].state(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(progress[0].gateway_id(), "gw-test");
  EXPECT_EQ(progress[0].device_id(), "mfp-a");
  EXPECT_EQ(progress[0].registration_change(), "");
}

TEST_F(AccessHandlerTest, AJobDeliveredBeforeIsReportedDoneAndNotPrintedAgain) {
  ASSERT_THAT(store_->MarkJobDelivered("job-1", "mfp-a", clock_.Now()), IsOk());
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  auto done = mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  EXPECT_THAT(done.reason(), HasSubstr("not printed again"));
  handler_->WaitIdle();
  EXPECT_TRUE(driver_.prints().empty());
  EXPECT_TRUE(tunnels_.print_jobs().empty());
}

TEST_F(AccessHandlerTest, CloudAlreadyDoneIsRecordedWithoutPrinting) {
  tunnels_.MarkAlreadyDone("job-1");
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  handler_->WaitIdle();
  EXPECT_TRUE(driver_.prints().empty());
  EXPECT_TRUE(*store_->IsJobDelivered("job-1"));
}

TEST_F(AccessHandlerTest, SwapsInAnUnregisteredDeviceAndReportsTheChange) {
  handler_->HandleTunnelRequest(Print("job-1", "mfp-b"));
  auto done = mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(done.registration_change(), "registered mfp-b in place of mfp-a");
  ASSERT_EQ(tunnels_.print_jobs().size(), 1u);
  EXPECT_EQ(tunnels_.print_jobs()[0].registration_change,
            "registered mfp-b in place of mfp-a");
  handler_->WaitIdle();
  // The default policy reverts the swap after the job.
  EXPECT_TRUE(registration_->IsRegistered("mfp-a"));
  EXPECT_FALSE(registration_->IsRegistered("mfp-b"));
}

TEST_F(AccessHandlerTest, WaitsForASlotWhileEveryRegisteredDeviceIsBusy) {
  driver_.HoldPrint("job-1");
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  driver_.WaitUntilFinishing("job-1");
  // The device list shows mfp-a busy.
  EXPECT_TRUE(devices_.Snapshot().devices(0).job_in_flight());

  handler_->HandleTunnelRequest(Print("job-2", "mfp-b"));
  auto waiting = mgmt_.WaitForProgress("job-2", relay::v1::JOB_STATE_WAITING_FOR_SLOT);
  EXPECT_EQ(waiting.reason(), "every registered device is busy; waiting for a slot");
  EXPECT_EQ(driver_.prints().count("job-2"), 0u);

  driver_.ReleasePrint("job-1");
  mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  auto done = mgmt_.WaitForProgress("job-2", relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(done.registration_change(), "registered mfp-b in place of mfp-a");
  handler_->WaitIdle();
  EXPECT_EQ(driver_.prints()["job-2"].data, "document of job-2");
}

TEST_F(AccessHandlerTest, AWaitingJobFailsWithAReasonAfterTheTimeout) {
  driver_.HoldPrint("job-1");
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  driver_.WaitUntilFinishing("job-1");
  handler_->HandleTunnelRequest(Print("job-2", "mfp-b"));
  mgmt_.WaitForProgress("job-2", relay::v1::JOB_STATE_WAITING_FOR_SLOT);
  clock_.Advance(absl::Seconds(61));
  registration_->ExpireWaiting();
  auto failed = mgmt_.WaitForProgress("job-2", relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("every registered device stayed busy"));
  driver_.ReleasePrint("job-1");
  handler_->WaitIdle();
  EXPECT_EQ(driver_.prints().count("job-2"), 0u);
}

TEST_F(AccessHandlerTest, ADuplicateRequestWhileTheJobRunsIsIgnored) {
  driver_.HoldPrint("job-1");
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  driver_.WaitUntilFinishing("job-1");
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  driver_.ReleasePrint("job-1");
  mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_DONE);
  handler_->WaitIdle();
  EXPECT_EQ(tunnels_.print_jobs().size(), 1u);
}

TEST_F(AccessHandlerTest, MalformedRequestsFailWithAReason) {
  auto no_token = Print("job-1", "mfp-a");
  no_token.clear_tunnel_token();
  handler_->HandleTunnelRequest(no_token);
  auto failed = mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("token"));

  handler_->HandleTunnelRequest(Print("job-2", "mfp-unknown"));
  failed = mgmt_.WaitForProgress("job-2", relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("mfp-unknown"));

  handler_->HandleTunnelRequest(Print("bad job id!", "mfp-a"));
  handler_->HandleTunnelRequest(Print("job-3", "mfp-a"));  // still served after
  mgmt_.WaitForProgress("job-3", relay::v1::JOB_STATE_DONE);
  handler_->WaitIdle();
  EXPECT_EQ(driver_.prints().size(), 1u);
}

TEST_F(AccessHandlerTest, ADeviceErrorFailsTheJob) {
  driver_.FailWrites(absl::UnavailableError("paper jam"));
  handler_->HandleTunnelRequest(Print("job-1", "mfp-a"));
  auto failed = mgmt_.WaitForProgress("job-1", relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("paper jam"));
  handler_->WaitIdle();
  EXPECT_FALSE(*store_->IsJobDelivered("job-1"));
}

class ScanUploadTest : public AccessHandlerTest {
 protected:
  PendingScan SpoolScan(const std::string& id, const std::string& data) {
    if (spool_ == nullptr) {
      std::string pattern = ::testing::TempDir() + "gwscanXXXXXX";
      EXPECT_NE(mkdtemp(pattern.data()), nullptr);
      spool_ = std::make_unique<ScanSpool>(pattern + "/spool");
      EXPECT_THAT(spool_->Init(), IsOk());
    }
    auto writer = spool_->Create(id);
    EXPECT_THAT(writer, IsOk());
    EXPECT_THAT((*writer)->Append(data), IsOk());
    auto path = (*writer)->Commit();
    EXPECT_THAT(path, IsOk());
    PendingScan scan;
    scan.scan_id = id;
    scan.device_id = "mfp-b";
    scan.user_id = "bob";
    scan.content_type = "application/pdf";
    scan.size = static_cast<int64_t>(data.size());
    scan.sha256_hex = (*writer)->sha256_hex();
    scan.spool_path = *path;
    scan.accepted = clock_.Now();
    EXPECT_THAT(store_->AddPendingScan(scan), IsOk());
    return scan;
  }
  std::unique_ptr<ScanSpool> spool_;
};

TEST_F(ScanUploadTest, UploadsAndForgetsTheSpooledScan) {
  PendingScan scan = SpoolScan("scan-1", "scanned pages");
  absl::Notification done;
  absl::Status result;
  handler_->UploadScan(scan, [&](absl::Status s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_THAT(result, IsOk());
  ASSERT_EQ(tunnels_.uploaded().size(), 1u);
  EXPECT_EQ(tunnels_.uploaded()[0].tunnel_token, "token-scan-1");
  EXPECT_EQ(tunnels_.uploaded()[0].sha256_hex, scan.sha256_hex);
  EXPECT_FALSE(store_->GetPendingScan("scan-1")->has_value());
  EXPECT_TRUE(store_->UploadedScanSha("scan-1")->has_value());
  EXPECT_NE(access(scan.spool_path.c_str(), F_OK), 0);
  // The registration made for the scan (mfp-b swapped in) was undone.
  EXPECT_TRUE(registration_->IsRegistered("mfp-a"));
}

TEST_F(ScanUploadTest, AFailedTokenRequestKeepsTheScanPending) {
  PendingScan scan = SpoolScan("scan-1", "scanned pages");
  mgmt_.FailUploads(absl::UnavailableError("no session"));
  absl::Notification done;
  absl::Status result;
  handler_->UploadScan(scan, [&](absl::Status s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_EQ(result.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store_->GetPendingScan("scan-1")->has_value());
  EXPECT_EQ(access(scan.spool_path.c_str(), F_OK), 0);
}

TEST_F(ScanUploadTest, UploaderResumesPendingScansAndRetriesFailures) {
  SpoolScan("scan-old", "left by the previous run");
  tunnels_.FailScanUploads(2);
  // A zero draw makes every backoff zero: retries follow at once.
  ScanUploader uploader(store_.get(), handler_.get(), &clock_,
                        BackoffConfig{absl::Seconds(1), 2.0, absl::Seconds(5)},
                        [] { return 0.0; });
  ASSERT_THAT(uploader.Start(), IsOk());
  uploader.Enqueue(SpoolScan("scan-new", "fresh"));
  uploader.WaitAllUploaded();
  EXPECT_EQ(tunnels_.uploaded().size(), 2u);
  EXPECT_EQ(tunnels_.scan_attempts().size(), 4u);
  EXPECT_TRUE(store_->ListPendingScans()->empty());
  uploader.Shutdown();
}

}  // namespace
}  // namespace relay::gateway
