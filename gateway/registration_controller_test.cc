#include "gateway/registration_controller.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gateway/registration_store.h"
#include "gateway/testing/in_memory_registration_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

#define REG_CONCAT_INNER_(a, b) a##b
#define REG_CONCAT_(a, b) REG_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(REG_CONCAT_(status_or_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_THAT(tmp, IsOk());                        \
  lhs = std::move(tmp).value()

constexpr char kSelf[] = "mfp201";

// "mfp<from>" .. "mfp<to>", the MFPs of the seed's example.
std::vector<std::string> Mfps(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i <= to; ++i) ids.push_back(absl::StrCat("mfp", i));
  return ids;
}

RegistrationConfig SwapConfig(int nmax, std::string self = kSelf) {
  RegistrationConfig config;
  config.nmax = nmax;
  config.mode = RegistrationMode::kSwap;
  config.wait_timeout = absl::Minutes(5);
  config.default_after_job = AfterJob::kRevert;
  config.usage_period = absl::Hours(24);
  config.self_device_id = std::move(self);
  return config;
}

RegistrationConfig MarginConfig(int nmax, int margin,
                                std::string self = kSelf) {
  RegistrationConfig config = SwapConfig(nmax, std::move(self));
  config.mode = RegistrationMode::kMargin;
  config.margin = margin;
  return config;
}

// The registered devices, sorted.
std::vector<std::string> Registered(const RegistrationController& c) {
  std::vector<std::string> ids;
  for (const DeviceRegistration& d : c.Snapshot()) {
    if (d.registered) ids.push_back(d.device_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<DeviceRegistration> Row(const RegistrationController& c,
                                      const std::string& device_id) {
  for (const DeviceRegistration& d : c.Snapshot()) {
    if (d.device_id == device_id) return d;
  }
  return std::nullopt;
}

std::vector<std::string> GrantedIds(const Effects& e) {
  std::vector<std::string> ids;
  for (const Grant& g : e.granted) ids.push_back(g.request_id);
  return ids;
}

std::vector<std::string> FailedIds(const Effects& e) {
  std::vector<std::string> ids;
  for (const Failure& f : e.failed) ids.push_back(f.request_id);
  return ids;
}

std::vector<std::string> StoredIds(
    const testing::InMemoryRegistrationStore& store) {
  std::vector<std::string> ids;
  for (const StoredRegistration& r : store.registrations()) {
    ids.push_back(r.device_id);
  }
  return ids;
}

std::optional<StoredRegistration> Stored(
    const testing::InMemoryRegistrationStore& store,
    const std::string& device_id) {
  for (const StoredRegistration& r : store.registrations()) {
    if (r.device_id == device_id) return r;
  }
  return std::nullopt;
}

// What must hold after every call, whatever happened before.
void ExpectInvariants(const RegistrationController& c) {
  int registered = 0;
  for (const DeviceRegistration& d : c.Snapshot()) {
    if (d.registered) ++registered;
    if (d.busy()) {
      EXPECT_TRUE(d.registered) << d.device_id << " busy";
    }
    if (d.registered && d.kind != RegistrationKind::kPreRegistered) {
      EXPECT_TRUE(d.busy()) << d.device_id << " temporary but idle";
    }
    if (d.self) {
      EXPECT_TRUE(d.registered) << "self " << d.device_id;
    }
    if (!d.present) {
      EXPECT_TRUE(d.busy()) << d.device_id << " gone but kept";
    }
  }
  EXPECT_LE(registered, c.config().nmax);
  EXPECT_EQ(registered, c.registered_count());
}

class RegistrationControllerTest : public ::testing::Test {
 protected:
  std::unique_ptr<RegistrationController> Make(
      const RegistrationConfig& config) {
    absl::StatusOr<std::unique_ptr<RegistrationController>> c =
        RegistrationController::Create(config, &store_, &clock_);
    EXPECT_THAT(c, IsOk());
    return c.ok() ? std::move(*c) : nullptr;
  }

  // A controller over MFPs 201..`last` with the gateway on MFP 201.
  std::unique_ptr<RegistrationController> MakeWithMfps(
      const RegistrationConfig& config, int last = 207) {
    std::unique_ptr<RegistrationController> c = Make(config);
    if (c != nullptr) c->UpdateDevices(Mfps(201, last));
    return c;
  }

  // Starts a job on each of `devices`, request id "job-<device>".
  void Occupy(RegistrationController& c,
              const std::vector<std::string>& devices) {
    for (const std::string& d : devices) {
      absl::StatusOr<Decision> decision =
          c.Request({absl::StrCat("job-", d), d, "alice"});
      ASSERT_THAT(decision, IsOk());
      ASSERT_EQ(decision->kind, Decision::kGranted) << d;
    }
  }

  relay::testing::FakeClock clock_;
  testing::InMemoryRegistrationStore store_;
};

// --- Configuration -------------------------------------------------------

TEST(RegistrationConfigTest, AcceptsTheSeedsExamples) {
  EXPECT_THAT(ValidateRegistrationConfig(SwapConfig(6)), IsOk());
  EXPECT_THAT(ValidateRegistrationConfig(SwapConfig(5, "")), IsOk());
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 2)), IsOk());
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(5, 2, "")), IsOk());
}

TEST(RegistrationConfigTest, RejectsNonPositiveNmax) {
  EXPECT_THAT(ValidateRegistrationConfig(SwapConfig(0, "")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateRegistrationConfig(SwapConfig(-3, "")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegistrationConfigTest, SelfDeviceNeedsASecondSlot) {
  absl::Status status = ValidateRegistrationConfig(SwapConfig(1));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()), HasSubstr("nmax"));
  EXPECT_THAT(ValidateRegistrationConfig(SwapConfig(1, "")), IsOk());
}

TEST(RegistrationConfigTest, MarginMustLeaveRoomAndBePositive) {
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // With self: up to nmax - 1.
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 5)), IsOk());
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 6)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Without self: up to nmax (nothing pre-registered).
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 6, "")), IsOk());
  EXPECT_THAT(ValidateRegistrationConfig(MarginConfig(6, 7, "")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The margin is ignored in swap mode.
  RegistrationConfig swap = SwapConfig(6);
  swap.margin = 100;
  EXPECT_THAT(ValidateRegistrationConfig(swap), IsOk());
}

TEST(RegistrationConfigTest, RejectsNegativeDurations) {
  RegistrationConfig config = SwapConfig(6);
  config.wait_timeout = absl::Seconds(-1);
  EXPECT_THAT(ValidateRegistrationConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument));
  config = SwapConfig(6);
  config.usage_period = absl::Seconds(-1);
  EXPECT_THAT(ValidateRegistrationConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegistrationConfigTest, ParsesModeAndPolicyNames) {
  EXPECT_EQ(*ParseRegistrationMode("swap"), RegistrationMode::kSwap);
  EXPECT_EQ(*ParseRegistrationMode("margin"), RegistrationMode::kMargin);
  EXPECT_THAT(ParseRegistrationMode("Swap"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*ParseAfterJob("revert"), AfterJob::kRevert);
  EXPECT_EQ(*ParseAfterJob("keep"), AfterJob::kKeep);
  EXPECT_THAT(ParseAfterJob(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RegistrationControllerTest, CreateRejectsInvalidConfig) {
  EXPECT_THAT(
      RegistrationController::Create(SwapConfig(0, ""), &store_, &clock_),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RegistrationControllerTest, CreateFailsWhenTheStoreCannotBeRead) {
  store_.FailReads(absl::UnavailableError("disk gone"));
  EXPECT_THAT(RegistrationController::Create(SwapConfig(6), &store_, &clock_),
              StatusIs(absl::StatusCode::kUnavailable));
}

// --- Pre-registration ------------------------------------------------------

TEST_F(RegistrationControllerTest, SelfIsRegisteredBeforeAnyDiscovery) {
  auto c = Make(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201"));
  ASSERT_TRUE(Row(*c, kSelf).has_value());
  EXPECT_TRUE(Row(*c, kSelf)->self);
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201"));
}

TEST_F(RegistrationControllerTest,
       SwapModePreRegistersNmaxInDiscoveryOrderWithoutHistory) {
  auto c = Make(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Effects e = c->UpdateDevices(Mfps(201, 207));
  // FIG. 11: MFPs 201..206 registered (201 is the gateway), 207 is not.
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp206"));
  EXPECT_THAT(e.changes.added,
              ElementsAre("mfp202", "mfp203", "mfp204", "mfp205", "mfp206"));
  EXPECT_THAT(e.changes.removed, IsEmpty());
  EXPECT_THAT(e.store_status, IsOk());
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201", "mfp202", "mfp203",
                                             "mfp204", "mfp205", "mfp206"));
  // The device list shows every device, registered or not, in discovery order.
  std::vector<DeviceRegistration> rows = c->Snapshot();
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[6].device_id, "mfp207");
  EXPECT_FALSE(rows[6].registered);
  EXPECT_FALSE(rows[6].busy());
  EXPECT_TRUE(rows[0].self);
}

TEST_F(RegistrationControllerTest, MarginModePreRegistersNmaxMinusM) {
  auto c = Make(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices(Mfps(201, 207));
  // FIG. 17: only 4 = Nmax - M = 6 - 2 devices, the gateway's own included.
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
}

TEST_F(RegistrationControllerTest, WithoutSelfAllNmaxSlotsGoToOthers) {
  auto c = Make(SwapConfig(5, ""));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices(Mfps(202, 207));
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp202", "mfp203", "mfp204", "mfp205", "mfp206"));
}

TEST_F(RegistrationControllerTest, SelfNotInDiscoveryIsListedFirst) {
  auto c = Make(SwapConfig(3));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices({"mfp205", "mfp203", "mfp204"});
  std::vector<DeviceRegistration> rows = c->Snapshot();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].device_id, "mfp201");
  EXPECT_EQ(rows[1].device_id, "mfp205");
  // Self counts toward Nmax: 201 + the first two discovered.
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp203", "mfp205"));
}

TEST_F(RegistrationControllerTest, FewerDevicesThanNmaxAreAllRegistered) {
  auto c = Make(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices(Mfps(201, 203));
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203"));
  // A device found later takes a free slot.
  Effects e = c->UpdateDevices(Mfps(201, 204));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp204"));
}

TEST_F(RegistrationControllerTest, PreRegistrationPrefersTheMostUsedDevices) {
  const absl::Time now = clock_.Now();
  store_.AddUsage("mfp205", now - absl::Hours(1), 10);
  store_.AddUsage("mfp207", now - absl::Hours(2), 5);
  store_.AddUsage("mfp203", now - absl::Hours(3), 2);
  auto c = Make(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices(Mfps(201, 207));
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp203", "mfp205", "mfp207"));
}

TEST_F(RegistrationControllerTest, PreRegistrationTiesFollowDiscoveryOrder) {
  const absl::Time now = clock_.Now();
  store_.AddUsage("mfp206", now - absl::Minutes(5), 3);
  store_.AddUsage("mfp204", now - absl::Minutes(5), 3);
  store_.AddUsage("mfp207", now - absl::Minutes(5), 1);
  store_.AddUsage("mfp205", now - absl::Minutes(5), 1);
  auto c = Make(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  // 204 and 206 tie on 3, then 205 and 207 tie on 1: discovery order decides,
  // so 207 (discovered before 205 here) wins the third place.
  c->UpdateDevices(
      {"mfp201", "mfp202", "mfp203", "mfp207", "mfp206", "mfp205", "mfp204"});
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp204", "mfp206", "mfp207"));
}

TEST_F(RegistrationControllerTest, UsageOutsideThePeriodDoesNotCount) {
  const absl::Time now = clock_.Now();
  store_.AddUsage("mfp207", now - absl::Hours(25), 100);  // period is 24h
  store_.AddUsage("mfp206", now - absl::Hours(23), 1);
  auto c = Make(MarginConfig(6, 4));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices(Mfps(201, 207));
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp206"));
}

// FIG. 19: pre-registration after each period follows that period's counts.
TEST_F(RegistrationControllerTest, RebalanceFollowsUsagePeriodsLikeFig19) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  int next_job = 0;
  auto run_jobs = [&](const std::string& device, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string id = absl::StrCat("job", next_job++);
      ASSERT_THAT(c->Request({id, device, "alice"}), IsOk());
      ASSERT_THAT(c->Release(id), IsOk());
      ExpectInvariants(*c);
    }
  };
  // P1: 202 x10, 203 x5, 204 x2, 205 x1.
  run_jobs("mfp202", 10);
  run_jobs("mfp203", 5);
  run_jobs("mfp204", 2);
  run_jobs("mfp205", 1);
  clock_.Advance(absl::Hours(1));
  Effects p1 = c->Rebalance();
  EXPECT_TRUE(p1.changes.empty());
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));

  // P2: 202 x15, 203 x15, 206 x3 (margin adds), 204 x1.
  clock_.Advance(absl::Hours(23));
  run_jobs("mfp202", 15);
  run_jobs("mfp203", 15);
  run_jobs("mfp206", 3);
  run_jobs("mfp204", 1);
  clock_.Advance(absl::Hours(1));
  Effects p2 = c->Rebalance();
  EXPECT_THAT(p2.changes.added, ElementsAre("mfp206"));
  EXPECT_THAT(p2.changes.removed, ElementsAre("mfp204"));
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp206"));

  // P3: 202 x20, 203 x20, 204 x10 (margin adds).
  clock_.Advance(absl::Hours(23));
  run_jobs("mfp202", 20);
  run_jobs("mfp203", 20);
  run_jobs("mfp204", 10);
  clock_.Advance(absl::Hours(1));
  c->Rebalance();
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  // Rebalance also prunes the history that left the period.
  for (const UsageEvent& e : store_.usage()) {
    EXPECT_GE(e.when, clock_.Now() - absl::Hours(24));
  }
}

TEST_F(RegistrationControllerTest, RebalanceLeavesBusyAndTemporaryDevices) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp204", "mfp207"});  // 207 is a margin add
  // Make 205 and 206 the favourites.
  int n = 0;
  for (const char* d : {"mfp205", "mfp206"}) {
    for (int i = 0; i < 3; ++i) {
      const std::string id = absl::StrCat("u", n++);
      ASSERT_THAT(c->Request({id, d, "alice"}), IsOk());
      ASSERT_THAT(c->Release(id), IsOk());
    }
  }
  // Ranking now: 205, 206 (3 jobs each), then 202, 203, 204, 207 (none) in
  // discovery order, so the pre-registration set should be {205, 206, 202}.
  Effects e = c->Rebalance();
  // Idle 203 goes. Busy 204 and margin-added 207 stay, and with them the
  // count is already Nmax - M: 205 and 206 must wait for slots.
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp203"));
  EXPECT_THAT(e.changes.added, IsEmpty());
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp204", "mfp207"));
  ExpectInvariants(*c);
  // 207's job ends: it is dropped and the best-ranked 205 takes the slot.
  ASSERT_OK_AND_ASSIGN(Effects done, c->Release("job-mfp207"));
  EXPECT_THAT(done.changes.removed, ElementsAre("mfp207"));
  EXPECT_THAT(done.changes.added, ElementsAre("mfp205"));
  // 204's job ends (its first on record) and the next rebalance ranks 205,
  // 206, then 204 (1 job, discovered before 207): 202 makes way for 206.
  ASSERT_THAT(c->Release("job-mfp204"), IsOk());
  Effects again = c->Rebalance();
  EXPECT_THAT(again.changes.removed, ElementsAre("mfp202"));
  EXPECT_THAT(again.changes.added, ElementsAre("mfp206"));
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp204", "mfp205", "mfp206"));
  ExpectInvariants(*c);
}

// --- FIG. 10: requests in swap mode -----------------------------------------

TEST_F(RegistrationControllerTest, RegisteredDeviceIsRelayedAtOnceUnchanged) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  const int saves = store_.save_count();
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"j1", "mfp203", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_TRUE(d.changes.empty());
  EXPECT_EQ(store_.save_count(), saves);
  EXPECT_TRUE(Row(*c, "mfp203")->busy());
}

TEST_F(RegistrationControllerTest, RequestForTheGatewaysOwnDevice) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"j1", kSelf, "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_TRUE(d.changes.empty());
}

TEST_F(RegistrationControllerTest, RejectsMalformedAndUnknownRequests) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->Request({"", "mfp202", "alice"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(c->Request({"j1", "", "alice"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(c->Request({"j1", "mfp999", "alice"}),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(c->Request({"j1", "mfp202", "alice"}), IsOk());
  EXPECT_THAT(c->Request({"j1", "mfp203", "alice"}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // The id is free again once released.
  ASSERT_THAT(c->Release("j1"), IsOk());
  EXPECT_THAT(c->Request({"j1", "mfp203", "alice"}), IsOk());
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, ReleaseOfAnUnknownRequestIsNotFound) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->Release("nope"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(c->Request({"j1", "mfp202", "alice"}), IsOk());
  ASSERT_THAT(c->Release("j1"), IsOk());
  EXPECT_THAT(c->Release("j1"), StatusIs(absl::StatusCode::kNotFound));
}

// The seven-MFP example: 201..206 registered, a print to 207 swaps 206 out
// (FIG. 11 -> FIG. 12), and the swap is reverted after the job.
TEST_F(RegistrationControllerTest, SevenMfpsSwapOutOneIdleDeviceAndRevert) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"print-1", "mfp207", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_THAT(d.changes.added, ElementsAre("mfp207"));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp206"));
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp207"));
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kSwappedIn);
  ExpectInvariants(*c);
  // Persisted with what is needed to undo it.
  std::optional<StoredRegistration> stored = Stored(store_, "mfp207");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->kind, RegistrationKind::kSwappedIn);
  EXPECT_EQ(stored->restore_device_id, "mfp206");
  EXPECT_EQ(stored->after_job, AfterJob::kRevert);
  EXPECT_FALSE(Stored(store_, "mfp206").has_value());

  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("print-1"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp206"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp207"));
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp206"));
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201", "mfp202", "mfp203",
                                             "mfp204", "mfp205", "mfp206"));
  EXPECT_EQ(Stored(store_, "mfp206")->kind, RegistrationKind::kPreRegistered);
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, SwapSkipsBusyDevices) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp206"});
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp207", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp205"));
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, SwapVictimIsTheLeastUsedIdleDevice) {
  const absl::Time now = clock_.Now();
  store_.AddUsage("mfp202", now - absl::Hours(1), 5);
  store_.AddUsage("mfp206", now - absl::Hours(1), 4);
  store_.AddUsage("mfp204", now - absl::Hours(1), 3);
  store_.AddUsage("mfp205", now - absl::Hours(1), 2);
  store_.AddUsage("mfp207", now - absl::Hours(30), 50);  // outside the period
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  // 203 and 207 have no recent use; 203 was discovered first so it got the
  // last pre-registration slot.
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp206"));
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp207", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp203"));
}

TEST_F(RegistrationControllerTest, SwapVictimTieGoesToTheLastDiscovered) {
  auto c = Make(SwapConfig(4));
  ASSERT_NE(c, nullptr);
  c->UpdateDevices({"mfp201", "mfp204", "mfp202", "mfp203", "mfp205"});
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp205", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp203"));
}

TEST_F(RegistrationControllerTest, SelfIsNeverSwappedOut) {
  // Other devices are used a lot, self never: by usage alone self would be
  // the victim.
  const absl::Time now = clock_.Now();
  store_.AddUsage("mfp202", now - absl::Hours(1), 9);
  store_.AddUsage("mfp203", now - absl::Hours(1), 8);
  auto c = MakeWithMfps(SwapConfig(2), 203);
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202"));
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p1", "mfp203", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp202"));
  // Now 203 is busy and self is idle: a request for 202 waits for 203.
  ASSERT_OK_AND_ASSIGN(Decision waiting, c->Request({"p2", "mfp202", "bob"}));
  EXPECT_EQ(waiting.kind, Decision::kQueued);
  EXPECT_TRUE(c->IsRegistered(kSelf));
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p1"));
  ASSERT_THAT(GrantedIds(e), ElementsAre("p2"));
  EXPECT_TRUE(c->IsRegistered(kSelf));
  ExpectInvariants(*c);
}

// FIG. 10 S35 -> S36: every registered device is busy, so the request waits;
// when MFP 204 finishes, 207 is registered in its place.
TEST_F(RegistrationControllerTest, AllBusyWaitsThenSwapsWhenOneFinishes) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  const absl::Time asked = clock_.Now();
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"print-207", "mfp207", "bob"}));
  EXPECT_EQ(d.kind, Decision::kQueued);
  EXPECT_EQ(d.wait_deadline, asked + absl::Minutes(5));
  EXPECT_EQ(c->waiting_count(), 1);
  EXPECT_EQ(c->NextWaitDeadline(), asked + absl::Minutes(5));
  EXPECT_FALSE(c->IsRegistered("mfp207"));

  clock_.Advance(absl::Minutes(2));
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp204"));
  ASSERT_EQ(e.granted.size(), 1u);
  EXPECT_EQ(e.granted[0].request_id, "print-207");
  EXPECT_EQ(e.granted[0].device_id, "mfp207");
  EXPECT_THAT(e.granted[0].changes.added, ElementsAre("mfp207"));
  EXPECT_THAT(e.granted[0].changes.removed, ElementsAre("mfp204"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp207"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp204"));
  EXPECT_EQ(c->waiting_count(), 0);
  EXPECT_EQ(c->NextWaitDeadline(), std::nullopt);
  EXPECT_TRUE(Row(*c, "mfp207")->busy());
  EXPECT_EQ(Stored(store_, "mfp207")->restore_device_id, "mfp204");
  ExpectInvariants(*c);

  ASSERT_OK_AND_ASSIGN(Effects done, c->Release("print-207"));
  EXPECT_THAT(done.changes.added, ElementsAre("mfp204"));
  EXPECT_THAT(done.changes.removed, ElementsAre("mfp207"));
}

TEST_F(RegistrationControllerTest, WaitTimesOutWithAClearReason) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"w207", "mfp207", "bob"}));
  ASSERT_EQ(d.kind, Decision::kQueued);

  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  Effects early = c->ExpireWaiting();
  EXPECT_THAT(early.failed, IsEmpty());
  EXPECT_EQ(c->waiting_count(), 1);

  clock_.Advance(absl::Seconds(1));
  Effects e = c->ExpireWaiting();
  ASSERT_EQ(e.failed.size(), 1u);
  EXPECT_EQ(e.failed[0].request_id, "w207");
  EXPECT_EQ(e.failed[0].device_id, "mfp207");
  EXPECT_THAT(e.failed[0].status,
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(std::string(e.failed[0].status.message()),
              HasSubstr("no registration slot became free within 5m"));
  EXPECT_TRUE(e.changes.empty());
  EXPECT_EQ(c->waiting_count(), 0);
  EXPECT_EQ(c->NextWaitDeadline(), std::nullopt);
  EXPECT_THAT(c->Release("w207"), StatusIs(absl::StatusCode::kNotFound));

  // A slot freed later goes to nobody: the registration stays as it was.
  ASSERT_OK_AND_ASSIGN(Effects later, c->Release("job-mfp204"));
  EXPECT_THAT(later.granted, IsEmpty());
  EXPECT_TRUE(later.changes.empty());
  EXPECT_FALSE(c->IsRegistered("mfp207"));
}

TEST_F(RegistrationControllerTest, EachWaitingRequestHasItsOwnDeadline) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  const absl::Time t0 = clock_.Now();
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  clock_.Advance(absl::Minutes(2));
  ASSERT_THAT(c->Request({"w208", "mfp208", "bob"}), IsOk());
  EXPECT_EQ(c->NextWaitDeadline(), t0 + absl::Minutes(5));
  clock_.Advance(absl::Minutes(3));
  EXPECT_THAT(FailedIds(c->ExpireWaiting()), ElementsAre("w207"));
  EXPECT_EQ(c->NextWaitDeadline(), t0 + absl::Minutes(7));
  // The survivor still gets the next slot.
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp203"));
  EXPECT_THAT(GrantedIds(e), ElementsAre("w208"));
}

TEST_F(RegistrationControllerTest, WaitingDisabledFailsAtOnce) {
  RegistrationConfig config = SwapConfig(6);
  config.wait_timeout = absl::ZeroDuration();
  auto c = MakeWithMfps(config);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  EXPECT_THAT(c->Request({"w207", "mfp207", "bob"}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(c->waiting_count(), 0);
  // The id was not taken.
  ASSERT_THAT(c->Release("job-mfp206"), IsOk());
  EXPECT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
}

TEST_F(RegistrationControllerTest, AbandonedWaitingRequestLeavesTheQueue) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"w208", "mfp208", "bob"}), IsOk());
  ASSERT_OK_AND_ASSIGN(Effects cancelled, c->Release("w207"));
  EXPECT_THAT(cancelled.granted, IsEmpty());
  EXPECT_TRUE(cancelled.changes.empty());
  EXPECT_EQ(c->waiting_count(), 1);
  // No job ran: no usage recorded.
  EXPECT_THAT(store_.usage(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp202"));
  EXPECT_THAT(GrantedIds(e), ElementsAre("w208"));
}

// --- After the job: revert or keep -----------------------------------------

TEST_F(RegistrationControllerTest, DefaultKeepLeavesTheSwappedInDevice) {
  RegistrationConfig config = SwapConfig(6);
  config.default_after_job = AfterJob::kKeep;
  auto c = MakeWithMfps(config);
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp207", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp206"));
  EXPECT_EQ(Stored(store_, "mfp207")->after_job, AfterJob::kKeep);
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p"));
  EXPECT_TRUE(e.changes.empty());
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp207"));
  // Kept for good: it is now an ordinary registration, stored as such.
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kPreRegistered);
  EXPECT_EQ(Stored(store_, "mfp207")->kind, RegistrationKind::kPreRegistered);
  EXPECT_EQ(Stored(store_, "mfp207")->restore_device_id, "");
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, PerUserKeepOverridesDefaultRevert) {
  RegistrationConfig config = SwapConfig(6);
  config.per_user_after_job["bob"] = AfterJob::kKeep;
  auto c = MakeWithMfps(config);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"bob-1", "mfp207", "bob"}), IsOk());
  ASSERT_THAT(c->Release("bob-1"), IsOk());
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp207"));
  // Alice has no override: her swap (206 in, 205 out, the least-ranked idle
  // device now that 207 has a job on record) is reverted.
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"alice-1", "mfp206", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp205"));
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("alice-1"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp205"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp206"));
}

TEST_F(RegistrationControllerTest, PerUserRevertOverridesDefaultKeep) {
  RegistrationConfig config = SwapConfig(6);
  config.default_after_job = AfterJob::kKeep;
  config.per_user_after_job["carol"] = AfterJob::kRevert;
  auto c = MakeWithMfps(config);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"c1", "mfp207", "carol"}), IsOk());
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("c1"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp206"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp207"));
}

TEST_F(RegistrationControllerTest, PolicyOfTheRequestThatSwappedApplies) {
  RegistrationConfig config = SwapConfig(6);
  config.per_user_after_job["bob"] = AfterJob::kKeep;
  auto c = MakeWithMfps(config);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"bob-1", "mfp207", "bob"}), IsOk());
  // Alice (revert) prints to 207 too: already registered, nothing changes.
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"alice-1", "mfp207", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_TRUE(d.changes.empty());
  EXPECT_EQ(Row(*c, "mfp207")->jobs_in_flight, 2);
  ASSERT_OK_AND_ASSIGN(Effects first, c->Release("bob-1"));
  EXPECT_TRUE(first.changes.empty());  // alice's job still runs
  ASSERT_OK_AND_ASSIGN(Effects last, c->Release("alice-1"));
  EXPECT_TRUE(last.changes.empty());  // bob's keep applies
  EXPECT_TRUE(c->IsRegistered("mfp207"));
  EXPECT_FALSE(c->IsRegistered("mfp206"));
}

TEST_F(RegistrationControllerTest, SwapIsRevertedOnlyAfterTheLastJob) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"a", "mfp207", "alice"}), IsOk());
  ASSERT_THAT(c->Request({"b", "mfp207", "alice"}), IsOk());
  ASSERT_OK_AND_ASSIGN(Effects first, c->Release("a"));
  EXPECT_TRUE(first.changes.empty());
  EXPECT_TRUE(c->IsRegistered("mfp207"));
  ExpectInvariants(*c);
  ASSERT_OK_AND_ASSIGN(Effects last, c->Release("b"));
  EXPECT_THAT(last.changes.removed, ElementsAre("mfp207"));
  EXPECT_THAT(last.changes.added, ElementsAre("mfp206"));
}

TEST_F(RegistrationControllerTest, RevertWithoutTheSwappedOutDevice) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp207", "alice"}));
  EXPECT_THAT(d.changes.removed, ElementsAre("mfp206"));
  // 206 disappears from the LAN while 207 prints.
  std::vector<std::string> without_206 = Mfps(201, 205);
  without_206.push_back("mfp207");
  without_206.push_back("mfp208");
  Effects gone = c->UpdateDevices(without_206);
  EXPECT_TRUE(gone.changes.empty());
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p"));
  // The swap is undone, but 206 cannot return; the free slot goes to
  // pre-registration, whose best-ranked candidate is 207 itself (it has just
  // had a job, 208 never did). 207 stays, now as an ordinary registration.
  EXPECT_TRUE(e.changes.empty());
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203",
                                          "mfp204", "mfp205", "mfp207"));
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kPreRegistered);
  EXPECT_EQ(Stored(store_, "mfp207")->kind, RegistrationKind::kPreRegistered);
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, ChainedSwapsEndFullAndConsistent) {
  auto c = MakeWithMfps(SwapConfig(3), 205);
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp203"));
  ASSERT_OK_AND_ASSIGN(Decision x, c->Request({"x", "mfp204", "alice"}));
  EXPECT_THAT(x.changes.removed, ElementsAre("mfp203"));
  // 203 comes back through a swap of its own while 204 prints.
  ASSERT_OK_AND_ASSIGN(Decision v, c->Request({"v", "mfp203", "alice"}));
  EXPECT_THAT(v.changes.removed, ElementsAre("mfp202"));
  ExpectInvariants(*c);
  // 204 ends: its swap reverts, but 203 is already back, so the revert
  // frees a slot and pre-registration refills it with the best-ranked device:
  // 204, which has just had a job.
  ASSERT_OK_AND_ASSIGN(Effects ex, c->Release("x"));
  EXPECT_TRUE(ex.changes.empty());
  EXPECT_EQ(Row(*c, "mfp204")->kind, RegistrationKind::kPreRegistered);
  ExpectInvariants(*c);
  // 203 ends: its swap reverts and 202 returns.
  ASSERT_OK_AND_ASSIGN(Effects ev, c->Release("v"));
  EXPECT_THAT(ev.changes.removed, ElementsAre("mfp203"));
  EXPECT_THAT(ev.changes.added, ElementsAre("mfp202"));
  EXPECT_THAT(Registered(*c), ElementsAre("mfp201", "mfp202", "mfp204"));
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201", "mfp202", "mfp204"));
  ExpectInvariants(*c);
}

// --- FIG. 16: margin mode --------------------------------------------------

// The seven-MFP example of the third embodiment: Nmax = 6, M = 2, MFPs
// 201..204 registered (FIG. 17); a print to 207 adds it (FIG. 18) and it is
// dropped right after the job.
TEST_F(RegistrationControllerTest, SevenMfpsMarginAddThenDropAfterJob) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"print-1", "mfp207", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_THAT(d.changes.added, ElementsAre("mfp207"));
  EXPECT_THAT(d.changes.removed, IsEmpty());
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp207"));
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kMarginAdded);
  EXPECT_EQ(Stored(store_, "mfp207")->kind, RegistrationKind::kMarginAdded);
  ExpectInvariants(*c);

  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("print-1"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp207"));
  EXPECT_THAT(e.changes.added, IsEmpty());
  EXPECT_THAT(Registered(*c),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  EXPECT_THAT(StoredIds(store_),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, MarginRegisteredDeviceChangesNothing) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp203", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_TRUE(d.changes.empty());
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p"));
  EXPECT_TRUE(e.changes.empty());  // pre-registered devices stay
}

TEST_F(RegistrationControllerTest, MarginFullWaitsInsteadOfSwapping) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp206", "mfp207"});  // both margin slots taken
  EXPECT_EQ(c->registered_count(), 6);
  // 202..204 are idle, but margin mode never swaps them out.
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"w205", "mfp205", "bob"}));
  EXPECT_EQ(d.kind, Decision::kQueued);
  ExpectInvariants(*c);
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp206"));
  ASSERT_EQ(e.granted.size(), 1u);
  EXPECT_EQ(e.granted[0].request_id, "w205");
  EXPECT_THAT(e.granted[0].changes.added, ElementsAre("mfp205"));
  EXPECT_THAT(e.granted[0].changes.removed, IsEmpty());
  EXPECT_THAT(e.changes.added, ElementsAre("mfp205"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp206"));
  EXPECT_EQ(Row(*c, "mfp205")->kind, RegistrationKind::kMarginAdded);
  EXPECT_EQ(c->registered_count(), 6);
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, MarginAddIsDroppedOnlyAfterItsLastJob) {
  auto c = MakeWithMfps(MarginConfig(6, 2));
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(Decision first, c->Request({"a", "mfp207", "alice"}));
  EXPECT_THAT(first.changes.added, ElementsAre("mfp207"));
  ASSERT_OK_AND_ASSIGN(Decision second, c->Request({"b", "mfp207", "bob"}));
  EXPECT_TRUE(second.changes.empty());
  EXPECT_EQ(Row(*c, "mfp207")->jobs_in_flight, 2);
  ASSERT_OK_AND_ASSIGN(Effects e1, c->Release("b"));
  EXPECT_TRUE(e1.changes.empty());
  ASSERT_OK_AND_ASSIGN(Effects e2, c->Release("a"));
  EXPECT_THAT(e2.changes.removed, ElementsAre("mfp207"));
}

TEST_F(RegistrationControllerTest, MarginAddBelowTheTargetIsPermanent) {
  auto c = MakeWithMfps(MarginConfig(6, 2), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp205", "mfp206"});  // both margin slots taken
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  ASSERT_EQ(c->waiting_count(), 1);
  // 202..204 leave the LAN: 201 + two margin adds remain, below Nmax - M, so
  // the waiting device takes a pre-registration slot and keeps it.
  Effects e =
      c->UpdateDevices({"mfp201", "mfp205", "mfp206", "mfp207", "mfp208"});
  EXPECT_THAT(GrantedIds(e), ElementsAre("w207"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp202", "mfp203", "mfp204"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp207"));
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kPreRegistered);
  ASSERT_OK_AND_ASSIGN(Effects done, c->Release("w207"));
  EXPECT_TRUE(done.changes.empty());
  EXPECT_TRUE(c->IsRegistered("mfp207"));
  ExpectInvariants(*c);
}

// --- Waiting: arrival order -------------------------------------------------

TEST_F(RegistrationControllerTest, WaitingRequestsAreServedInArrivalOrder) {
  auto c = MakeWithMfps(SwapConfig(6), 209);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  for (const char* d : {"mfp209", "mfp207", "mfp208"}) {
    ASSERT_OK_AND_ASSIGN(Decision decision,
                         c->Request({absl::StrCat("w-", d), d, "bob"}));
    EXPECT_EQ(decision.kind, Decision::kQueued);
  }
  ASSERT_OK_AND_ASSIGN(Effects e1, c->Release("job-mfp203"));
  EXPECT_THAT(GrantedIds(e1), ElementsAre("w-mfp209"));
  ASSERT_OK_AND_ASSIGN(Effects e2, c->Release("job-mfp205"));
  EXPECT_THAT(GrantedIds(e2), ElementsAre("w-mfp207"));
  ASSERT_OK_AND_ASSIGN(Effects e3, c->Release("job-mfp202"));
  EXPECT_THAT(GrantedIds(e3), ElementsAre("w-mfp208"));
  EXPECT_EQ(c->waiting_count(), 0);
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, NewRequestDoesNotOvertakeWaitingOnes) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"first", "mfp207", "bob"}), IsOk());
  // One slot frees up and goes to "first"; a second request for an
  // unregistered device, arriving after, must wait for the next one.
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp206"));
  EXPECT_THAT(GrantedIds(e), ElementsAre("first"));
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"second", "mfp208", "bob"}));
  EXPECT_EQ(d.kind, Decision::kQueued);
}

TEST_F(RegistrationControllerTest, RegisteredDeviceRequestGoesPastTheQueue) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  // Needs no slot, so it takes nothing from the waiting request.
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"again", "mfp204", "carol"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_EQ(Row(*c, "mfp204")->jobs_in_flight, 2);
  EXPECT_EQ(c->waiting_count(), 1);
}

TEST_F(RegistrationControllerTest, WaitersForTheSameDeviceGoTogether) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"a", "mfp207", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"b", "mfp208", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"c", "mfp207", "carol"}), IsOk());
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp203"));
  // "c" needs no slot once "a" has registered 207; "b" still needs one.
  ASSERT_THAT(GrantedIds(e), ElementsAre("a", "c"));
  EXPECT_THAT(e.granted[0].changes.added, ElementsAre("mfp207"));
  EXPECT_TRUE(e.granted[1].changes.empty());
  EXPECT_EQ(c->waiting_count(), 1);
  EXPECT_EQ(Row(*c, "mfp207")->jobs_in_flight, 2);
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, SlotsFreedTogetherGoInArrivalOrder) {
  auto c = MakeWithMfps(MarginConfig(6, 2), 209);
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp205", "mfp206"});
  ASSERT_THAT(c->Request({"w208", "mfp208", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"w209", "mfp209", "bob"}), IsOk());
  // 203 and 204 leave the LAN at once: two slots for three waiting requests.
  Effects e = c->UpdateDevices(
      {"mfp201", "mfp202", "mfp205", "mfp206", "mfp207", "mfp208", "mfp209"});
  EXPECT_THAT(GrantedIds(e), ElementsAre("w208", "w207"));
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp203", "mfp204"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp207", "mfp208"));
  EXPECT_EQ(c->waiting_count(), 1);
  EXPECT_EQ(c->registered_count(), 6);
  ExpectInvariants(*c);
}

// --- Device discovery -------------------------------------------------------

TEST_F(RegistrationControllerTest, VanishedIdleDeviceIsReplaced) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Effects e = c->UpdateDevices(
      {"mfp201", "mfp202", "mfp204", "mfp205", "mfp206", "mfp207"});
  EXPECT_THAT(e.changes.removed, ElementsAre("mfp203"));
  EXPECT_THAT(e.changes.added, ElementsAre("mfp207"));
  EXPECT_FALSE(Row(*c, "mfp203").has_value());
  EXPECT_THAT(c->Request({"p", "mfp203", "alice"}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistrationControllerTest, VanishedBusyDeviceStaysUntilItsJobEnds) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, {"mfp203"});
  Effects e = c->UpdateDevices(
      {"mfp201", "mfp202", "mfp204", "mfp205", "mfp206", "mfp207"});
  EXPECT_TRUE(e.changes.empty());
  std::optional<DeviceRegistration> row = Row(*c, "mfp203");
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->registered);
  EXPECT_FALSE(row->present);
  EXPECT_EQ(c->Snapshot().back().device_id, "mfp203");
  ExpectInvariants(*c);
  // No new job for it, though.
  EXPECT_THAT(c->Request({"p", "mfp203", "alice"}),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Effects done, c->Release("job-mfp203"));
  EXPECT_THAT(done.changes.removed, ElementsAre("mfp203"));
  EXPECT_THAT(done.changes.added, ElementsAre("mfp207"));
  ExpectInvariants(*c);
}

TEST_F(RegistrationControllerTest, VanishedDeviceFailsItsWaitingRequests) {
  auto c = MakeWithMfps(SwapConfig(6), 208);
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  ASSERT_THAT(c->Request({"w208", "mfp208", "bob"}), IsOk());
  Effects e = c->UpdateDevices(Mfps(201, 207));
  ASSERT_EQ(e.failed.size(), 1u);
  EXPECT_EQ(e.failed[0].request_id, "w208");
  EXPECT_THAT(e.failed[0].status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(c->waiting_count(), 1);
}

TEST_F(RegistrationControllerTest, BusyDeviceThatVanishedFreesASlotForWaiter) {
  // FIG. 10 S33 -> S34 in swap mode: a free slot exists when a request is
  // served (here the slot of a device that left during its job).
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  Occupy(*c, Mfps(201, 206));
  ASSERT_THAT(c->Request({"w207", "mfp207", "bob"}), IsOk());
  c->UpdateDevices(
      {"mfp201", "mfp202", "mfp203", "mfp204", "mfp206", "mfp207"});
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("job-mfp205"));
  ASSERT_THAT(GrantedIds(e), ElementsAre("w207"));
  // An add, not a swap: nothing else is removed for it.
  EXPECT_THAT(e.granted[0].changes.added, ElementsAre("mfp207"));
  EXPECT_THAT(e.granted[0].changes.removed, IsEmpty());
  EXPECT_EQ(Row(*c, "mfp207")->kind, RegistrationKind::kPreRegistered);
  // The job ends, 207 stays: swap mode adds into a free slot are permanent.
  ASSERT_OK_AND_ASSIGN(Effects done, c->Release("w207"));
  EXPECT_TRUE(done.changes.empty());
  ExpectInvariants(*c);
}

// --- Persistence and restart ------------------------------------------------

TEST_F(RegistrationControllerTest, RestartRestoresTheRegisteredSet) {
  {
    auto c = MakeWithMfps(SwapConfig(6), 209);
    ASSERT_NE(c, nullptr);
    ASSERT_THAT(c->Request({"p", "mfp208", "alice"}), IsOk());  // swaps 206
    ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p"));
  }
  auto restarted = Make(SwapConfig(6));
  ASSERT_NE(restarted, nullptr);
  EXPECT_THAT(
      Registered(*restarted),
      ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp205", "mfp206"));
  // Before discovery reports, the saved devices can already be relayed.
  ASSERT_OK_AND_ASSIGN(Decision d,
                       restarted->Request({"p2", "mfp204", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  // The usage history survived too: 208's job ranks it first now.
  restarted->UpdateDevices(Mfps(201, 209));
  restarted->Rebalance();
  EXPECT_TRUE(restarted->IsRegistered("mfp208"));
  EXPECT_FALSE(restarted->IsRegistered("mfp206"));
}

TEST_F(RegistrationControllerTest, RestartMidJobRevertsTheSwap) {
  {
    auto c = MakeWithMfps(SwapConfig(6));
    ASSERT_NE(c, nullptr);
    ASSERT_THAT(c->Request({"p", "mfp207", "alice"}), IsOk());
    // The gateway dies while 207 prints: no Release.
  }
  auto restarted = Make(SwapConfig(6));
  ASSERT_NE(restarted, nullptr);
  EXPECT_THAT(
      Registered(*restarted),
      ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp205", "mfp206"));
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201", "mfp202", "mfp203",
                                             "mfp204", "mfp205", "mfp206"));
  ExpectInvariants(*restarted);
}

TEST_F(RegistrationControllerTest, RestartMidJobKeepsAKeptSwap) {
  RegistrationConfig config = SwapConfig(6);
  config.per_user_after_job["bob"] = AfterJob::kKeep;
  {
    auto c = MakeWithMfps(config);
    ASSERT_NE(c, nullptr);
    ASSERT_THAT(c->Request({"p", "mfp207", "bob"}), IsOk());
  }
  // The policy was saved with the swap: it holds even if the configuration
  // no longer has bob's override.
  auto restarted = Make(SwapConfig(6));
  ASSERT_NE(restarted, nullptr);
  EXPECT_THAT(
      Registered(*restarted),
      ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp205", "mfp207"));
  EXPECT_EQ(Stored(store_, "mfp207")->kind, RegistrationKind::kPreRegistered);
}

TEST_F(RegistrationControllerTest, RestartMidJobDropsAMarginAdd) {
  {
    auto c = MakeWithMfps(MarginConfig(6, 2));
    ASSERT_NE(c, nullptr);
    ASSERT_THAT(c->Request({"p", "mfp207", "alice"}), IsOk());
    ASSERT_TRUE(Stored(store_, "mfp207").has_value());
  }
  auto restarted = Make(MarginConfig(6, 2));
  ASSERT_NE(restarted, nullptr);
  EXPECT_THAT(Registered(*restarted),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  EXPECT_THAT(StoredIds(store_),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
}

TEST_F(RegistrationControllerTest, RestartWithSmallerLimitTrims) {
  {
    auto c = MakeWithMfps(SwapConfig(6));
    ASSERT_NE(c, nullptr);
  }
  auto smaller = Make(SwapConfig(4));
  ASSERT_NE(smaller, nullptr);
  // Without discovery order yet, ties fall back to device id: the last ids go.
  EXPECT_THAT(Registered(*smaller),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
  EXPECT_THAT(StoredIds(store_),
              ElementsAre("mfp201", "mfp202", "mfp203", "mfp204"));
}

TEST_F(RegistrationControllerTest, RestartInMarginModeLeavesTheMargin) {
  {
    auto c = MakeWithMfps(SwapConfig(6));
    ASSERT_NE(c, nullptr);
  }
  auto margin = Make(MarginConfig(6, 2));
  ASSERT_NE(margin, nullptr);
  EXPECT_EQ(margin->registered_count(), 4);
  EXPECT_TRUE(margin->IsRegistered(kSelf));
}

TEST_F(RegistrationControllerTest, SwapIsNotMadeWhenItCannotBeSaved) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  store_.FailWrites(absl::UnavailableError("disk full"));
  EXPECT_THAT(c->Request({"p", "mfp207", "alice"}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(c->IsRegistered("mfp207"));
  EXPECT_TRUE(c->IsRegistered("mfp206"));
  EXPECT_EQ(Row(*c, "mfp207")->jobs_in_flight, 0);
  // Relaying to a registered device needs no write.
  EXPECT_THAT(c->Request({"q", "mfp203", "alice"}), IsOk());
  store_.FailWrites(absl::OkStatus());
  ASSERT_OK_AND_ASSIGN(Decision d, c->Request({"p", "mfp207", "alice"}));
  EXPECT_EQ(d.kind, Decision::kGranted);
  EXPECT_TRUE(Stored(store_, "mfp207").has_value());
}

TEST_F(RegistrationControllerTest, FailedSaveAfterAJobIsRetriedLater) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"p", "mfp207", "alice"}), IsOk());
  store_.FailWrites(absl::UnavailableError("disk full"));
  ASSERT_OK_AND_ASSIGN(Effects e, c->Release("p"));
  EXPECT_THAT(e.store_status, StatusIs(absl::StatusCode::kUnavailable));
  // In effect all the same.
  EXPECT_THAT(e.changes.added, ElementsAre("mfp206"));
  EXPECT_TRUE(c->IsRegistered("mfp206"));
  EXPECT_TRUE(Stored(store_, "mfp207").has_value());  // stale
  store_.FailWrites(absl::OkStatus());
  Effects next = c->UpdateDevices(Mfps(201, 207));
  EXPECT_THAT(next.store_status, IsOk());
  EXPECT_THAT(StoredIds(store_), ElementsAre("mfp201", "mfp202", "mfp203",
                                             "mfp204", "mfp205", "mfp206"));
}

TEST_F(RegistrationControllerTest, EveryJobIsRecordedInTheUsageHistory) {
  auto c = MakeWithMfps(SwapConfig(6));
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Request({"a", "mfp203", "alice"}), IsOk());
  ASSERT_THAT(c->Request({"b", "mfp207", "alice"}), IsOk());
  clock_.Advance(absl::Minutes(1));
  ASSERT_THAT(c->Release("a"), IsOk());
  ASSERT_THAT(c->Release("b"), IsOk());
  EXPECT_THAT(store_.usage(), ElementsAre(UsageEvent{"mfp203", clock_.Now()},
                                          UsageEvent{"mfp207", clock_.Now()}));
}

// --- Property: random interleavings -----------------------------------------

class RegistrationControllerRandomTest
    : public RegistrationControllerTest,
      public ::testing::WithParamInterface<RegistrationMode> {};

// Random requests, job ends, cancellations, timeouts and discovery changes
// (fixed seeds, so deterministic): the limit holds, granted requests always
// have their device registered, and requests that needed a slot got one in
// arrival order.
TEST_P(RegistrationControllerRandomTest, InvariantsHoldUnderRandomEvents) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    testing::InMemoryRegistrationStore store;
    RegistrationConfig config = GetParam() == RegistrationMode::kSwap
                                    ? SwapConfig(4, "d00")
                                    : MarginConfig(5, 2, "d00");
    config.per_user_after_job["keeper"] = AfterJob::kKeep;
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<RegistrationController> c,
        RegistrationController::Create(config, &store, &clock_));
    std::vector<std::string> all;
    for (int i = 0; i < 10; ++i) all.push_back(absl::StrCat("d0", i));
    c->UpdateDevices(all);

    std::mt19937 rng(seed);
    auto pick = [&](size_t n) {
      return static_cast<size_t>(
          std::uniform_int_distribution<size_t>(0, n - 1)(rng));
    };
    std::map<std::string, std::string> granted;  // request -> device
    std::map<std::string, int> arrival;          // waiting request -> seq
    int last_slot_grant = -1;
    int next = 0;
    auto on_effects = [&](const Effects& e) {
      for (const Grant& g : e.granted) {
        ASSERT_EQ(arrival.count(g.request_id), 1u) << g.request_id;
        if (!g.changes.added.empty()) {
          EXPECT_GT(arrival[g.request_id], last_slot_grant) << g.request_id;
          last_slot_grant = arrival[g.request_id];
        }
        arrival.erase(g.request_id);
        granted[g.request_id] = g.device_id;
      }
      for (const Failure& f : e.failed) {
        ASSERT_EQ(arrival.count(f.request_id), 1u) << f.request_id;
        arrival.erase(f.request_id);
      }
      EXPECT_THAT(e.store_status, IsOk());
    };

    for (int step = 0; step < 400; ++step) {
      const size_t action = pick(10);
      if (action < 5) {
        const std::string id = absl::StrCat("r", next);
        const std::string device = all[pick(all.size())];
        absl::StatusOr<Decision> d =
            c->Request({id, device, pick(2) == 0 ? "keeper" : "reverter"});
        if (!d.ok()) {
          EXPECT_THAT(d, StatusIs(absl::StatusCode::kNotFound));
        } else if (d->kind == Decision::kGranted) {
          granted[id] = device;
        } else {
          arrival[id] = next;
        }
        ++next;
      } else if (action < 8 && !granted.empty()) {
        auto it = std::next(granted.begin(), pick(granted.size()));
        const std::string id = it->first;
        granted.erase(it);
        ASSERT_OK_AND_ASSIGN(Effects e, c->Release(id));
        on_effects(e);
      } else if (action == 8 && !arrival.empty()) {
        auto it = std::next(arrival.begin(), pick(arrival.size()));
        const std::string id = it->first;
        arrival.erase(it);
        ASSERT_OK_AND_ASSIGN(Effects e, c->Release(id));  // abandoned
        on_effects(e);
      } else if (action == 9) {
        if (pick(2) == 0) {
          clock_.Advance(absl::Minutes(2));
          on_effects(c->ExpireWaiting());
        } else {
          std::vector<std::string> present;
          for (const std::string& d : all) {
            if (pick(5) != 0) present.push_back(d);
          }
          on_effects(c->UpdateDevices(present));
          if (pick(3) == 0) on_effects(c->Rebalance());
        }
      }
      ExpectInvariants(*c);
      std::map<std::string, int> jobs;
      for (const auto& [id, device] : granted) ++jobs[device];
      for (const DeviceRegistration& d : c->Snapshot()) {
        EXPECT_EQ(d.jobs_in_flight, jobs[d.device_id]) << d.device_id;
        jobs.erase(d.device_id);
      }
      for (const auto& [device, n] : jobs) {
        EXPECT_EQ(n, 0) << device << " has jobs but is not listed";
      }
      EXPECT_EQ(c->waiting_count(), static_cast<int>(arrival.size()));
      // The persisted state always matches the state in memory.
      EXPECT_EQ(StoredIds(store), Registered(*c));
      if (::testing::Test::HasFailure()) return;
    }
    // Drain: every job ends; every waiting request is served or times out.
    while (!granted.empty() || !arrival.empty()) {
      if (!granted.empty()) {
        const std::string id = granted.begin()->first;
        granted.erase(granted.begin());
        ASSERT_OK_AND_ASSIGN(Effects e, c->Release(id));
        on_effects(e);
      } else {
        clock_.Advance(absl::Minutes(10));
        on_effects(c->ExpireWaiting());
      }
      ExpectInvariants(*c);
    }
    for (const DeviceRegistration& d : c->Snapshot()) {
      if (d.registered) {
        EXPECT_EQ(d.kind, RegistrationKind::kPreRegistered) << d.device_id;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, RegistrationControllerRandomTest,
                         ::testing::Values(RegistrationMode::kSwap,
                                           RegistrationMode::kMargin),
                         [](const auto& info) {
                           return info.param == RegistrationMode::kSwap
                                      ? std::string("Swap")
                                      : std::string("Margin");
                         });

}  // namespace
}  // namespace relay::gateway
