#include "common/sqlite_db.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace relay {
namespace {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) code = absl::StatusCode::kUnavailable;
  if (rc == SQLITE_CONSTRAINT) code = absl::StatusCode::kAlreadyExists;
  if (rc == SQLITE_FULL) code = absl::StatusCode::kResourceExhausted;
  return absl::Status(code, absl::StrCat("sqlite: ", what, ": ", msg));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement& Statement::BindInt(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindText(int index, absl::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view value) {
  sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return std::string();
  return std::string(static_cast<const char*>(data), size);
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteDb> result(new SqliteDb(db));
  absl::Status pragmas = result->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  if (!pragmas.ok()) return pragmas;
  return result;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

absl::Status SqliteDb::Exec(absl::string_view sql) {
  std::string owned(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", msg, " in: ", sql.substr(0, 80)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
  return Statement(db_, stmt);
}

absl::Status SqliteDb::Migrate(const std::vector<std::string>& migrations) {
  return InTransaction([&]() -> absl::Status {
    absl::StatusOr<Statement> version_query = Prepare("PRAGMA user_version");
    if (!version_query.ok()) return version_query.status();
    absl::StatusOr<bool> row = version_query->Step();
    if (!row.ok()) return row.status();
    int64_t version = version_query->ColumnInt(0);
    if (version > static_cast<int64_t>(migrations.size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database schema version ", version, " is newer than this program (",
          migrations.size(), "); upgrade the program"));
    }
    for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
      absl::Status status = Exec(migrations[i]);
      if (!status.ok()) return status;
    }
    return Exec(absl::StrCat("PRAGMA user_version=", migrations.size()));
  });
}

absl::Status SqliteDb::InTransaction(const std::function<absl::Status()>& body,
                                     Durability durability) {
  absl::MutexLock lock(&txn_mu_);
  if (durability != synchronous_) {
    // Per connection, and only outside a transaction. In WAL mode NORMAL
    // skips the fsync at COMMIT (a checkpoint still syncs).
    absl::Status set = Exec(durability == Durability::kFlushed ? "PRAGMA synchronous=FULL"
                                                               : "PRAGMA synchronous=NORMAL");
    if (!set.ok()) return set;
    synchronous_ = durability;
  }
  absl::Status status = Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  status = body();
  if (!status.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return status;
  }
  return Exec("COMMIT");
}

int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t SqliteDb::ChangedRows() const { return sqlite3_changes64(db_); }

}  // namespace relay
