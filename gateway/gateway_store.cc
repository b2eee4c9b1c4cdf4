#include "gateway/gateway_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::gateway {
namespace {

const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      R"sql(
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE delivered_jobs (
        job_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        delivered_unix INTEGER NOT NULL
      );
      CREATE TABLE pending_scans (
        scan_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256_hex TEXT NOT NULL,
        spool_path TEXT NOT NULL,
        accepted_unix_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE uploaded_scans (
        scan_id TEXT PRIMARY KEY,
        sha256_hex TEXT NOT NULL,
        uploaded_unix INTEGER NOT NULL
      );
      )sql",
  };
  return *migrations;
}

constexpr char kScanColumns[] =
    "scan_id, device_id, user_id, content_type, size, sha256_hex, spool_path, "
    "accepted_unix_ms, attempts";

PendingScan ReadScan(const Statement& st) {
  PendingScan scan;
  scan.scan_id = st.ColumnText(0);
  scan.device_id = st.ColumnText(1);
  scan.user_id = st.ColumnText(2);
  scan.content_type = st.ColumnText(3);
  scan.size = st.ColumnInt(4);
  scan.sha256_hex = st.ColumnText(5);
  scan.spool_path = st.ColumnText(6);
  scan.accepted = absl::FromUnixMillis(st.ColumnInt(7));
  scan.attempts = static_cast<int>(st.ColumnInt(8));
  return scan;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GatewayStore>> GatewayStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<GatewayStore>(new GatewayStore(std::move(db)));
}

absl::StatusOr<std::optional<std::string>> GatewayStore::GetSetting(
    absl::string_view key) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT value FROM settings WHERE key = ?"));
  st.BindText(1, key);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnText(0));
}

absl::Status GatewayStore::PutSetting(absl::string_view key, absl::string_view value) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("INSERT INTO settings(key, value) VALUES(?, ?) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  st.BindText(1, key).BindText(2, value);
  return st.Run();
}

absl::StatusOr<bool> GatewayStore::IsJobDelivered(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT 1 FROM delivered_jobs WHERE job_id = ?"));
  st.BindText(1, job_id);
  return st.Step();
}

absl::Status GatewayStore::MarkJobDelivered(absl::string_view job_id,
                                            absl::string_view device_id,
                                            absl::Time when) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("INSERT OR IGNORE INTO delivered_jobs(job_id, device_id, "
                                "delivered_unix) VALUES(?, ?, ?)"));
  st.BindText(1, job_id).BindText(2, device_id).BindInt(3, absl::ToUnixSeconds(when));
  return st.Run();
}

absl::Status GatewayStore::AddPendingScan(const PendingScan& scan) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(absl::StrCat("INSERT INTO pending_scans(", kScanColumns,
                                ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  st.BindText(1, scan.scan_id)
      .BindText(2, scan.device_id)
      .BindText(3, scan.user_id)
      .BindText(4, scan.content_type)
      .BindInt(5, scan.size)
      .BindText(6, scan.sha256_hex)
      .BindText(7, scan.spool_path)
      .BindInt(8, absl::ToUnixMillis(scan.accepted))
      .BindInt(9, scan.attempts);
  return st.Run();
}

absl::StatusOr<std::optional<PendingScan>> GatewayStore::GetPendingScan(
    absl::string_view scan_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kScanColumns,
                                             " FROM pending_scans WHERE scan_id = ?")));
  st.BindText(1, scan_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<PendingScan>();
  return std::optional<PendingScan>(ReadScan(st));
}

absl::StatusOr<std::vector<PendingScan>> GatewayStore::ListPendingScans() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kScanColumns,
                                             " FROM pending_scans ORDER BY "
                                             "accepted_unix_ms, scan_id")));
  std::vector<PendingScan> scans;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    scans.push_back(ReadScan(st));
  }
  return scans;
}

absl::Status GatewayStore::SetScanAttempts(absl::string_view scan_id, int attempts) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("UPDATE pending_scans SET attempts = ? WHERE scan_id = ?"));
  st.BindInt(1, attempts).BindText(2, scan_id);
  return st.Run();
}

absl::Status GatewayStore::MarkScanUploaded(absl::string_view scan_id,
                                            absl::string_view sha256_hex,
                                            absl::Time when) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement del,
                     db_->Prepare("DELETE FROM pending_scans WHERE scan_id = ?"));
    del.BindText(1, scan_id);
    RETURN_IF_ERROR(del.Run());
    ASSIGN_OR_RETURN(Statement ins,
                     db_->Prepare("INSERT OR REPLACE INTO uploaded_scans(scan_id, "
                                  "sha256_hex, uploaded_unix) VALUES(?, ?, ?)"));
    ins.BindText(1, scan_id).BindText(2, sha256_hex).BindInt(3, absl::ToUnixSeconds(when));
    return ins.Run();
  });
}

absl::StatusOr<std::optional<std::string>> GatewayStore::UploadedScanSha(
    absl::string_view scan_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT sha256_hex FROM uploaded_scans WHERE scan_id = ?"));
  st.BindText(1, scan_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnText(0));
}

}  // namespace relay::gateway
