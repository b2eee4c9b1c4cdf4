#include "tools/mfp_sim/sim_device.h"

#include <thread>

#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tools/mfp_sim/sim_lan.h"

namespace relay::mfp_sim {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

const absl::Time kNoWait = absl::InfinitePast();

relay::v1::DeviceInfo Info(const std::string& id) {
  relay::v1::DeviceInfo info;
  info.set_device_id(id);
  info.set_status(relay::v1::DEVICE_STATUS_BUSY);  // Ignored: new devices are idle.
  return info;
}

relay::v1::PrintedJob Job(const std::string& id, const std::string& sha) {
  relay::v1::PrintedJob job;
  job.set_job_id(id);
  job.set_size(3);
  job.set_sha256_hex(sha);
  return job;
}

TEST(SimDeviceTest, BusyWhilePrintingThenIdle) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_IDLE);
  auto admission = device.AdmitPrint("job-1", kNoWait);
  ASSERT_THAT(admission, IsOk());
  EXPECT_FALSE(admission->duplicate);
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_BUSY);
  EXPECT_EQ(device.CurrentJob(), "job-1");

  // A second job does not start while busy (a scan neither).
  EXPECT_THAT(device.AdmitPrint("job-2", kNoWait),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(device.BeginScan("scan-1", kNoWait),
              StatusIs(absl::StatusCode::kUnavailable));

  device.RecordPrinted(Job("job-1", "abc"));
  device.FinishPrinted("job-1");
  device.EndJob();
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_IDLE);
  EXPECT_FALSE(device.CurrentJob().has_value());
  auto printed = device.Printed();
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].job_id(), "job-1");
  EXPECT_EQ(printed[0].finished_unix_ms(), absl::ToUnixMillis(clock.Now()));
}

TEST(SimDeviceTest, AJobIdIsPrintedAtMostOnce) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  ASSERT_THAT(device.AdmitPrint("job-1", kNoWait), IsOk());
  device.RecordPrinted(Job("job-1", "abc"));
  // While still printing: already a duplicate.
  auto during = device.AdmitPrint("job-1", kNoWait);
  ASSERT_THAT(during, IsOk());
  EXPECT_TRUE(during->duplicate);
  device.EndJob();

  auto again = device.AdmitPrint("job-1", kNoWait);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->earlier.sha256_hex(), "abc");
  // A duplicate does not occupy the device.
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_IDLE);
  device.RecordPrinted(Job("job-1", "other"));  // Ignored.
  EXPECT_EQ(device.Printed().size(), 1u);
}

TEST(SimDeviceTest, AbortedJobCanBeRetried) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  ASSERT_THAT(device.AdmitPrint("job-1", kNoWait), IsOk());
  device.EndJob();  // Stream broke before the data was complete.
  auto retry = device.AdmitPrint("job-1", kNoWait);
  ASSERT_THAT(retry, IsOk());
  EXPECT_FALSE(retry->duplicate);
  EXPECT_TRUE(device.Printed().empty());
}

TEST(SimDeviceTest, FaultRefusesJobs) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  device.SetFault(relay::v1::DEVICE_STATUS_PAPER_OUT);
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_PAPER_OUT);
  auto refused = device.AdmitPrint("job-1", kNoWait);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(refused.status().message(), "device mfp-1 is out of paper");
  device.SetFault(relay::v1::DEVICE_STATUS_IDLE);
  EXPECT_THAT(device.AdmitPrint("job-1", kNoWait), IsOk());
}

TEST(SimDeviceTest, WaitingJobStartsWhenTheDeviceIsFree) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  ASSERT_THAT(device.BeginScan("scan-1", kNoWait), IsOk());
  absl::StatusOr<PrintAdmission> waited;
  std::thread waiter(
      [&] { waited = device.AdmitPrint("job-2", absl::Now() + absl::Minutes(5)); });
  device.EndJob();
  waiter.join();
  ASSERT_THAT(waited, IsOk());
  EXPECT_FALSE(waited->duplicate);
  EXPECT_EQ(device.CurrentJob(), "job-2");
}

TEST(SimLanTest, DefaultFleetMatchesTheSeedExample) {
  auto fleet = SimLan::DefaultFleet(7, 201);
  ASSERT_EQ(fleet.size(), 7u);
  EXPECT_EQ(fleet[0].device_id(), "mfp-201");
  EXPECT_EQ(fleet[6].device_id(), "mfp-207");
  EXPECT_EQ(fleet[0].name(), "MFP 201");
  EXPECT_NE(fleet[0].model(), fleet[1].model());
  bool some_color = false, some_mono = false;
  for (const auto& device : fleet) {
    EXPECT_TRUE(device.capabilities().scan());
    EXPECT_TRUE(device.capabilities().print());
    EXPECT_EQ(device.protocol(), "mfp-sim");
    (device.capabilities().color() ? some_color : some_mono) = true;
  }
  EXPECT_TRUE(some_color);
  EXPECT_TRUE(some_mono);
}

TEST(SimLanTest, AddFindAndAddress) {
  relay::testing::FakeClock clock;
  SimLan lan(&clock);
  ASSERT_THAT(lan.Add(Info("mfp-1")), IsOk());
  lan.SetAddress("127.0.0.1:5000");
  ASSERT_THAT(lan.Add(Info("mfp-2")), IsOk());
  EXPECT_THAT(lan.Add(Info("mfp-2")), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(lan.Add(Info("../etc")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(lan.Add(Info("")), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_NE(lan.Find("mfp-1"), nullptr);
  EXPECT_EQ(lan.Find("mfp-1")->Info().address(), "127.0.0.1:5000");
  EXPECT_EQ(lan.Find("mfp-2")->Info().address(), "127.0.0.1:5000");
  EXPECT_EQ(lan.Find("nope"), nullptr);
  EXPECT_EQ(lan.List().size(), 2u);
}

// --- Related designs (issue 3) ---

TEST(SimDeviceTest, LocalBusyJobRefusesRemotePrintsAndCannotQueue) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  EXPECT_TRUE(device.Info().capabilities().accepts_queued_jobs());
  device.SetFault(relay::v1::DEVICE_STATUS_BUSY);
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_BUSY);
  EXPECT_FALSE(device.Info().capabilities().accepts_queued_jobs());
  EXPECT_THAT(device.AdmitPrint("job-1", kNoWait).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  device.SetFault(relay::v1::DEVICE_STATUS_IDLE);
  EXPECT_EQ(device.Info().status(), relay::v1::DEVICE_STATUS_IDLE);
  EXPECT_THAT(device.AdmitPrint("job-1", kNoWait), IsOk());
}

TEST(SimDeviceTest, CountersFollowPrintsAndScans) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  ASSERT_THAT(device.AdmitPrint("job-1", kNoWait), IsOk());
  device.RecordPrinted(Job("job-1", "abc"));
  device.EndJob();
  ASSERT_THAT(device.BeginScan("scan-1", kNoWait), IsOk());
  device.EndJob();
  relay::v1::DeviceCounters counters = device.Info().counters();
  EXPECT_EQ(counters.jobs_printed(), 1);
  EXPECT_EQ(counters.bytes_printed(), 3);
  EXPECT_EQ(counters.scans_sent(), 1);
}

TEST(SimDeviceTest, BoxListReadDeleteAndAccessLog) {
  relay::testing::FakeClock clock;
  SimDevice device(Info("mfp-1"), &clock);
  relay::v1::BoxDocument doc = device.PutBoxDocument("scans", "a.pdf", "", "hello");
  EXPECT_EQ(doc.size(), 5);
  relay::v1::BoxRequest request;
  request.set_box_id("scans");
  request.set_operation(relay::v1::BOX_OPERATION_LIST);
  auto listed = device.AccessBox(request);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->documents_size(), 1);
  request.set_operation(relay::v1::BOX_OPERATION_READ);
  request.set_document_id(doc.document_id());
  auto read = device.AccessBox(request);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->content(), "hello");
  request.set_operation(relay::v1::BOX_OPERATION_DELETE);
  ASSERT_THAT(device.AccessBox(request), IsOk());
  EXPECT_THAT(device.AccessBox(request).status(), StatusIs(absl::StatusCode::kNotFound));
  request.set_box_id("nope");
  EXPECT_THAT(device.AccessBox(request).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(device.BoxAccesses().size(), 5u);
}

TEST(SimLanTest, RemovedDeviceIsGone) {
  relay::testing::FakeClock clock;
  SimLan lan(&clock);
  ASSERT_THAT(lan.Add(Info("mfp-1")), IsOk());
  ASSERT_THAT(lan.Add(Info("mfp-2")), IsOk());
  ASSERT_THAT(lan.Remove("mfp-1"), IsOk());
  EXPECT_EQ(lan.Find("mfp-1"), nullptr);
  EXPECT_EQ(lan.List().size(), 1u);
  EXPECT_THAT(lan.Remove("mfp-1").status(), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace relay::mfp_sim
