#include "cloud_server/sqlite_cloud_store.h"

#include <memory>
#include <string>

#include "cloud_server/blob_store.h"
#include "cloud_server/testing/temp_dir.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::cloud {
namespace {

using ::relay::cloud::testing::CountFiles;
using ::relay::cloud::testing::TempDir;
using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using relay::v1::Job;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Job NewJob(const std::string& id, const std::string& user) {
  Job job;
  job.set_job_id(id);
  job.set_user_id(user);
  job.set_document_id("doc-1");
  job.set_document_name("a.pdf");
  job.set_device_id("mfp-1");
  job.set_gateway_id("gw-1");
  job.set_state(relay::v1::JOB_STATE_QUEUED);
  job.set_created_unix(absl::ToUnixSeconds(kT0));
  job.set_updated_unix(absl::ToUnixSeconds(kT0));
  relay::v1::JobEvent* event = job.add_history();
  event->set_time_unix_ms(absl::ToUnixMillis(kT0));
  event->set_state(relay::v1::JOB_STATE_QUEUED);
  event->set_detail("submitted");
  return job;
}

class SqliteCloudStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteCloudStore::Open(dir_.path() + "/cloud.db");
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
  }
  void Reopen() {
    store_.reset();
    auto store = SqliteCloudStore::Open(dir_.path() + "/cloud.db");
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
  }

  TempDir dir_;
  std::unique_ptr<SqliteCloudStore> store_;
};

TEST_F(SqliteCloudStoreTest, DocumentsBelongToTheirUser) {
  StoredDocument d;
  d.user_id = "alice";
  d.blob_name = "b1.blob";
  d.document.set_document_id("doc-1");
  d.document.set_name("report.pdf");
  d.document.set_size(42);
  ASSERT_THAT(store_->InsertDocument(d), IsOk());
  EXPECT_THAT(store_->InsertDocument(d), StatusIs(absl::StatusCode::kAlreadyExists));

  auto got = store_->GetDocument("alice", "doc-1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->document.name(), "report.pdf");
  EXPECT_EQ(got->blob_name, "b1.blob");
  EXPECT_THAT(store_->GetDocument("bob", "doc-1"), StatusIs(absl::StatusCode::kNotFound));
  auto bobs = store_->ListDocuments("bob");
  ASSERT_THAT(bobs, IsOk());
  EXPECT_TRUE(bobs->empty());
  auto names = store_->ListBlobNames();
  ASSERT_THAT(names, IsOk());
  EXPECT_THAT(*names, ::testing::ElementsAre("b1.blob"));
}

TEST_F(SqliteCloudStoreTest, CreateJobIsIdempotentPerUserAndRequestId) {
  auto first = store_->CreateJob(NewJob("job-1", "alice"), "req-1");
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->second);
  auto again = store_->CreateJob(NewJob("job-2", "alice"), "req-1");
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.job_id(), "job-1");
  // Another user may use the same key.
  auto bob = store_->CreateJob(NewJob("job-3", "bob"), "req-1");
  ASSERT_THAT(bob, IsOk());
  EXPECT_TRUE(bob->second);
  // No key: always a new job.
  ASSERT_THAT(store_->CreateJob(NewJob("job-4", "alice"), ""), IsOk());
  ASSERT_THAT(store_->CreateJob(NewJob("job-5", "alice"), ""), IsOk());
  auto jobs = store_->ListJobs("alice");
  ASSERT_THAT(jobs, IsOk());
  EXPECT_EQ(jobs->size(), 3u);
}

TEST_F(SqliteCloudStoreTest, UpdatesAppendHistoryAndFinalStatesAreFrozen) {
  ASSERT_THAT(store_->CreateJob(NewJob("job-1", "alice"), ""), IsOk());
  JobUpdate printing;
  printing.state = relay::v1::JOB_STATE_PRINTING;
  printing.detail = "tunnel opened";
  printing.gateway_id = "gw-2";
  printing.time = kT0 + absl::Seconds(1);
  ASSERT_THAT(store_->UpdateJob("job-1", printing), IsOk());

  JobUpdate wrong_state;
  wrong_state.state = relay::v1::JOB_STATE_QUEUED;
  wrong_state.only_from = {relay::v1::JOB_STATE_HELD};
  wrong_state.time = kT0 + absl::Seconds(2);
  EXPECT_THAT(store_->UpdateJob("job-1", wrong_state),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  JobUpdate done;
  done.state = relay::v1::JOB_STATE_DONE;
  done.detail = "printed";
  done.time = kT0 + absl::Seconds(3);
  auto after = store_->UpdateJob("job-1", done);
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->state(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(after->gateway_id(), "gw-2");
  ASSERT_EQ(after->history_size(), 3);
  EXPECT_EQ(after->history(1).state(), relay::v1::JOB_STATE_PRINTING);
  EXPECT_EQ(after->history(2).detail(), "printed");

  JobUpdate late;
  late.state = relay::v1::JOB_STATE_FAILED;
  late.time = kT0 + absl::Seconds(4);
  EXPECT_THAT(store_->UpdateJob("job-1", late),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_->UpdateJob("job-x", late), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SqliteCloudStoreTest, UnfinishedJobsSurviveAReopen) {
  ASSERT_THAT(store_->CreateJob(NewJob("job-1", "alice"), ""), IsOk());
  ASSERT_THAT(store_->CreateJob(NewJob("job-2", "alice"), ""), IsOk());
  JobUpdate done;
  done.state = relay::v1::JOB_STATE_DONE;
  done.time = kT0;
  ASSERT_THAT(store_->UpdateJob("job-2", done), IsOk());
  Reopen();
  auto unfinished = store_->ListUnfinishedJobs();
  ASSERT_THAT(unfinished, IsOk());
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].job_id(), "job-1");
  EXPECT_EQ((*unfinished)[0].history_size(), 1);
}

TEST_F(SqliteCloudStoreTest, ScanIdsAreUnique) {
  StoredScan s;
  s.user_id = "bob";
  s.blob_name = "s.blob";
  s.scan.set_scan_id("scan-1");
  s.scan.set_size(7);
  ASSERT_THAT(store_->InsertScan(s), IsOk());
  s.user_id = "alice";
  EXPECT_THAT(store_->InsertScan(s), StatusIs(absl::StatusCode::kAlreadyExists));
  auto found = store_->FindScan("scan-1");
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->user_id, "bob");
  auto alices = store_->ListScans("alice");
  ASSERT_THAT(alices, IsOk());
  EXPECT_TRUE(alices->empty());
}

TEST_F(SqliteCloudStoreTest, DeviceMirrorKeepsTheNewestVersion) {
  relay::v1::DeviceList v2;
  v2.set_gateway_id("gw-1");
  v2.set_version(2);
  v2.add_devices()->set_device_id("mfp-1");
  v2.add_devices()->set_device_id("mfp-2");
  auto kept = store_->PutDeviceList(v2, kT0);
  ASSERT_THAT(kept, IsOk());
  EXPECT_TRUE(*kept);
  relay::v1::DeviceList v1 = v2;
  v1.set_version(1);
  v1.clear_devices();
  kept = store_->PutDeviceList(v1, kT0);
  ASSERT_THAT(kept, IsOk());
  EXPECT_FALSE(*kept);

  ASSERT_THAT(store_->SetGatewayOnline("gw-1", false, kT0 + absl::Seconds(5)), IsOk());
  auto gateways = store_->ListGateways();
  ASSERT_THAT(gateways, IsOk());
  ASSERT_EQ(gateways->size(), 1u);
  EXPECT_EQ((*gateways)[0].device_list.version(), 2);
  EXPECT_EQ((*gateways)[0].device_list.devices_size(), 2);
  EXPECT_FALSE((*gateways)[0].online);
  EXPECT_EQ((*gateways)[0].last_update, kT0 + absl::Seconds(5));
}

TEST_F(SqliteCloudStoreTest, TokenNoncesAreUsedOnceAndForgottenAfterExpiry) {
  absl::Time expires = kT0 + absl::Minutes(5);
  ASSERT_THAT(store_->ConsumeTokenNonce("n1", expires, kT0), IsOk());
  EXPECT_THAT(store_->ConsumeTokenNonce("n1", expires, kT0),
              StatusIs(absl::StatusCode::kAlreadyExists));
  Reopen();
  EXPECT_THAT(store_->ConsumeTokenNonce("n1", expires, kT0 + absl::Minutes(1)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Long after expiry the nonce is pruned (the token itself is refused as
  // expired by then).
  EXPECT_THAT(store_->ConsumeTokenNonce("n2", expires, kT0 + absl::Hours(1)), IsOk());
  EXPECT_THAT(store_->ConsumeTokenNonce("n1", expires, kT0 + absl::Hours(1)), IsOk());
}

TEST(BlobStoreTest, CommitIsAtomicAndDiscardLeavesNothing) {
  TempDir dir;
  std::string blobs_dir = dir.path() + "/blobs";
  auto blobs = BlobStore::Open(blobs_dir);
  ASSERT_THAT(blobs, IsOk());

  auto writer = (*blobs)->NewWriter();
  ASSERT_THAT(writer, IsOk());
  ASSERT_THAT((*writer)->Append("hello "), IsOk());
  ASSERT_THAT((*writer)->Append("world"), IsOk());
  EXPECT_EQ(CountFiles(blobs_dir), 0);  // Not visible before the commit.
  EXPECT_EQ(CountFiles(blobs_dir + "/tmp"), 1);
  EXPECT_EQ((*writer)->FinishHash(), Sha256::HexOf("hello world"));
  ASSERT_THAT((*writer)->Commit(), IsOk());
  EXPECT_EQ(CountFiles(blobs_dir), 1);
  EXPECT_EQ(CountFiles(blobs_dir + "/tmp"), 0);
  std::string name = (*writer)->name();

  auto reader = (*blobs)->OpenReader(name);
  ASSERT_THAT(reader, IsOk());
  std::string out;
  ASSERT_THAT((*reader)->ReadAt(6, 100, &out), IsOk());
  EXPECT_EQ(out, "world");

  {
    auto abandoned = (*blobs)->NewWriter();
    ASSERT_THAT(abandoned, IsOk());
    ASSERT_THAT((*abandoned)->Append("partial"), IsOk());
  }  // Destroyed uncommitted.
  EXPECT_EQ(CountFiles(blobs_dir + "/tmp"), 0);
  EXPECT_EQ(CountFiles(blobs_dir), 1);

  auto orphan = (*blobs)->NewWriter();
  ASSERT_THAT(orphan, IsOk());
  ASSERT_THAT((*orphan)->Commit(), IsOk());
  EXPECT_EQ(CountFiles(blobs_dir), 2);
  auto removed = (*blobs)->RemoveUnreferenced({name});
  ASSERT_THAT(removed, IsOk());
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(CountFiles(blobs_dir), 1);
}

TEST(BlobStoreTest, OpenDeletesLeftoverTemporaryFiles) {
  TempDir dir;
  std::string blobs_dir = dir.path() + "/blobs";
  {
    auto blobs = BlobStore::Open(blobs_dir);
    ASSERT_THAT(blobs, IsOk());
    auto writer = (*blobs)->NewWriter();
    ASSERT_THAT(writer, IsOk());
    ASSERT_THAT((*writer)->Append("half a scan"), IsOk());
    // Simulate a crash: the writer's file stays behind.
    std::filesystem::copy_file(blobs_dir + "/tmp/" + (*writer)->name() + ".part",
                               blobs_dir + "/tmp/crashed.part");
  }
  EXPECT_EQ(CountFiles(blobs_dir + "/tmp"), 1);
  auto reopened = BlobStore::Open(blobs_dir);
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ(CountFiles(blobs_dir + "/tmp"), 0);
}

}  // namespace
}  // namespace relay::cloud
