// The whole path through the real processes: cloud print and cloud scan,
// registration control as seen from outside, and restarts.

#include <algorithm>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/relay_stack.h"
#include "integration_tests/stack_test.h"

namespace relay::integration {
namespace {

using ::relay::testing::IsOk;
using ::relay::v1::Job;
using ::relay::v1::JobState;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDocSize = 300 * 1024;

bool HasDevice(const std::vector<relay::v1::Printer>& printers, const std::string& id) {
  return std::any_of(printers.begin(), printers.end(),
                     [&](const auto& p) { return p.device().device_id() == id; });
}

// Waits until the cloud's copy of the device list shows exactly `expected`
// as registered.
void ExpectRegisteredSoon(RelayStack& stack, std::vector<std::string> expected) {
  std::sort(expected.begin(), expected.end());
  absl::Status status = stack.WaitForPrinters([&](const auto& printers) {
    std::vector<std::string> registered;
    for (const auto& p : printers) {
      if (p.device().registered()) registered.push_back(p.device().device_id());
    }
    std::sort(registered.begin(), registered.end());
    return registered == expected;
  });
  EXPECT_THAT(status, IsOk());
}

class RelayFlowTest : public StackTest {
 protected:
  // Uploads a document, prints it on `device` and follows it to its end.
  // Returns the states seen; checks the device printed the exact bytes.
  std::vector<JobState> PrintAndVerify(const std::string& device, uint32_t seed,
                                       Job* final_job, const std::string& user = "alice") {
    std::string content = MakeDocument(kDocSize, seed);
    auto document = stack_->Upload(content, "report.pdf", user);
    EXPECT_THAT(document, IsOk());
    if (!document.ok()) return {};
    EXPECT_EQ(document->sha256_hex(), Sha256::HexOf(content));
    auto job = stack_->SubmitPrint(document->document_id(), device, user);
    EXPECT_THAT(job, IsOk());
    if (!job.ok()) return {};
    auto states = stack_->WatchToEnd(job->job_id(), final_job, absl::Seconds(60), user);
    EXPECT_THAT(states, IsOk());
    if (!states.ok()) return {};
    EXPECT_EQ(final_job->state(), relay::v1::JOB_STATE_DONE) << final_job->reason();
    auto printed = stack_->Printed(device);
    EXPECT_THAT(printed, IsOk());
    if (printed.ok()) {
      auto it = std::find_if(printed->begin(), printed->end(),
                             [&](const auto& p) { return p.job_id() == job->job_id(); });
      EXPECT_NE(it, printed->end()) << "device " << device << " never printed the job";
      if (it != printed->end()) {
        EXPECT_EQ(it->sha256_hex(), Sha256::HexOf(content));
        EXPECT_EQ(it->size(), kDocSize);
      }
    }
    return *states;
  }
};

TEST_F(RelayFlowTest, PrintToRegisteredDeviceChangesNoRegistration) {
  StartStack(StackOptions{});
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  Job job;
  std::vector<JobState> states = PrintAndVerify("mfp-202", 1, &job);
  EXPECT_THAT(states, Contains(relay::v1::JOB_STATE_PRINTING));
  EXPECT_EQ(job.gateway_id(), "gw-test-1");
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  // The job can be followed across the three processes by its id.
  EXPECT_THAT(stack_->LogLines("cloud", "job=" + job.job_id()), Not(::testing::IsEmpty()));
  EXPECT_THAT(stack_->LogLines("mgmt", "job=" + job.job_id()), Not(::testing::IsEmpty()));
  EXPECT_THAT(stack_->LogLines("gateway", "job=" + job.job_id()), Not(::testing::IsEmpty()));
}

TEST_F(RelayFlowTest, PrintToUnregisteredDeviceWithFreeSlotRegistersIt) {
  StackOptions options;
  options.devices = 4;
  options.nmax = 6;
  options.mode = "margin";
  options.margin = 3;  // Pre-registers Nmax - M = 3: 201..203.
  StartStack(options);
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203"});
  Job job;
  PrintAndVerify("mfp-204", 2, &job);
  bool registered_during_job = false;
  for (const auto& event : job.history()) {
    if (event.detail().find("registered mfp-204") != std::string::npos) {
      registered_during_job = true;
    }
  }
  EXPECT_TRUE(registered_during_job) << job.DebugString();
}

TEST_F(RelayFlowTest, SwapThenRevertRestoresTheSwappedOutDevice) {
  StartStack(StackOptions{});  // swap, Nmax 5, revert
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  Job job;
  PrintAndVerify("mfp-207", 3, &job);
  std::string history;
  for (const auto& event : job.history()) history += event.detail() + "\n";
  EXPECT_THAT(history, HasSubstr("registered mfp-207 in place of"));
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
}

TEST_F(RelayFlowTest, SwapThenKeepLeavesTheNewDeviceRegistered) {
  StackOptions options;
  options.after_job = "keep";
  StartStack(options);
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  Job job;
  PrintAndVerify("mfp-207", 4, &job);
  auto registered = stack_->RegisteredDevices();
  ASSERT_THAT(registered, IsOk());
  EXPECT_THAT(*registered, Contains("mfp-207"));
  EXPECT_EQ(registered->size(), 5u);
}

TEST_F(RelayFlowTest, PerUserPolicyOverridesTheDefault) {
  StackOptions options;
  options.after_job = "revert";
  options.user_after_job = "bob=keep";
  StartStack(options);
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  Job job;
  PrintAndVerify("mfp-206", 5, &job, "bob");
  auto registered = stack_->RegisteredDevices();
  ASSERT_THAT(registered, IsOk());
  EXPECT_THAT(*registered, Contains("mfp-206"));
  EXPECT_EQ(registered->size(), 5u);
}

TEST_F(RelayFlowTest, EveryRegisteredDeviceBusyWaitsThenSwaps) {
  StackOptions options;
  options.devices = 3;
  options.nmax = 2;
  options.print_time = absl::Seconds(3);
  StartStack(options);
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202"});
  std::string content = MakeDocument(kDocSize, 6);
  auto document = stack_->Upload(content);
  ASSERT_THAT(document, IsOk());
  auto job1 = stack_->SubmitPrint(document->document_id(), "mfp-201");
  auto job2 = stack_->SubmitPrint(document->document_id(), "mfp-202");
  ASSERT_THAT(job1, IsOk());
  ASSERT_THAT(job2, IsOk());
  ASSERT_THAT(stack_->WaitForState(job1->job_id(), relay::v1::JOB_STATE_PRINTING), IsOk());
  ASSERT_THAT(stack_->WaitForState(job2->job_id(), relay::v1::JOB_STATE_PRINTING), IsOk());
  auto job3 = stack_->SubmitPrint(document->document_id(), "mfp-203");
  ASSERT_THAT(job3, IsOk());
  Job final_job;
  auto states = stack_->WatchToEnd(job3->job_id(), &final_job);
  ASSERT_THAT(states, IsOk());
  EXPECT_THAT(*states, ::testing::IsSupersetOf({relay::v1::JOB_STATE_WAITING_FOR_SLOT,
                                                relay::v1::JOB_STATE_PRINTING,
                                                relay::v1::JOB_STATE_DONE}));
  auto waiting = std::find(states->begin(), states->end(), relay::v1::JOB_STATE_WAITING_FOR_SLOT);
  auto printing = std::find(states->begin(), states->end(), relay::v1::JOB_STATE_PRINTING);
  EXPECT_LT(waiting, printing);
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  Job done;
  ASSERT_THAT(stack_->WatchToEnd(job1->job_id(), &done), IsOk());
  ASSERT_THAT(stack_->WatchToEnd(job2->job_id(), &done), IsOk());
}

TEST_F(RelayFlowTest, MarginModeAddsThenDropsAfterTheJob) {
  StackOptions options;
  options.mode = "margin";
  options.nmax = 6;
  options.margin = 2;  // The seed's third embodiment: 4 pre-registered.
  StartStack(options);
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204"});
  Job job;
  PrintAndVerify("mfp-207", 7, &job);
  std::string history;
  for (const auto& event : job.history()) history += event.detail() + "\n";
  EXPECT_THAT(history, HasSubstr("registered mfp-207"));
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204"});
}

TEST_F(RelayFlowTest, ScanFromUnregisteredDeviceArrivesIdentical) {
  StartStack(StackOptions{});
  ExpectRegisteredSoon(*stack_, {"mfp-201", "mfp-202", "mfp-203", "mfp-204", "mfp-205"});
  auto scan = stack_->StartScan("mfp-207", "alice", 3, 200 * 1024);
  ASSERT_THAT(scan, IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto scans = stack_->Scans("alice");
        return scans.ok() && std::any_of(scans->begin(), scans->end(), [&](const auto& s) {
                 return s.scan_id() == scan->scan_id();
               });
      },
      absl::Seconds(60)))
      << "scan never reached the cloud";
  auto data = stack_->DownloadScan(scan->scan_id(), "alice");
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(static_cast<int64_t>(data->size()), scan->size());
  EXPECT_EQ(Sha256::HexOf(*data), scan->sha256_hex());
  // Another user does not see it.
  auto bobs = stack_->Scans("bob");
  ASSERT_THAT(bobs, IsOk());
  EXPECT_TRUE(bobs->empty());
}

TEST_F(RelayFlowTest, ManagementServerRestartNeedsNoGatewayRestart) {
  StartStack(StackOptions{});
  stack_->StopMgmt();
  // A job accepted while the management server is down is not lost.
  std::string content = MakeDocument(kDocSize, 8);
  auto document = stack_->Upload(content);
  ASSERT_THAT(document, IsOk());
  auto job = stack_->SubmitPrint(document->document_id(), "mfp-203");
  ASSERT_THAT(job, IsOk());
  ASSERT_THAT(stack_->StartMgmt(), IsOk());
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job->job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  Job second;
  PrintAndVerify("mfp-204", 9, &second);
}

TEST_F(RelayFlowTest, GatewayRestartKeepsRegistrationsAndDeliversQueuedJobs) {
  StackOptions options;
  options.after_job = "keep";
  StartStack(options);
  Job job;
  PrintAndVerify("mfp-207", 10, &job);  // Swap kept: 207 now registered.
  auto before = stack_->RegisteredDevices();
  ASSERT_THAT(before, IsOk());
  stack_->StopGateway();
  std::string content = MakeDocument(kDocSize, 11);
  auto document = stack_->Upload(content);
  ASSERT_THAT(document, IsOk());
  auto queued = stack_->SubmitPrint(document->document_id(), "mfp-207");
  ASSERT_THAT(queued, IsOk());
  ASSERT_THAT(stack_->StartGateway(), IsOk());
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(queued->job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  ExpectRegisteredSoon(*stack_, *before);
  // Each job printed exactly once.
  auto printed = stack_->Printed("mfp-207");
  ASSERT_THAT(printed, IsOk());
  EXPECT_EQ(printed->size(), 2u);
}

TEST_F(RelayFlowTest, DeviceAppearingInTheLanShowsUpInTheCloud) {
  StartStack(StackOptions{});
  ASSERT_THAT(stack_->AddDevice("mfp-299"), IsOk());
  EXPECT_THAT(stack_->WaitForPrinters(
                  [](const auto& printers) { return HasDevice(printers, "mfp-299"); }),
              IsOk());
}

TEST_F(RelayFlowTest, UnknownDeviceAndJobGetClearErrors) {
  StartStack(StackOptions{});
  auto document = stack_->Upload("hello");
  ASSERT_THAT(document, IsOk());
  auto job = stack_->SubmitPrint(document->document_id(), "no-such-device");
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(job.status().message()), HasSubstr("no-such-device"));
  EXPECT_EQ(stack_->GetJob("no-such-job").status().code(), absl::StatusCode::kNotFound);
  // Another user's job is as invisible as a missing one.
  auto own = stack_->SubmitPrint(document->document_id(), "mfp-201");
  ASSERT_THAT(own, IsOk());
  EXPECT_EQ(stack_->GetJob(own->job_id(), "mallory").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace relay::integration
