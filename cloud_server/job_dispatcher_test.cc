#include "cloud_server/job_dispatcher.h"

#include <memory>
#include <string>
#include <vector>

#include "cloud_server/blob_store.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_manager.h"
#include "cloud_server/job_notifier.h"
#include "cloud_server/sqlite_cloud_store.h"
#include "cloud_server/testing/fake_access_router.h"
#include "cloud_server/testing/temp_dir.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::cloud {
namespace {

using ::relay::cloud::testing::FakeAccessRouter;
using ::relay::cloud::testing::TempDir;
using ::relay::testing::FakeClock;
using ::relay::testing::IsOk;
using ::testing::HasSubstr;
using relay::v1::Job;

class JobDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteCloudStore::Open(dir_.path() + "/cloud.db");
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
    auto blobs = BlobStore::Open(dir_.path() + "/blobs");
    ASSERT_THAT(blobs, IsOk());
    blobs_ = std::move(blobs).value();
    mirror_ = std::make_unique<DeviceMirror>(store_.get(), &clock_);
    jobs_ = std::make_unique<JobManager>(store_.get(), blobs_.get(), mirror_.get(),
                                         &notifier_, &clock_);
    options_.initial_backoff = absl::Milliseconds(250);
    options_.max_backoff = absl::Seconds(5);
    options_.redispatch_after = absl::Minutes(2);
    NewDispatcher();

    StoredDocument doc;
    doc.user_id = "alice";
    doc.blob_name = "x.blob";
    doc.document.set_document_id("doc-1");
    doc.document.set_name("report.pdf");
    doc.document.set_content_type("application/pdf");
    doc.document.set_size(1234);
    ASSERT_THAT(store_->InsertDocument(doc), IsOk());
    relay::v1::DeviceList list;
    list.set_gateway_id("gw-1");
    list.set_version(1);
    relay::v1::DeviceInfo* device = list.add_devices();
    device->set_device_id("mfp-1");
    device->set_registered(true);
    ASSERT_THAT(mirror_->UpdateDevices(list), IsOk());
  }

  void NewDispatcher() {
    dispatcher_.reset();
    dispatcher_ = std::make_unique<JobDispatcher>(jobs_.get(), mirror_.get(), &router_,
                                                  &signer_, &clock_, options_);
    jobs_->SetQueuedListener([this](const std::string& id) { dispatcher_->Wake(id); });
  }

  Job Submit() {
    auto job = jobs_->SubmitPrint("alice", "doc-1", "mfp-1", "");
    EXPECT_THAT(job, IsOk());
    return *job;
  }

  Job Load(const std::string& id) {
    auto job = store_->GetJob(id);
    EXPECT_THAT(job, IsOk());
    return *job;
  }

  TempDir dir_;
  FakeClock clock_;
  JobNotifier notifier_;
  std::unique_ptr<SqliteCloudStore> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<DeviceMirror> mirror_;
  std::unique_ptr<JobManager> jobs_;
  TunnelTokenSigner signer_{std::string(32, 'k'), &clock_, absl::Minutes(5)};
  FakeAccessRouter router_;
  DispatcherOptions options_;
  std::unique_ptr<JobDispatcher> dispatcher_;
};

TEST_F(JobDispatcherTest, RoutesAQueuedJobWithATokenBoundToIt) {
  Job job = Submit();
  dispatcher_->RunOnce();
  ASSERT_EQ(router_.request_count(), 1);
  relay::v1::AccessRequest request = router_.requests()[0];
  EXPECT_EQ(request.job_id(), job.job_id());
  EXPECT_EQ(request.device_id(), "mfp-1");
  EXPECT_EQ(request.direction(), relay::v1::DIRECTION_PRINT);
  EXPECT_EQ(request.user_id(), "alice");
  EXPECT_EQ(request.document_name(), "report.pdf");
  EXPECT_EQ(request.document_size(), 1234);
  TunnelClaims expected;
  expected.direction = relay::v1::DIRECTION_PRINT;
  expected.access_id = job.job_id();
  expected.gateway_id = "gw-1";
  expected.device_id = "mfp-1";
  EXPECT_THAT(signer_.Verify(request.tunnel_token(), expected), IsOk());

  Job after = Load(job.job_id());
  EXPECT_EQ(after.state(), relay::v1::JOB_STATE_QUEUED);
  EXPECT_THAT(after.history().rbegin()->detail(), HasSubstr("sent to gateway gw-1"));
  // Nothing more until the redispatch timer.
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 1);
}

TEST_F(JobDispatcherTest, BacksOffUpToTheCapWhileTheGatewayIsOffline) {
  router_.SetDefaultReply(absl::UnavailableError("gateway gw-1 has no session"));
  Job job = Submit();
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 8; ++i) {
    absl::Time before = clock_.Now();
    absl::Time next = dispatcher_->RunOnce();
    delays.push_back(next - before);
    clock_.Set(next);
  }
  EXPECT_EQ(router_.request_count(), 8);
  EXPECT_THAT(delays, ::testing::ElementsAre(
                          absl::Milliseconds(250), absl::Milliseconds(500), absl::Seconds(1),
                          absl::Seconds(2), absl::Seconds(4), absl::Seconds(5),
                          absl::Seconds(5), absl::Seconds(5)));
  Job waiting = Load(job.job_id());
  EXPECT_EQ(waiting.state(), relay::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(waiting.reason(), "gateway gw-1 is offline; retrying");
  // One history event for the whole streak, not one per retry.
  EXPECT_EQ(waiting.history_size(), 2);
  auto printers = mirror_->ListPrinters();
  ASSERT_THAT(printers, IsOk());
  EXPECT_FALSE((*printers)[0].gateway_online());

  // The gateway comes back.
  router_.SetDefaultReply(std::string("gw-1"));
  dispatcher_->RunOnce();
  Job routed = Load(job.job_id());
  EXPECT_EQ(routed.reason(), "");
  printers = mirror_->ListPrinters();
  ASSERT_THAT(printers, IsOk());
  EXPECT_TRUE((*printers)[0].gateway_online());
}

TEST_F(JobDispatcherTest, UnreachableManagementServerIsRetried) {
  router_.QueueReply(absl::UnavailableError("failed to connect"), /*server_answered=*/false);
  Job job = Submit();
  absl::Time next = dispatcher_->RunOnce();
  EXPECT_EQ(Load(job.job_id()).reason(), "the management server is unreachable; retrying");
  clock_.Set(next);
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 2);
  EXPECT_EQ(Load(job.job_id()).reason(), "");
}

TEST_F(JobDispatcherTest, DeviceUnknownToTheManagementServerFailsTheJob) {
  router_.QueueReply(absl::NotFoundError("no gateway knows mfp-1"));
  Job job = Submit();
  dispatcher_->RunOnce();
  Job failed = Load(job.job_id());
  EXPECT_EQ(failed.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("device mfp-1 is not known to any gateway"));
  EXPECT_EQ(dispatcher_->PendingJobs(), 0);
}

TEST_F(JobDispatcherTest, DeviceGoneFromTheMirrorFailsWithoutAsking) {
  Job job = Submit();
  relay::v1::DeviceList empty;
  empty.set_gateway_id("gw-1");
  empty.set_version(2);
  ASSERT_THAT(mirror_->UpdateDevices(empty), IsOk());
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 0);
  Job failed = Load(job.job_id());
  EXPECT_EQ(failed.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("not known to any gateway"));
}

TEST_F(JobDispatcherTest, PermanentRefusalFailsTheJob) {
  router_.QueueReply(absl::InvalidArgumentError("bad token field"));
  Job job = Submit();
  dispatcher_->RunOnce();
  Job failed = Load(job.job_id());
  EXPECT_EQ(failed.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.reason(), HasSubstr("refused"));
}

TEST_F(JobDispatcherTest, RoutesAgainWithAFreshTokenWhenNoTunnelOpens) {
  Job job = Submit();
  absl::Time next = dispatcher_->RunOnce();
  EXPECT_EQ(next, clock_.Now() + absl::Minutes(2));
  clock_.Advance(absl::Minutes(1));
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 1);
  clock_.Advance(absl::Minutes(1));
  dispatcher_->RunOnce();
  ASSERT_EQ(router_.request_count(), 2);
  EXPECT_NE(router_.requests()[0].tunnel_token(), router_.requests()[1].tunnel_token());
}

TEST_F(JobDispatcherTest, ProgressFromTheGatewayPostponesTheRedispatch) {
  Job job = Submit();
  dispatcher_->RunOnce();
  clock_.Advance(absl::Minutes(1));
  relay::v1::JobProgress progress;
  progress.set_job_id(job.job_id());
  progress.set_gateway_id("gw-1");
  progress.set_state(relay::v1::JOB_STATE_WAITING_FOR_SLOT);
  progress.set_reason("every registered device is busy");
  ASSERT_THAT(jobs_->ApplyProgress(progress), IsOk());
  clock_.Advance(absl::Minutes(1));
  absl::Time next = dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 1);
  EXPECT_EQ(next, clock_.Now() + absl::Minutes(1));
  clock_.Set(next);
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 2);
  // The gateway's reason stays: it still holds the job.
  EXPECT_EQ(Load(job.job_id()).reason(), "every registered device is busy");
}

TEST_F(JobDispatcherTest, FinishedJobsAreDropped) {
  Job job = Submit();
  dispatcher_->RunOnce();
  ASSERT_THAT(jobs_->Fail(job.job_id(), "cancelled by test"), IsOk());
  clock_.Advance(absl::Minutes(3));
  dispatcher_->RunOnce();
  EXPECT_EQ(router_.request_count(), 1);
  EXPECT_EQ(dispatcher_->PendingJobs(), 0);
}

TEST_F(JobDispatcherTest, ResumesUnfinishedJobsAfterARestart) {
  Job pending = Submit();
  Job done = Submit();
  ASSERT_THAT(jobs_->Fail(done.job_id(), "finished before the restart"), IsOk());
  // "Restart": a new dispatcher over the same store, nothing in memory.
  NewDispatcher();
  EXPECT_EQ(dispatcher_->PendingJobs(), 0);
  ASSERT_THAT(dispatcher_->LoadUnfinishedJobs(), IsOk());
  dispatcher_->RunOnce();
  ASSERT_EQ(router_.request_count(), 1);
  EXPECT_EQ(router_.requests()[0].job_id(), pending.job_id());
}

TEST_F(JobDispatcherTest, TheThreadWakesAtOnceWhenAJobIsSubmitted) {
  ASSERT_THAT(dispatcher_->Start(), IsOk());
  Job job = Submit();
  // Event-driven: returns as soon as the request arrives.
  ASSERT_TRUE(router_.WaitForRequests(1));
  EXPECT_EQ(router_.requests()[0].job_id(), job.job_id());
  dispatcher_->Stop();
}

}  // namespace
}  // namespace relay::cloud
