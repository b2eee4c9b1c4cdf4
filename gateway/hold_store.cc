#include "gateway/hold_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::gateway {
namespace {

const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      R"sql(
      CREATE TABLE held_jobs (
        job_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        request BLOB NOT NULL,
        reason TEXT NOT NULL,
        spool_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256_hex TEXT NOT NULL,
        held_unix_ms INTEGER NOT NULL,
        expires_unix_ms INTEGER NOT NULL
      );
      )sql",
  };
  return *migrations;
}

constexpr char kColumns[] =
    "job_id, device_id, request, reason, spool_path, size, sha256_hex, held_unix_ms, "
    "expires_unix_ms";

int64_t ToMillis(absl::Time t) {
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  if (t == absl::InfinitePast()) return 0;
  return absl::ToUnixMillis(t);
}

absl::Time FromMillis(int64_t ms) {
  if (ms == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixMillis(ms);
}

absl::StatusOr<HeldJob> ReadRow(const Statement& st) {
  HeldJob job;
  job.job_id = st.ColumnText(0);
  job.device_id = st.ColumnText(1);
  if (!job.request.ParseFromString(st.ColumnText(2))) {
    return absl::DataLossError("held job " + job.job_id + " has a corrupt request");
  }
  job.reason = st.ColumnText(3);
  job.spool_path = st.ColumnText(4);
  job.size = st.ColumnInt(5);
  job.sha256_hex = st.ColumnText(6);
  job.held_at = FromMillis(st.ColumnInt(7));
  job.expires = FromMillis(st.ColumnInt(8));
  return job;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HoldStore>> HoldStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<HoldStore>(new HoldStore(std::move(db)));
}

absl::Status HoldStore::Add(const HeldJob& job) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("INSERT OR REPLACE INTO held_jobs (", kColumns,
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  st.BindText(1, job.job_id)
      .BindText(2, job.device_id)
      .BindBlob(3, job.request.SerializeAsString())
      .BindText(4, job.reason)
      .BindText(5, job.spool_path)
      .BindInt(6, job.size)
      .BindText(7, job.sha256_hex)
      .BindInt(8, ToMillis(job.held_at))
      .BindInt(9, ToMillis(job.expires));
  return st.Run();
}

absl::Status HoldStore::UpdateReason(const std::string& job_id, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("UPDATE held_jobs SET reason = ? WHERE job_id = ?"));
  st.BindText(1, reason).BindText(2, job_id);
  return st.Run();
}

absl::Status HoldStore::Remove(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM held_jobs WHERE job_id = ?"));
  st.BindText(1, job_id);
  return st.Run();
}

absl::StatusOr<std::optional<HeldJob>> HoldStore::Get(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kColumns,
                                             " FROM held_jobs WHERE job_id = ?")));
  st.BindText(1, job_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<HeldJob>();
  ASSIGN_OR_RETURN(HeldJob job, ReadRow(st));
  return std::optional<HeldJob>(std::move(job));
}

absl::StatusOr<std::vector<HeldJob>> HoldStore::List() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kColumns,
                                             " FROM held_jobs ORDER BY held_unix_ms, "
                                             "job_id")));
  std::vector<HeldJob> jobs;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(HeldJob job, ReadRow(st));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace relay::gateway
