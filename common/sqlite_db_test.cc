#include "common/sqlite_db.h"

#include <cstdio>
#include <string>

#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace relay {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

TEST(SqliteDbTest, MigratesOnceAndKeepsData) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_THAT(db, IsOk());
  std::vector<std::string> migrations = {
      "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)",
      "ALTER TABLE t ADD COLUMN note TEXT"};
  ASSERT_THAT((*db)->Migrate(migrations), IsOk());
  ASSERT_THAT((*db)->Migrate(migrations), IsOk());  // Idempotent.
  auto insert = (*db)->Prepare("INSERT INTO t (id, n, note) VALUES (?, ?, ?)");
  ASSERT_THAT(insert, IsOk());
  insert->BindText(1, "a").BindInt(2, 42).BindText(3, std::string("x\0y", 3));
  ASSERT_THAT(insert->Run(), IsOk());
  auto select = (*db)->Prepare("SELECT n, note FROM t WHERE id = ?");
  ASSERT_THAT(select, IsOk());
  select->BindText(1, "a");
  auto row = select->Step();
  ASSERT_THAT(row, IsOk());
  ASSERT_TRUE(*row);
  EXPECT_EQ(select->ColumnInt(0), 42);
  EXPECT_EQ(select->ColumnText(1), std::string("x\0y", 3));
}

TEST(SqliteDbTest, RefusesSchemaFromTheFuture) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_THAT(db, IsOk());
  ASSERT_THAT((*db)->Migrate({"CREATE TABLE a (x)", "CREATE TABLE b (x)"}), IsOk());
  EXPECT_THAT((*db)->Migrate({"CREATE TABLE a (x)"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(SqliteDbTest, FailedTransactionRollsBack) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_THAT(db, IsOk());
  ASSERT_THAT((*db)->Exec("CREATE TABLE t (id TEXT PRIMARY KEY)"), IsOk());
  absl::Status status = (*db)->InTransaction([&]() -> absl::Status {
    EXPECT_THAT((*db)->Exec("INSERT INTO t VALUES ('a')"), IsOk());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kAborted));
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_THAT(count, IsOk());
  ASSERT_THAT(count->Step(), IsOk());
  EXPECT_EQ(count->ColumnInt(0), 0);
}

int64_t SynchronousSetting(SqliteDb& db) {
  auto query = db.Prepare("PRAGMA synchronous");
  EXPECT_THAT(query, IsOk());
  EXPECT_THAT(query->Step(), IsOk());
  return query->ColumnInt(0);
}

// Each transaction commits under the durability it asked for, whatever the
// one before used, and a process-crash-safe commit is read back like any.
TEST(SqliteDbTest, EachTransactionCommitsWithItsOwnDurability) {
  std::string path = ::testing::TempDir() + "/durability.db";
  std::remove(path.c_str());
  {
    auto db = SqliteDb::Open(path);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("CREATE TABLE t (id TEXT PRIMARY KEY)"), IsOk());
    constexpr int64_t kNormal = 1, kFull = 2;
    int64_t seen = -1;
    ASSERT_THAT((*db)->InTransaction(
                    [&]() -> absl::Status {
                      seen = SynchronousSetting(**db);
                      return (*db)->Exec("INSERT INTO t VALUES ('relaxed')");
                    },
                    Durability::kProcessCrashSafe),
                IsOk());
    EXPECT_EQ(seen, kNormal);
    ASSERT_THAT((*db)->InTransaction([&]() -> absl::Status {
      seen = SynchronousSetting(**db);
      return (*db)->Exec("INSERT INTO t VALUES ('flushed')");
    }),
                IsOk());
    EXPECT_EQ(seen, kFull);
  }
  auto reopened = SqliteDb::Open(path);
  ASSERT_THAT(reopened, IsOk());
  auto count = (*reopened)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_THAT(count, IsOk());
  ASSERT_THAT(count->Step(), IsOk());
  EXPECT_EQ(count->ColumnInt(0), 2);
}

TEST(Sha256Test, KnownVectorsAndIncrementalUpdate) {
  EXPECT_EQ(Sha256::HexOf(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 hash;
  hash.Update("ab");
  hash.Update("c");
  EXPECT_EQ(hash.FinishHex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(RandomHex(8).size(), 16u);
  EXPECT_NE(RandomHex(8), RandomHex(8));
}

}  // namespace
}  // namespace relay
