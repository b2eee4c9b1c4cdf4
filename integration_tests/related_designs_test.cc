// The four related designs of issue 3 through the real processes (SPEC
// section 7): hold until executable, fresh device information, access
// conditions for a device's box, and a sleeping gateway woken by a
// substitute. Test names carry the design: Hold*, Refresh*, AccessCondition*,
// SubstituteWake*.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
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
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int64_t kDocSize = 200 * 1024;

class RelatedDesignsTest : public StackTest {
 protected:
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

// --- Design 4: access conditions for a device's box ------------------------

using ::relay::v1::BoxAccessCondition;
using ::relay::v1::BoxResult;

constexpr char kBoxDevice[] = "mfp-201";
constexpr char kBox[] = "scans";

class AccessConditionTest : public RelatedDesignsTest {
 protected:
  void SetUp() override {
    StackOptions options;
    options.devices = 2;
    ASSERT_NO_FATAL_FAILURE(StartStack(options));
    content_ = MakeDocument(300 * 1024, 41);  // more than one tunnel chunk
    auto document = stack_->PutBoxDocument(kBoxDevice, kBox, "contract.pdf", content_);
    ASSERT_THAT(document, IsOk());
    document_id_ = document->document_id();
  }

  // Only alice, LIST and READ, at any time, never expiring, unlimited: each
  // test changes one condition.
  BoxAccessCondition Base() const {
    BoxAccessCondition c;
    c.set_device_id(kBoxDevice);
    c.set_box_id(kBox);
    c.add_allowed_users("alice");
    c.add_operations(relay::v1::BOX_OPERATION_LIST);
    c.add_operations(relay::v1::BOX_OPERATION_READ);
    return c;
  }

  // The owner sets conditions at the device's panel; the device sends them
  // to the gateway.
  void SetConditions(const BoxAccessCondition& c) {
    ASSERT_THAT(stack_->SetBoxConditions(c), IsOk());
  }

  absl::StatusOr<BoxResult> Access(relay::v1::BoxOperation operation,
                                   const std::string& user = "alice",
                                   const std::string& client = "relayctl") {
    relay::v1::BoxAccessRequest request;
    request.set_device_id(kBoxDevice);
    request.set_box_id(kBox);
    request.set_operation(operation);
    if (operation != relay::v1::BOX_OPERATION_LIST) request.set_document_id(document_id_);
    request.set_client_id(client);
    return stack_->AccessBox(request, user);
  }

  void ExpectDenied(const absl::StatusOr<BoxResult>& result, const std::string& condition) {
    ASSERT_THAT(result, IsOk());
    EXPECT_FALSE(result->permitted());
    EXPECT_EQ(result->failed_condition(), condition) << result->message();
    EXPECT_FALSE(result->message().empty());
    EXPECT_TRUE(result->content().empty());
    EXPECT_EQ(result->documents_size(), 0);
  }

  void ExpectListed(const absl::StatusOr<BoxResult>& result) {
    ASSERT_THAT(result, IsOk());
    EXPECT_TRUE(result->permitted()) << result->failed_condition() << ": " << result->message();
    ASSERT_EQ(result->documents_size(), 1);
    EXPECT_EQ(result->documents(0).document_id(), document_id_);
  }

  // How many box requests reached the device.
  size_t DeviceSaw() {
    auto accesses = stack_->BoxAccesses(kBoxDevice);
    EXPECT_THAT(accesses, IsOk());
    return accesses.ok() ? accesses->size() : 0;
  }

  // The UTC minute of the day now.
  static int MinuteNow() {
    absl::CivilMinute m = absl::ToCivilMinute(absl::Now(), absl::UTCTimeZone());
    return m.hour() * 60 + m.minute();
  }
  static int Wrap(int minute) { return ((minute % 1440) + 1440) % 1440; }

  std::string content_;
  std::string document_id_;
};

TEST_F(AccessConditionTest, AccessConditionPermitsListAndReadWithIdenticalBytes) {
  ASSERT_NO_FATAL_FAILURE(SetConditions(Base()));
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
  auto read = Access(relay::v1::BOX_OPERATION_READ);
  ASSERT_THAT(read, IsOk());
  ASSERT_TRUE(read->permitted()) << read->message();
  EXPECT_EQ(read->content().size(), content_.size());
  EXPECT_TRUE(read->content() == content_);
  EXPECT_EQ(read->document().sha256_hex(), Sha256::HexOf(content_));
  // Both reached the device, as alice through relayctl.
  auto accesses = stack_->BoxAccesses(kBoxDevice);
  ASSERT_THAT(accesses, IsOk());
  ASSERT_EQ(accesses->size(), 2u);
  EXPECT_EQ((*accesses)[1].operation(), relay::v1::BOX_OPERATION_READ);
  EXPECT_EQ((*accesses)[1].user_id(), "alice");
  EXPECT_EQ((*accesses)[1].client_id(), "relayctl");
  EXPECT_THAT(stack_->LogLines("gateway", "event=box_access_permitted"), Not(IsEmpty()));
}

TEST_F(AccessConditionTest, AccessConditionWithoutConditionsNobodyGetsIn) {
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST), "no_conditions");
  EXPECT_EQ(DeviceSaw(), 0u);
}

TEST_F(AccessConditionTest, AccessConditionWrongUserOrClientDenied) {
  BoxAccessCondition c = Base();
  c.add_allowed_clients("partner-portal");
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  // Neither bob nor his client is listed.
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST, "bob", "relayctl"), "party");
  // The listed user, and a listed client acting for an unlisted user, pass.
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST, "alice", "relayctl"));
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST, "bob", "partner-portal"));
  EXPECT_EQ(DeviceSaw(), 2u);
  EXPECT_THAT(stack_->LogLines("gateway", "event=box_access_denied"),
              Contains(HasSubstr("condition=party")));
}

TEST_F(AccessConditionTest, AccessConditionWrongOperationDenied) {
  BoxAccessCondition c = Base();
  c.clear_operations();
  c.add_operations(relay::v1::BOX_OPERATION_LIST);
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  ExpectDenied(Access(relay::v1::BOX_OPERATION_READ), "operation");
  ExpectDenied(Access(relay::v1::BOX_OPERATION_DELETE), "operation");
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
  EXPECT_EQ(DeviceSaw(), 1u);
  // The document is still there: the DELETE never reached the device.
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
}

TEST_F(AccessConditionTest, AccessConditionOutsideTheTimeWindowDenied) {
  const int now = MinuteNow();
  BoxAccessCondition c = Base();
  // Starts at the current minute: inside (start is inclusive; the window
  // still holds if the minute turns during the test).
  c.set_window_start_minute(now);
  c.set_window_end_minute(Wrap(now + 3));
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
  // Ends at the current minute: outside (end is exclusive).
  c.set_window_start_minute(Wrap(now - 5));
  c.set_window_end_minute(now);
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  auto before_end = Access(relay::v1::BOX_OPERATION_LIST);
  ExpectDenied(before_end, "time_window");
  EXPECT_THAT(before_end->message(), HasSubstr("UTC"));
  // Opens in two minutes: outside.
  c.set_window_start_minute(Wrap(now + 2));
  c.set_window_end_minute(Wrap(now + 5));
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST), "time_window");
  EXPECT_EQ(DeviceSaw(), 1u);
}

TEST_F(AccessConditionTest, AccessConditionExpiredDenied) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  BoxAccessCondition c = Base();
  c.set_expires_unix(now + 3600);
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
  c.set_expires_unix(now - 1);
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST), "expiry");
  EXPECT_EQ(DeviceSaw(), 1u);
}

TEST_F(AccessConditionTest, AccessConditionMaxCountAllowsNThenDenies) {
  BoxAccessCondition c = Base();
  c.set_max_accesses(3);
  ASSERT_NO_FATAL_FAILURE(SetConditions(c));
  // A denied request does not use up an access.
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST, "mallory"), "party");
  for (int i = 1; i <= 3; ++i) {
    SCOPED_TRACE(i);
    ExpectListed(Access(relay::v1::BOX_OPERATION_LIST));
  }
  ExpectDenied(Access(relay::v1::BOX_OPERATION_LIST), "max_accesses");
  // The count survives a gateway restart.
  stack_->StopGateway();
  ASSERT_THAT(stack_->StartGateway(), IsOk());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack_->LogLines("mgmt", "event=session_welcome gateway=gw-test-1").size() >= 2;
      },
      absl::Seconds(30)));
  ExpectDenied(Access(relay::v1::BOX_OPERATION_READ), "max_accesses");
  // Exactly the three permitted requests reached the device.
  EXPECT_EQ(DeviceSaw(), 3u);
}

TEST_F(AccessConditionTest, AccessConditionRelayctlListGetAndDenial) {
  ASSERT_NO_FATAL_FAILURE(SetConditions(Base()));
  const std::vector<std::string> common = {"--cloud=" + stack_->cloud_address(),
                                           "--tls_dir=" + stack_->tls_dir(),
                                           "--token=" + stack_->UserToken("alice")};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> all = common;
    all.insert(all.end(), args.begin(), args.end());
    return all;
  };
  std::string output;
  ASSERT_EQ(stack_->RunTool("relayctl", with({"box", "list", kBoxDevice, kBox}), &output), 0);
  EXPECT_THAT(output, HasSubstr(document_id_));
  EXPECT_THAT(output, HasSubstr("contract.pdf"));
  const std::string file = stack_->dir() + "/box-copy.pdf";
  ASSERT_EQ(stack_->RunTool("relayctl",
                            with({"box", "get", kBoxDevice, kBox, document_id_, file}), &output),
            0);
  EXPECT_THAT(output, HasSubstr(Sha256::HexOf(content_)));
  // DELETE is not among the allowed operations: a clear refusal, exit 1.
  EXPECT_EQ(stack_->RunTool("relayctl", with({"box", "delete", kBoxDevice, kBox, document_id_}),
                            &output),
            1);
  EXPECT_THAT(stack_->LogLines("tools", "denied by the gateway"),
              Contains(HasSubstr("operation BOX_OPERATION_DELETE is not allowed")));
  EXPECT_EQ(DeviceSaw(), 2u);
}

// --- Design 1: a substitute gateway wakes a sleeping one ----------------------

class SubstituteWakeTest : public RelatedDesignsTest {
 protected:
  void StartTwoDevices(std::vector<std::string> gateway_args = {}) {
    StackOptions options;
    options.devices = 2;
    options.gateway_args = std::move(gateway_args);
    ASSERT_NO_FATAL_FAILURE(StartStack(options));
  }

  bool MgmtSaw(const std::string& needle) { return !stack_->LogLines("mgmt", needle).empty(); }

  void PutMainGatewayToSleep() {
    std::string output;
    ASSERT_EQ(stack_->RunTool("gateway", {"sleep", "--lan=" + stack_->gateway_lan_address()},
                              &output),
              0);
    EXPECT_THAT(output, HasSubstr("asleep"));
    // The management server saw the session go.
    ASSERT_TRUE(WaitUntil(
        [&] { return MgmtSaw("event=session_closed gateway=gw-test-1"); }, absl::Seconds(20)));
  }

  // The magic packet for the main gateway, sent from the test (as a LAN
  // peer would), to the address and MAC the gateway logged at start.
  void SendMagicPacketToMainGateway() {
    auto lines = stack_->LogLines("gateway", "event=power_manager_started");
    ASSERT_THAT(lines, Not(IsEmpty()));
    const std::string& line = lines.back();
    auto field = [&](const std::string& key) {
      size_t at = line.find(key + "=");
      size_t end = line.find(' ', at);
      return line.substr(at + key.size() + 1, end == std::string::npos ? std::string::npos
                                                                        : end - at - key.size() - 1);
    };
    std::string wol = field("wol");
    std::string mac_text = field("mac");
    std::string packet(6, '\xff');
    std::string mac;
    for (size_t i = 0; i + 1 < mac_text.size(); i += 3) {
      mac.push_back(static_cast<char>(std::stoi(mac_text.substr(i, 2), nullptr, 16)));
    }
    ASSERT_EQ(mac.size(), 6u) << mac_text;
    for (int i = 0; i < 16; ++i) packet += mac;
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(wol.substr(wol.rfind(':') + 1))));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ASSERT_EQ(::sendto(fd, packet.data(), packet.size(), 0,
                       reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              static_cast<ssize_t>(packet.size()));
    ::close(fd);
  }
};

TEST_F(SubstituteWakeTest, SubstituteWakesTheSleepingGatewayForAPrint) {
  ASSERT_NO_FATAL_FAILURE(StartTwoDevices());
  // A second gateway of the same LAN, with no devices of its own.
  ASSERT_THAT(stack_->StartExtraGateway("gateway-sub", "gw-test-2", {}), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return MgmtSaw("event=session_welcome gateway=gw-test-2"); },
                        absl::Seconds(20)));
  ASSERT_NO_FATAL_FAILURE(PutMainGatewayToSleep());

  const std::string content = MakeDocument(kDocSize, 51);
  Job job = Submit("mfp-201", content);
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  ASSERT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  auto printed = PrintedJob("mfp-201", job.job_id());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].sha256_hex(), Sha256::HexOf(content));

  // The path, job by job, across the processes.
  const std::string id = job.job_id();
  EXPECT_THAT(stack_->LogLines("mgmt", "event=access_via_substitute job=" + id),
              Contains(AllOf(HasSubstr("gateway=gw-test-1"), HasSubstr("substitute=gw-test-2"))));
  EXPECT_THAT(stack_->LogLines("gateway-sub", "event=wake_forwarded job=" + id),
              Contains(AllOf(HasSubstr("gateway=gw-test-2"), HasSubstr("target=gw-test-1"))));
  EXPECT_THAT(stack_->LogLines("gateway-sub", "event=magic_packet_sent job=" + id),
              Not(IsEmpty()));
  EXPECT_THAT(stack_->LogLines("gateway", "event=forwarded_request_received job=" + id),
              Contains(HasSubstr("from=gw-test-2")));
  EXPECT_THAT(stack_->LogLines("gateway", "event=power_save_left gateway=gw-test-1"),
              Not(IsEmpty()));
  EXPECT_THAT(stack_->LogLines("gateway", "event=tunnel_open job=" + id),
              Contains(HasSubstr("gateway=gw-test-1")));
  EXPECT_TRUE(HistoryHas(final_job, relay::v1::JOB_STATE_QUEUED,
                         "through substitute gateway gw-test-2"));
}

TEST_F(SubstituteWakeTest, SubstituteWakeWithoutSubstituteShowsTheReasonThenMagicPacketWakes) {
  ASSERT_NO_FATAL_FAILURE(StartTwoDevices());
  ASSERT_NO_FATAL_FAILURE(PutMainGatewayToSleep());
  const std::string content = MakeDocument(4096, 52);
  Job job = Submit("mfp-202", content);
  // The cloud keeps the job and says why it waits.
  const std::string reason =
      "gateway gw-test-1 is asleep or offline and no other gateway of LAN lan-default has "
      "a session";
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto current = stack_->GetJob(job.job_id());
        return current.ok() && absl::StrContains(current->reason(), reason);
      },
      absl::Seconds(20)));
  auto waiting = stack_->GetJob(job.job_id());
  ASSERT_THAT(waiting, IsOk());
  EXPECT_EQ(waiting->state(), relay::v1::JOB_STATE_QUEUED);
  EXPECT_TRUE(HistoryHas(*waiting, relay::v1::JOB_STATE_QUEUED, reason));
  EXPECT_THAT(PrintedJob("mfp-202", job.job_id()), IsEmpty());

  // A Wake-on-LAN magic packet for its MAC wakes it; the cloud's retry then
  // gets through.
  ASSERT_NO_FATAL_FAILURE(SendMagicPacketToMainGateway());
  Job final_job;
  ASSERT_THAT(stack_->WatchToEnd(job.job_id(), &final_job), IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE) << final_job.reason();
  EXPECT_THAT(stack_->LogLines("gateway", "event=magic_packet_received gateway=gw-test-1"),
              Not(IsEmpty()));
  auto printed = PrintedJob("mfp-202", job.job_id());
  ASSERT_EQ(printed.size(), 1u);
  EXPECT_EQ(printed[0].sha256_hex(), Sha256::HexOf(content));
}

TEST_F(SubstituteWakeTest, SubstituteWakeIdleGatewayFallsAsleepByItself) {
  ASSERT_NO_FATAL_FAILURE(StartTwoDevices({"--power_save_after=1500ms"}));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return !stack_->LogLines("gateway", "event=power_save_entered gateway=gw-test-1 "
                                            "reason=idle_")
                    .empty();
      },
      absl::Seconds(20)));
  ASSERT_TRUE(WaitUntil(
      [&] { return MgmtSaw("event=session_closed gateway=gw-test-1"); }, absl::Seconds(20)));
}

}  // namespace
}  // namespace relay::integration
