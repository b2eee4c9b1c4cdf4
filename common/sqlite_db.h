#ifndef RELAY_COMMON_SQLITE_DB_H_
#define RELAY_COMMON_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/durability.h"

namespace relay {

// A prepared statement. Bind parameters (1-based), then Step() or Run().
//
//   ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT name FROM t WHERE id=?"));
//   st.BindText(1, id);
//   ASSIGN_OR_RETURN(bool has_row, st.Step());
//   if (has_row) name = st.ColumnText(0);
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& BindInt(int index, int64_t value);
  Statement& BindText(int index, absl::string_view value);
  Statement& BindBlob(int index, absl::string_view value);
  Statement& BindNull(int index);

  // Advances one row: true if a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done; for statements that return no rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class SqliteDb;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// An SQLite database file opened in WAL mode with a busy timeout, safe to share
// between threads (SQLite's serialized mode). Schemas are versioned with
// PRAGMA user_version: Migrate() applies the migrations not yet applied.
class SqliteDb {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" for tests.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();

  // Executes one or more statements without parameters.
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // migrations[i] brings the schema from version i to i+1.
  absl::Status Migrate(const std::vector<std::string>& migrations);

  // Runs `body` inside BEGIN IMMEDIATE / COMMIT; rolls back if it fails.
  // Transactions are serialized by an internal mutex.
  absl::Status InTransaction(const std::function<absl::Status()>& body,
                             Durability durability = Durability::kFlushed);

  int64_t LastInsertRowId() const;
  int64_t ChangedRows() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  absl::Mutex txn_mu_;
  // PRAGMA synchronous in force (FULL at open); changed between transactions.
  Durability synchronous_ ABSL_GUARDED_BY(txn_mu_) = Durability::kFlushed;
};

}  // namespace relay

#endif  // RELAY_COMMON_SQLITE_DB_H_
