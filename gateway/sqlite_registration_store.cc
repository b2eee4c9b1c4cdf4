#include "gateway/sqlite_registration_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::gateway {
namespace {

// migrations[i] brings the schema from version i to i + 1. Never edit a
// released entry; append a new one.
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      // 1: registrations and usage history.
      R"sql(
        CREATE TABLE registrations (
          device_id TEXT PRIMARY KEY NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('pre', 'margin', 'swap')),
          restore_device_id TEXT NOT NULL DEFAULT '',
          after_job TEXT NOT NULL DEFAULT 'revert'
            CHECK (after_job IN ('revert', 'keep'))
        );
        CREATE TABLE usage_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          device_id TEXT NOT NULL,
          at_unix_micros INTEGER NOT NULL
        );
        CREATE INDEX usage_events_by_time ON usage_events (at_unix_micros);
      )sql",
  };
  return *migrations;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteRegistrationStore>>
SqliteRegistrationStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  absl::Status migrated = db->Migrate(Migrations());
  if (!migrated.ok()) {
    return absl::Status(
        migrated.code(),
        absl::StrCat("registration store ", path, ": ", migrated.message()));
  }
  return std::unique_ptr<SqliteRegistrationStore>(
      new SqliteRegistrationStore(std::move(db)));
}

absl::StatusOr<std::vector<StoredRegistration>>
SqliteRegistrationStore::LoadRegistrations() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT device_id, kind, restore_device_id, "
                                "after_job FROM registrations "
                                "ORDER BY device_id"));
  std::vector<StoredRegistration> registrations;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    StoredRegistration r;
    r.device_id = st.ColumnText(0);
    // The CHECK constraints make these parses infallible unless the file was
    // edited by hand; then refuse to guess.
    ASSIGN_OR_RETURN(r.kind, ParseRegistrationKind(st.ColumnText(1)));
    r.restore_device_id = st.ColumnText(2);
    ASSIGN_OR_RETURN(r.after_job, ParseAfterJob(st.ColumnText(3)));
    registrations.push_back(std::move(r));
  }
  return registrations;
}

absl::Status SqliteRegistrationStore::SaveRegistrations(
    const std::vector<StoredRegistration>& registrations) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(db_->Exec("DELETE FROM registrations"));
    // Statement has no Reset(); one statement per row is fine for <= Nmax rows.
    for (const StoredRegistration& r : registrations) {
      ASSIGN_OR_RETURN(Statement st,
                       db_->Prepare("INSERT INTO registrations "
                                    "(device_id, kind, restore_device_id, "
                                    "after_job) VALUES (?, ?, ?, ?)"));
      st.BindText(1, r.device_id)
          .BindText(2, RegistrationKindName(r.kind))
          .BindText(3, r.restore_device_id)
          .BindText(4, AfterJobName(r.after_job));
      RETURN_IF_ERROR(st.Run());
    }
    return absl::OkStatus();
  });
}

absl::Status SqliteRegistrationStore::RecordUsage(absl::string_view device_id,
                                                  absl::Time when) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("INSERT INTO usage_events "
                                "(device_id, at_unix_micros) VALUES (?, ?)"));
  st.BindText(1, device_id).BindInt(2, absl::ToUnixMicros(when));
  return st.Run();
}

absl::StatusOr<std::map<std::string, int64_t>>
SqliteRegistrationStore::UsageSince(absl::Time since) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT device_id, COUNT(*) FROM usage_events "
                                "WHERE at_unix_micros >= ? "
                                "GROUP BY device_id"));
  st.BindInt(1, absl::ToUnixMicros(since));
  std::map<std::string, int64_t> counts;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    counts[st.ColumnText(0)] = st.ColumnInt(1);
  }
  return counts;
}

absl::StatusOr<std::vector<UsageEvent>>
SqliteRegistrationStore::UsageEventsSince(absl::Time since) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT device_id, at_unix_micros "
                                "FROM usage_events WHERE at_unix_micros >= ? "
                                "ORDER BY at_unix_micros, id"));
  st.BindInt(1, absl::ToUnixMicros(since));
  std::vector<UsageEvent> events;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    events.push_back(
        UsageEvent{st.ColumnText(0), absl::FromUnixMicros(st.ColumnInt(1))});
  }
  return events;
}

absl::Status SqliteRegistrationStore::PruneUsageBefore(absl::Time before) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("DELETE FROM usage_events WHERE at_unix_micros < ?"));
  st.BindInt(1, absl::ToUnixMicros(before));
  return st.Run();
}

}  // namespace relay::gateway
