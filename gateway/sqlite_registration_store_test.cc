#include "gateway/sqlite_registration_store.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/sqlite_db.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gateway/registration_controller.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

StoredRegistration Reg(std::string id,
                       RegistrationKind kind = RegistrationKind::kPreRegistered,
                       std::string restore = "",
                       AfterJob after_job = AfterJob::kRevert) {
  StoredRegistration r;
  r.device_id = std::move(id);
  r.kind = kind;
  r.restore_device_id = std::move(restore);
  r.after_job = after_job;
  return r;
}

std::unique_ptr<SqliteRegistrationStore> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteRegistrationStore>> store =
      SqliteRegistrationStore::Open(path);
  EXPECT_THAT(store, IsOk());
  return store.ok() ? std::move(*store) : nullptr;
}

// A database file of its own for each test, removed at the end.
class SqliteRegistrationStoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "registration_store_",
                         info->name(), ".db");
    RemoveFiles();
  }
  void TearDown() override { RemoveFiles(); }
  void RemoveFiles() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path_, suffix).c_str());
    }
  }
  std::string path_;
};

TEST(SqliteRegistrationStoreTest, NewStoreIsEmpty) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->LoadRegistrations(), IsOk());
  EXPECT_THAT(*store->LoadRegistrations(), IsEmpty());
  EXPECT_THAT(*store->UsageSince(absl::InfinitePast()), IsEmpty());
  EXPECT_THAT(*store->UsageEventsSince(absl::InfinitePast()), IsEmpty());
}

TEST(SqliteRegistrationStoreTest, SavesAndLoadsEveryField) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  std::vector<StoredRegistration> saved = {
      Reg("mfp207", RegistrationKind::kSwappedIn, "mfp206", AfterJob::kKeep),
      Reg("mfp201"),
      Reg("mfp205", RegistrationKind::kMarginAdded),
      Reg("mfp204", RegistrationKind::kSwappedIn, "mfp203", AfterJob::kRevert),
  };
  ASSERT_THAT(store->SaveRegistrations(saved), IsOk());
  absl::StatusOr<std::vector<StoredRegistration>> loaded =
      store->LoadRegistrations();
  ASSERT_THAT(loaded, IsOk());
  // Ordered by device id.
  EXPECT_THAT(*loaded, ElementsAre(saved[1], saved[3], saved[2], saved[0]));
}

TEST(SqliteRegistrationStoreTest, SaveReplacesTheWholeSet) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->SaveRegistrations({Reg("a"), Reg("b"), Reg("c")}), IsOk());
  ASSERT_THAT(store->SaveRegistrations({Reg("c"), Reg("d")}), IsOk());
  EXPECT_THAT(*store->LoadRegistrations(), ElementsAre(Reg("c"), Reg("d")));
  ASSERT_THAT(store->SaveRegistrations({}), IsOk());
  EXPECT_THAT(*store->LoadRegistrations(), IsEmpty());
}

TEST(SqliteRegistrationStoreTest, DuplicateIdsFailAndKeepTheOldSet) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->SaveRegistrations({Reg("a")}), IsOk());
  EXPECT_THAT(store->SaveRegistrations({Reg("b"), Reg("b")}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(*store->LoadRegistrations(), ElementsAre(Reg("a")));
}

TEST(SqliteRegistrationStoreTest, IdOnlyViews) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->SaveRegistered({"mfp203", "mfp201"}), IsOk());
  EXPECT_THAT(*store->LoadRegistered(), ElementsAre("mfp201", "mfp203"));
  EXPECT_THAT(*store->LoadRegistrations(),
              ElementsAre(Reg("mfp201"), Reg("mfp203")));
}

TEST(SqliteRegistrationStoreTest, CountsUsageSinceATime) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_THAT(store->RecordUsage("mfp202", t0), IsOk());
  ASSERT_THAT(store->RecordUsage("mfp202", t0 + absl::Hours(1)), IsOk());
  ASSERT_THAT(store->RecordUsage("mfp203", t0 + absl::Hours(1)), IsOk());
  ASSERT_THAT(store->RecordUsage("mfp202", t0 + absl::Hours(2)), IsOk());
  EXPECT_THAT(*store->UsageSince(t0),
              UnorderedElementsAre(Pair("mfp202", 3), Pair("mfp203", 1)));
  // The lower bound is inclusive.
  EXPECT_THAT(*store->UsageSince(t0 + absl::Hours(1)),
              UnorderedElementsAre(Pair("mfp202", 2), Pair("mfp203", 1)));
  EXPECT_THAT(*store->UsageSince(t0 + absl::Hours(1) + absl::Microseconds(1)),
              UnorderedElementsAre(Pair("mfp202", 1)));
  EXPECT_THAT(*store->UsageSince(t0 + absl::Hours(3)), IsEmpty());
}

TEST(SqliteRegistrationStoreTest, ListsUsageEventsOldestFirst) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_THAT(store->RecordUsage("b", t0 + absl::Seconds(2)), IsOk());
  ASSERT_THAT(store->RecordUsage("a", t0), IsOk());
  ASSERT_THAT(store->RecordUsage("c", t0 + absl::Seconds(1)), IsOk());
  ASSERT_THAT(store->RecordUsage("d", t0 + absl::Seconds(1)), IsOk());
  EXPECT_THAT(*store->UsageEventsSince(t0 + absl::Seconds(1)),
              ElementsAre(UsageEvent{"c", t0 + absl::Seconds(1)},
                          UsageEvent{"d", t0 + absl::Seconds(1)},
                          UsageEvent{"b", t0 + absl::Seconds(2)}));
}

TEST(SqliteRegistrationStoreTest, PrunesOldUsage) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_THAT(store->RecordUsage("a", t0), IsOk());
  ASSERT_THAT(store->RecordUsage("b", t0 + absl::Hours(1)), IsOk());
  ASSERT_THAT(store->PruneUsageBefore(t0 + absl::Hours(1)), IsOk());
  EXPECT_THAT(*store->UsageEventsSince(absl::InfinitePast()),
              ElementsAre(UsageEvent{"b", t0 + absl::Hours(1)}));
}

TEST_F(SqliteRegistrationStoreFileTest, SurvivesReopening) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  {
    auto store = OpenOrDie(path_);
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->SaveRegistrations({Reg("x", RegistrationKind::kSwappedIn,
                                              "y", AfterJob::kKeep)}),
                IsOk());
    ASSERT_THAT(store->RecordUsage("x", t0), IsOk());
  }
  // Opening again migrates nothing and loses nothing.
  auto store = OpenOrDie(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(*store->LoadRegistrations(),
              ElementsAre(Reg("x", RegistrationKind::kSwappedIn, "y",
                              AfterJob::kKeep)));
  EXPECT_THAT(*store->UsageSince(t0), UnorderedElementsAre(Pair("x", 1)));
}

TEST_F(SqliteRegistrationStoreFileTest, RefusesASchemaFromTheFuture) {
  {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path_);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("PRAGMA user_version=99"), IsOk());
  }
  EXPECT_THAT(SqliteRegistrationStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteRegistrationStoreFileTest, UnopenablePathFails) {
  EXPECT_THAT(SqliteRegistrationStore::Open(
                  absl::StrCat(path_, ".missing-dir/registration.db")),
              ::testing::Not(IsOk()));
}

// The controller over the real store: a gateway restarted in the middle of a
// swapped job comes back with the swap reverted.
TEST_F(SqliteRegistrationStoreFileTest, ControllerRestartMidJobReverts) {
  relay::testing::FakeClock clock;
  RegistrationConfig config;
  config.nmax = 6;
  config.mode = RegistrationMode::kSwap;
  config.self_device_id = "mfp201";
  std::vector<std::string> mfps;
  for (int i = 201; i <= 207; ++i) mfps.push_back(absl::StrCat("mfp", i));
  {
    auto store = OpenOrDie(path_);
    ASSERT_NE(store, nullptr);
    absl::StatusOr<std::unique_ptr<RegistrationController>> c =
        RegistrationController::Create(config, store.get(), &clock);
    ASSERT_THAT(c, IsOk());
    (*c)->UpdateDevices(mfps);
    absl::StatusOr<Decision> d = (*c)->Request({"p", "mfp207", "alice"});
    ASSERT_THAT(d, IsOk());
    EXPECT_THAT(d->changes.removed, ElementsAre("mfp206"));
    EXPECT_THAT(*store->LoadRegistered(),
                ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp205",
                            "mfp207"));
  }
  auto store = OpenOrDie(path_);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<RegistrationController>> c =
      RegistrationController::Create(config, store.get(), &clock);
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE((*c)->IsRegistered("mfp206"));
  EXPECT_FALSE((*c)->IsRegistered("mfp207"));
  EXPECT_THAT(
      *store->LoadRegistered(),
      ElementsAre("mfp201", "mfp202", "mfp203", "mfp204", "mfp205", "mfp206"));
}

}  // namespace
}  // namespace relay::gateway
