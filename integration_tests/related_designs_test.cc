// The four related designs of issue 3 through the real processes (SPEC
// section 7): hold until executable, fresh device information, access
// conditions for a device's box, and a sleeping gateway woken by a
// substitute. Test names carry the design: Hold*, Refresh*, AccessCondition*,
// SubstituteWake*.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/relay_stack.h"

namespace relay::integration {
namespace {

using ::relay::testing::IsOk;
using ::relay::v1::Job;
using ::relay::v1::JobState;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int64_t kDocSize = 200 * 1024;

class RelatedDesignsTest : public ::testing::Test {
 protected:
  void StartStack(const StackOptions& options) {
    auto stack = RelayStack::Start(options);
    ASSERT_THAT(stack, IsOk());
    stack_ = std::move(*stack);
    ASSERT_THAT(stack_->WaitForPrinters([&](const auto& printers) {
      return static_cast<int>(printers.size()) == options.devices;
    }),
                IsOk());
  }

  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) stack_->KeepDirectory();
  }

  // Uploads a document and submits it to `device`; returns the job.
  Job Submit(const std::string& device, const std::string& content,
             const std::string& content_type = "application/pdf") {
    auto document = stack_->UploadAs(content, "held.pdf", content_type);
    EXPECT_THAT(document, IsOk());
    if (!document.ok()) return Job();
    auto job = stack_->SubmitPrint(document->document_id(), device);
    EXPECT_THAT(job, IsOk());
    return job.ok() ? *job : Job();
  }

  std::vector<relay::v1::PrintedJob> PrintedJob(const std::string& device,
                                                const std::string& job_id) {
    auto printed = stack_->Printed(device);
    EXPECT_THAT(printed, IsOk());
    std::vector<relay::v1::PrintedJob> matching;
    if (!printed.ok()) return matching;
    for (const auto& p : *printed) {
      if (p.job_id() == job_id) matching.push_back(p);
    }
    return matching;
  }

  std::unique_ptr<RelayStack> stack_;
};

bool HistoryHas(const Job& job, JobState state, const std::string& needle) {
  return std::any_of(job.history().begin(), job.history().end(), [&](const auto& e) {
    return e.state() == state && absl::StrContains(e.detail(), needle);
  });
}

// --- Design 3: hold until executable ---------------------------------------

TEST_F(RelatedDesignsTest, HoldWhileOutOfPaperThenPrintWhenRefilled) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));
  ASSERT_THAT(stack_->SetDeviceState("mfp-201", relay::v1::DEVICE_STATUS_PAPER_OUT), IsOk());
  std::string content = MakeDocument(kDocSize, 31);
  Job job = Submit("mfp-201", content);
  ASSERT_FALSE(job.job_id().empty());

  auto held = stack_->WaitForState(job.job_id(), relay::v1::JOB_STATE_HELD);
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(held->reason(), HasSubstr("out of paper"));
  EXPECT_THAT(PrintedJob("mfp-201", job.job_id()), IsEmpty());

  ASSERT_THAT(stack_->SetDeviceState("mfp-201", relay::v1::DEVICE_STATUS_IDLE), IsOk());
  Job final_job;
  auto states = stack_->WatchToEnd(job.job_id(), &final_job);
  ASSERT_THAT(states, IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  EXPECT_TRUE(HistoryHas(final_job, relay::v1::JOB_STATE_HELD, "out of paper"));
  auto printed = PrintedJob("mfp-201", job.job_id());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].sha256_hex(), Sha256::HexOf(content));
  EXPECT_EQ(printed[0].size(), kDocSize);
  // The gateway's log shows the hold and the delivery by proxy.
  EXPECT_THAT(stack_->LogLines("gateway", "event=job_held job=" + job.job_id()),
              Not(IsEmpty()));
  EXPECT_THAT(stack_->LogLines("gateway", "event=job_done job=" + job.job_id()),
              Contains(HasSubstr("from=hold")));
}

TEST_F(RelatedDesignsTest, HoldForEachFaultAndLocalBusy) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));
  const std::vector<std::pair<relay::v1::DeviceStatus, std::string>> faults = {
      {relay::v1::DEVICE_STATUS_TONER_EMPTY, "out of toner"},
      {relay::v1::DEVICE_STATUS_OFFLINE, "offline"},
      {relay::v1::DEVICE_STATUS_BUSY, "busy"}};
  int seed = 40;
  for (const auto& [status, words] : faults) {
    SCOPED_TRACE(words);
    ASSERT_THAT(stack_->SetDeviceState("mfp-202", status), IsOk());
    std::string content = MakeDocument(kDocSize / 4, ++seed);
    Job job = Submit("mfp-202", content);
    auto held = stack_->WaitForState(job.job_id(), relay::v1::JOB_STATE_HELD);
    ASSERT_THAT(held, IsOk());
    EXPECT_THAT(held->reason(), HasSubstr(words));
    ASSERT_THAT(stack_->SetDeviceState("mfp-202", relay::v1::DEVICE_STATUS_IDLE), IsOk());
    Job final_job;
    ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
    EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
    auto printed = PrintedJob("mfp-202", job.job_id());
    ASSERT_EQ(printed.size(), 1u);
    EXPECT_EQ(printed[0].sha256_hex(), Sha256::HexOf(content));
  }
}

TEST_F(RelatedDesignsTest, HoldForAFormatTheDeviceLacks) {
  StackOptions options;
  options.gateway_args = {"--hold_timeout=3s"};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  Job job = Submit("mfp-203", MakeDocument(1024, 5), "image/png");
  auto held = stack_->WaitForState(job.job_id(), relay::v1::JOB_STATE_HELD);
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(held->reason(), HasSubstr("does not print the format image/png"));
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(PrintedJob("mfp-203", job.job_id()), IsEmpty());
}

TEST_F(RelatedDesignsTest, HoldSurvivesGatewayRestart) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));
  ASSERT_THAT(stack_->SetDeviceState("mfp-204", relay::v1::DEVICE_STATUS_PAPER_OUT), IsOk());
  std::string content = MakeDocument(kDocSize, 77);
  Job job = Submit("mfp-204", content);
  ASSERT_THAT(stack_->WaitForState(job.job_id(), relay::v1::JOB_STATE_HELD), IsOk());

  stack_->StopGateway();
  ASSERT_THAT(stack_->SetDeviceState("mfp-204", relay::v1::DEVICE_STATUS_IDLE), IsOk());
  ASSERT_THAT(stack_->StartGateway(), IsOk());

  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  auto printed = PrintedJob("mfp-204", job.job_id());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].sha256_hex(), Sha256::HexOf(content));
}

TEST_F(RelatedDesignsTest, HoldExpiresWithAClearFailure) {
  StackOptions options;
  options.gateway_args = {"--hold_timeout=2s"};
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_THAT(stack_->SetDeviceState("mfp-205", relay::v1::DEVICE_STATUS_OFFLINE), IsOk());
  Job job = Submit("mfp-205", MakeDocument(4096, 9));
  ASSERT_THAT(stack_->WaitForState(job.job_id(), relay::v1::JOB_STATE_HELD), IsOk());
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(final_job.reason(), HasSubstr("hold expired"));
  EXPECT_THAT(final_job.reason(), HasSubstr("offline"));
  // Back online later: the expired job is not printed.
  ASSERT_THAT(stack_->SetDeviceState("mfp-205", relay::v1::DEVICE_STATUS_IDLE), IsOk());
  std::string content = MakeDocument(4096, 10);
  Job next = Submit("mfp-205", content);
  Job next_final;
  ASSERT_THAT(stack_->WatchToEnd(next.job_id(), &next_final), IsOk());
  EXPECT_EQ(next_final.state(), relay::v1::JOB_STATE_DONE);
  EXPECT_THAT(PrintedJob("mfp-205", job.job_id()), IsEmpty());
}

// --- Design 2: device information, fresh when it matters ---------------------

TEST_F(RelatedDesignsTest, RefreshAtSessionStartThenNotWhenFresh) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));  // --device_info_max_age=5m (default)
  // The session's establishment fetched every device's information.
  ASSERT_TRUE(WaitUntil(
      [&] { return !stack_->LogLines("mgmt", "event=device_info_stored").empty(); },
      absl::Seconds(30)));
  Job job = Submit("mfp-201", MakeDocument(4096, 1));
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE);
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refresh job=" + job.job_id()),
              IsEmpty());
}

TEST_F(RelatedDesignsTest, RefreshWhenStale) {
  StackOptions options;
  options.mgmt_args = {"--device_info_max_age=0s"};  // every access refreshes
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  Job job = Submit("mfp-202", MakeDocument(4096, 2));
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE);
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refresh job=" + job.job_id()),
              Contains(HasSubstr("reason=stale")));
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refreshed job=" + job.job_id()),
              Contains(HasSubstr("status=DEVICE_STATUS_IDLE")));
}

TEST_F(RelatedDesignsTest, RefreshForAnUnknownDevice) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));
  ASSERT_TRUE(WaitUntil(
      [&] { return !stack_->LogLines("mgmt", "event=device_info_stored").empty(); },
      absl::Seconds(30)));
  // A device appears after the session's fetch: listed, but its information
  // was never fetched.
  ASSERT_THAT(stack_->AddDevice("mfp-250"), IsOk());
  ASSERT_THAT(stack_->WaitForPrinters([](const auto& printers) {
    return std::any_of(printers.begin(), printers.end(),
                       [](const auto& p) { return p.device().device_id() == "mfp-250"; });
  }),
              IsOk());
  Job job = Submit("mfp-250", MakeDocument(4096, 3));
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refresh job=" + job.job_id()),
              Contains(HasSubstr("reason=unknown_device")));
}

TEST_F(RelatedDesignsTest, RefreshWhenTheLastStateWasAFault) {
  ASSERT_NO_FATAL_FAILURE(StartStack(StackOptions()));
  // The gateway's next session fetches the device while it is out of paper.
  ASSERT_THAT(stack_->SetDeviceState("mfp-203", relay::v1::DEVICE_STATUS_PAPER_OUT), IsOk());
  stack_->StopGateway();
  ASSERT_THAT(stack_->StartGateway(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] { return stack_->LogLines("mgmt", "event=device_info_stored").size() >= 2; },
      absl::Seconds(30)));
  // Refilled since: the refresh before routing sees it ready, and the job
  // prints without being held.
  ASSERT_THAT(stack_->SetDeviceState("mfp-203", relay::v1::DEVICE_STATUS_IDLE), IsOk());
  Job job = Submit("mfp-203", MakeDocument(4096, 4));
  Job final_job;
  auto states = stack_->WatchToEnd(job.job_id(), &final_job);
  ASSERT_THAT(states, IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE);
  EXPECT_THAT(*states, Not(Contains(relay::v1::JOB_STATE_HELD)));
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refresh job=" + job.job_id()),
              Contains(HasSubstr("reason=last_state_fault")));
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_info_refreshed job=" + job.job_id()),
              Contains(HasSubstr("status=DEVICE_STATUS_IDLE")));
}

TEST_F(RelatedDesignsTest, RefreshShowsTheDeviceGone) {
  StackOptions options;
  options.mgmt_args = {"--device_info_max_age=0s"};
  // Discovery would drop the device on its own only after several rounds.
  options.discovery_interval = absl::Minutes(10);
  ASSERT_NO_FATAL_FAILURE(StartStack(options));
  ASSERT_THAT(stack_->RemoveDevice("mfp-204"), IsOk());
  Job job = Submit("mfp-204", MakeDocument(4096, 5));
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(final_job.reason(), HasSubstr("is gone"));
  EXPECT_THAT(stack_->LogLines("mgmt", "event=device_gone job=" + job.job_id()),
              Not(IsEmpty()));
}

}  // namespace
}  // namespace relay::integration
