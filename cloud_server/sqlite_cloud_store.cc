#include "cloud_server/sqlite_cloud_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::cloud {
namespace {

using relay::v1::Job;
using relay::v1::JobEvent;
using relay::v1::JobState;

// migrations[i] brings the schema from version i to i + 1. Never edit a
// released entry; append a new one.
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      // 1: documents, jobs and their history, scans, device mirror, nonces.
      R"sql(
        CREATE TABLE documents (
          document_id TEXT PRIMARY KEY NOT NULL,
          user_id TEXT NOT NULL,
          name TEXT NOT NULL,
          content_type TEXT NOT NULL,
          size INTEGER NOT NULL,
          sha256_hex TEXT NOT NULL,
          created_unix INTEGER NOT NULL,
          blob_name TEXT NOT NULL
        );
        CREATE INDEX documents_by_user ON documents (user_id, created_unix);
        CREATE TABLE jobs (
          job_id TEXT PRIMARY KEY NOT NULL,
          user_id TEXT NOT NULL,
          document_id TEXT NOT NULL,
          document_name TEXT NOT NULL,
          device_id TEXT NOT NULL,
          gateway_id TEXT NOT NULL,
          state INTEGER NOT NULL,
          reason TEXT NOT NULL,
          created_unix INTEGER NOT NULL,
          updated_unix INTEGER NOT NULL,
          client_request_id TEXT,
          UNIQUE (user_id, client_request_id)
        );
        CREATE INDEX jobs_by_user ON jobs (user_id, created_unix);
        CREATE INDEX jobs_by_state ON jobs (state);
        CREATE TABLE job_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          job_id TEXT NOT NULL REFERENCES jobs (job_id),
          time_unix_ms INTEGER NOT NULL,
          state INTEGER NOT NULL,
          detail TEXT NOT NULL
        );
        CREATE INDEX job_events_by_job ON job_events (job_id, id);
        CREATE TABLE scans (
          scan_id TEXT PRIMARY KEY NOT NULL,
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          gateway_id TEXT NOT NULL,
          size INTEGER NOT NULL,
          sha256_hex TEXT NOT NULL,
          content_type TEXT NOT NULL,
          created_unix INTEGER NOT NULL,
          blob_name TEXT NOT NULL
        );
        CREATE INDEX scans_by_user ON scans (user_id, created_unix);
        CREATE TABLE gateways (
          gateway_id TEXT PRIMARY KEY NOT NULL,
          version INTEGER NOT NULL,
          device_list BLOB NOT NULL,
          online INTEGER NOT NULL,
          last_update_unix_ms INTEGER NOT NULL
        );
        CREATE TABLE used_token_nonces (
          nonce TEXT PRIMARY KEY NOT NULL,
          expires_unix INTEGER NOT NULL
        );
        CREATE INDEX used_token_nonces_by_expiry ON used_token_nonces (expires_unix);
      )sql",
  };
  return *migrations;
}

constexpr char kJobColumns[] =
    "job_id, user_id, document_id, document_name, device_id, gateway_id, "
    "state, reason, created_unix, updated_unix";

Job JobFromRow(const Statement& st) {
  Job job;
  job.set_job_id(st.ColumnText(0));
  job.set_user_id(st.ColumnText(1));
  job.set_document_id(st.ColumnText(2));
  job.set_document_name(st.ColumnText(3));
  job.set_device_id(st.ColumnText(4));
  job.set_gateway_id(st.ColumnText(5));
  job.set_state(static_cast<JobState>(st.ColumnInt(6)));
  job.set_reason(st.ColumnText(7));
  job.set_created_unix(st.ColumnInt(8));
  job.set_updated_unix(st.ColumnInt(9));
  return job;
}

constexpr char kDocumentColumns[] =
    "document_id, user_id, name, content_type, size, sha256_hex, created_unix, "
    "blob_name";

StoredDocument DocumentFromRow(const Statement& st) {
  StoredDocument d;
  d.document.set_document_id(st.ColumnText(0));
  d.user_id = st.ColumnText(1);
  d.document.set_name(st.ColumnText(2));
  d.document.set_content_type(st.ColumnText(3));
  d.document.set_size(st.ColumnInt(4));
  d.document.set_sha256_hex(st.ColumnText(5));
  d.document.set_created_unix(st.ColumnInt(6));
  d.blob_name = st.ColumnText(7);
  return d;
}

constexpr char kScanColumns[] =
    "scan_id, user_id, device_id, gateway_id, size, sha256_hex, content_type, "
    "created_unix, blob_name";

StoredScan ScanFromRow(const Statement& st) {
  StoredScan s;
  s.scan.set_scan_id(st.ColumnText(0));
  s.user_id = st.ColumnText(1);
  s.scan.set_device_id(st.ColumnText(2));
  s.scan.set_gateway_id(st.ColumnText(3));
  s.scan.set_size(st.ColumnInt(4));
  s.scan.set_sha256_hex(st.ColumnText(5));
  s.scan.set_content_type(st.ColumnText(6));
  s.scan.set_created_unix(st.ColumnInt(7));
  s.blob_name = st.ColumnText(8);
  return s;
}

}  // namespace

bool IsFinalJobState(JobState state) {
  return state == relay::v1::JOB_STATE_DONE ||
         state == relay::v1::JOB_STATE_FAILED;
}

absl::StatusOr<std::unique_ptr<SqliteCloudStore>> SqliteCloudStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  absl::Status migrated = db->Migrate(Migrations());
  if (!migrated.ok()) {
    return absl::Status(migrated.code(), absl::StrCat("cloud store ", path,
                                                      ": ", migrated.message()));
  }
  return std::unique_ptr<SqliteCloudStore>(new SqliteCloudStore(std::move(db)));
}

// --- Documents -------------------------------------------------------------

absl::Status SqliteCloudStore::InsertDocument(const StoredDocument& d) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(absl::StrCat("INSERT INTO documents (", kDocumentColumns,
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")));
  st.BindText(1, d.document.document_id())
      .BindText(2, d.user_id)
      .BindText(3, d.document.name())
      .BindText(4, d.document.content_type())
      .BindInt(5, d.document.size())
      .BindText(6, d.document.sha256_hex())
      .BindInt(7, d.document.created_unix())
      .BindText(8, d.blob_name);
  return st.Run();
}

absl::StatusOr<StoredDocument> SqliteCloudStore::GetDocument(
    const std::string& user_id, const std::string& document_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat(
                       "SELECT ", kDocumentColumns,
                       " FROM documents WHERE document_id = ? AND user_id = ?")));
  st.BindText(1, document_id).BindText(2, user_id);
  ASSIGN_OR_RETURN(bool has_row, st.Step());
  if (!has_row) {
    return absl::NotFoundError(
        absl::StrCat("document ", document_id, " not found"));
  }
  return DocumentFromRow(st);
}

absl::StatusOr<std::vector<StoredDocument>> SqliteCloudStore::ListDocuments(
    const std::string& user_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat(
                       "SELECT ", kDocumentColumns,
                       " FROM documents WHERE user_id = ? "
                       "ORDER BY created_unix, rowid")));
  st.BindText(1, user_id);
  std::vector<StoredDocument> documents;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    documents.push_back(DocumentFromRow(st));
  }
  return documents;
}

// --- Jobs ------------------------------------------------------------------

absl::Status SqliteCloudStore::LoadHistoryLocked(Job& job) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT time_unix_ms, state, detail FROM "
                                "job_events WHERE job_id = ? ORDER BY id"));
  st.BindText(1, job.job_id());
  job.clear_history();
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    JobEvent* event = job.add_history();
    event->set_time_unix_ms(st.ColumnInt(0));
    event->set_state(static_cast<JobState>(st.ColumnInt(1)));
    event->set_detail(st.ColumnText(2));
  }
  return absl::OkStatus();
}

absl::StatusOr<Job> SqliteCloudStore::LoadJobLocked(const std::string& job_id) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE job_id = ?")));
  st.BindText(1, job_id);
  ASSIGN_OR_RETURN(bool has_row, st.Step());
  if (!has_row) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  Job job = JobFromRow(st);
  RETURN_IF_ERROR(LoadHistoryLocked(job));
  return job;
}

absl::StatusOr<std::vector<Job>> SqliteCloudStore::LoadJobsLocked(
    const std::string& where, const std::string& arg) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE ", where,
                                             " ORDER BY created_unix, rowid")));
  if (!arg.empty()) st.BindText(1, arg);
  std::vector<Job> jobs;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    jobs.push_back(JobFromRow(st));
  }
  for (Job& job : jobs) RETURN_IF_ERROR(LoadHistoryLocked(job));
  return jobs;
}

absl::StatusOr<std::pair<Job, bool>> SqliteCloudStore::CreateJob(
    const Job& job, const std::string& client_request_id) {
  absl::MutexLock lock(&mu_);
  std::pair<Job, bool> result;
  RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    if (!client_request_id.empty()) {
      ASSIGN_OR_RETURN(Statement find,
                       db_->Prepare("SELECT job_id FROM jobs WHERE user_id = ? "
                                    "AND client_request_id = ?"));
      find.BindText(1, job.user_id()).BindText(2, client_request_id);
      ASSIGN_OR_RETURN(bool has_row, find.Step());
      if (has_row) {
        ASSIGN_OR_RETURN(result.first, LoadJobLocked(find.ColumnText(0)));
        result.second = false;
        return absl::OkStatus();
      }
    }
    ASSIGN_OR_RETURN(Statement insert,
                     db_->Prepare(absl::StrCat(
                         "INSERT INTO jobs (", kJobColumns,
                         ", client_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                         "?, ?, ?)")));
    insert.BindText(1, job.job_id())
        .BindText(2, job.user_id())
        .BindText(3, job.document_id())
        .BindText(4, job.document_name())
        .BindText(5, job.device_id())
        .BindText(6, job.gateway_id())
        .BindInt(7, job.state())
        .BindText(8, job.reason())
        .BindInt(9, job.created_unix())
        .BindInt(10, job.updated_unix());
    if (client_request_id.empty()) {
      insert.BindNull(11);
    } else {
      insert.BindText(11, client_request_id);
    }
    RETURN_IF_ERROR(insert.Run());
    for (const JobEvent& event : job.history()) {
      ASSIGN_OR_RETURN(Statement ev,
                       db_->Prepare("INSERT INTO job_events (job_id, "
                                    "time_unix_ms, state, detail) VALUES (?, "
                                    "?, ?, ?)"));
      ev.BindText(1, job.job_id())
          .BindInt(2, event.time_unix_ms())
          .BindInt(3, event.state())
          .BindText(4, event.detail());
      RETURN_IF_ERROR(ev.Run());
    }
    result.first = job;
    result.second = true;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Job> SqliteCloudStore::GetJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  return LoadJobLocked(job_id);
}

absl::StatusOr<std::vector<Job>> SqliteCloudStore::ListJobs(
    const std::string& user_id) {
  absl::MutexLock lock(&mu_);
  return LoadJobsLocked("user_id = ?", user_id);
}

absl::StatusOr<std::vector<Job>> SqliteCloudStore::ListUnfinishedJobs() {
  absl::MutexLock lock(&mu_);
  return LoadJobsLocked(absl::StrCat("state NOT IN (", relay::v1::JOB_STATE_DONE,
                                     ", ", relay::v1::JOB_STATE_FAILED, ")"),
                        "");
}

absl::StatusOr<Job> SqliteCloudStore::UpdateJob(const std::string& job_id,
                                                const JobUpdate& update) {
  absl::MutexLock lock(&mu_);
  Job job;
  RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(job, LoadJobLocked(job_id));
    if (IsFinalJobState(job.state())) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " is already ",
                       relay::v1::JobState_Name(job.state())));
    }
    if (!update.only_from.empty() &&
        std::find(update.only_from.begin(), update.only_from.end(),
                  job.state()) == update.only_from.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " is ",
                       relay::v1::JobState_Name(job.state())));
    }
    if (update.state != relay::v1::JOB_STATE_UNSPECIFIED) {
      job.set_state(update.state);
    }
    if (update.reason.has_value()) job.set_reason(*update.reason);
    if (!update.gateway_id.empty()) job.set_gateway_id(update.gateway_id);
    job.set_updated_unix(absl::ToUnixSeconds(update.time));
    ASSIGN_OR_RETURN(Statement st,
                     db_->Prepare("UPDATE jobs SET state = ?, reason = ?, "
                                  "gateway_id = ?, updated_unix = ? WHERE "
                                  "job_id = ?"));
    st.BindInt(1, job.state())
        .BindText(2, job.reason())
        .BindText(3, job.gateway_id())
        .BindInt(4, job.updated_unix())
        .BindText(5, job_id);
    RETURN_IF_ERROR(st.Run());
    ASSIGN_OR_RETURN(Statement ev,
                     db_->Prepare("INSERT INTO job_events (job_id, "
                                  "time_unix_ms, state, detail) VALUES (?, ?, "
                                  "?, ?)"));
    JobEvent* event = job.add_history();
    event->set_time_unix_ms(absl::ToUnixMillis(update.time));
    event->set_state(job.state());
    event->set_detail(update.detail);
    ev.BindText(1, job_id)
        .BindInt(2, event->time_unix_ms())
        .BindInt(3, event->state())
        .BindText(4, event->detail());
    return ev.Run();
  }, update.durability));
  return job;
}

// --- Scans -----------------------------------------------------------------

absl::Status SqliteCloudStore::InsertScan(const StoredScan& s) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("INSERT INTO scans (", kScanColumns,
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  st.BindText(1, s.scan.scan_id())
      .BindText(2, s.user_id)
      .BindText(3, s.scan.device_id())
      .BindText(4, s.scan.gateway_id())
      .BindInt(5, s.scan.size())
      .BindText(6, s.scan.sha256_hex())
      .BindText(7, s.scan.content_type())
      .BindInt(8, s.scan.created_unix())
      .BindText(9, s.blob_name);
  absl::Status status = st.Run();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        absl::StrCat("scan ", s.scan.scan_id(), " is already stored"));
  }
  return status;
}

absl::StatusOr<std::vector<StoredScan>> SqliteCloudStore::LoadScansLocked(
    const std::string& where, const std::string& arg) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kScanColumns,
                                             " FROM scans WHERE ", where,
                                             " ORDER BY created_unix, rowid")));
  st.BindText(1, arg);
  std::vector<StoredScan> scans;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    scans.push_back(ScanFromRow(st));
  }
  return scans;
}

absl::StatusOr<StoredScan> SqliteCloudStore::FindScan(const std::string& scan_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::vector<StoredScan> scans,
                   LoadScansLocked("scan_id = ?", scan_id));
  if (scans.empty()) {
    return absl::NotFoundError(absl::StrCat("scan ", scan_id, " not found"));
  }
  return scans.front();
}

absl::StatusOr<std::vector<StoredScan>> SqliteCloudStore::ListScans(
    const std::string& user_id) {
  absl::MutexLock lock(&mu_);
  return LoadScansLocked("user_id = ?", user_id);
}

// --- Device mirror -----------------------------------------------------------

absl::StatusOr<bool> SqliteCloudStore::PutDeviceList(
    const relay::v1::DeviceList& list, absl::Time now) {
  absl::MutexLock lock(&mu_);
  bool kept = false;
  RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement find,
                     db_->Prepare("SELECT version FROM gateways WHERE "
                                  "gateway_id = ?"));
    find.BindText(1, list.gateway_id());
    ASSIGN_OR_RETURN(bool has_row, find.Step());
    if (has_row && find.ColumnInt(0) > list.version()) {
      ASSIGN_OR_RETURN(Statement touch,
                       db_->Prepare("UPDATE gateways SET online = 1, "
                                    "last_update_unix_ms = ? WHERE gateway_id = ?"));
      touch.BindInt(1, absl::ToUnixMillis(now)).BindText(2, list.gateway_id());
      return touch.Run();
    }
    ASSIGN_OR_RETURN(Statement put,
                     db_->Prepare("INSERT OR REPLACE INTO gateways (gateway_id, "
                                  "version, device_list, online, "
                                  "last_update_unix_ms) VALUES (?, ?, ?, 1, ?)"));
    put.BindText(1, list.gateway_id())
        .BindInt(2, list.version())
        .BindBlob(3, list.SerializeAsString())
        .BindInt(4, absl::ToUnixMillis(now));
    kept = true;
    return put.Run();
  }));
  return kept;
}

absl::Status SqliteCloudStore::SetGatewayOnline(const std::string& gateway_id,
                                                bool online, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // A hint, refreshed at every dispatch and tunnel: not worth an fsync.
  return db_->InTransaction(
      [&]() -> absl::Status {
        ASSIGN_OR_RETURN(Statement st,
                         db_->Prepare("UPDATE gateways SET online = ?, "
                                      "last_update_unix_ms = ? WHERE gateway_id = ?"));
        st.BindInt(1, online ? 1 : 0)
            .BindInt(2, absl::ToUnixMillis(now))
            .BindText(3, gateway_id);
        return st.Run();
      },
      Durability::kProcessCrashSafe);
}

absl::StatusOr<std::vector<GatewayMirror>> SqliteCloudStore::ListGateways() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT gateway_id, device_list, online, "
                                "last_update_unix_ms FROM gateways ORDER BY "
                                "gateway_id"));
  std::vector<GatewayMirror> gateways;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    GatewayMirror g;
    if (!g.device_list.ParseFromString(st.ColumnText(1))) {
      return absl::DataLossError(absl::StrCat(
          "cloud store: device list of gateway ", st.ColumnText(0),
          " cannot be parsed"));
    }
    g.online = st.ColumnInt(2) != 0;
    g.last_update = absl::FromUnixMillis(st.ColumnInt(3));
    gateways.push_back(std::move(g));
  }
  return gateways;
}

// --- Tunnel tokens -----------------------------------------------------------

absl::Status SqliteCloudStore::ConsumeTokenNonce(const std::string& nonce,
                                                 absl::Time expires,
                                                 absl::Time now) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement prune,
                     db_->Prepare("DELETE FROM used_token_nonces WHERE "
                                  "expires_unix < ?"));
    // A nonce is kept until its token expired, plus a margin for clock skew.
    prune.BindInt(1, absl::ToUnixSeconds(now - absl::Minutes(10)));
    RETURN_IF_ERROR(prune.Run());
    ASSIGN_OR_RETURN(Statement insert,
                     db_->Prepare("INSERT INTO used_token_nonces (nonce, "
                                  "expires_unix) VALUES (?, ?)"));
    insert.BindText(1, nonce).BindInt(2, absl::ToUnixSeconds(expires));
    absl::Status status = insert.Run();
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("tunnel token was already used");
    }
    return status;
  }, Durability::kProcessCrashSafe);
}

absl::StatusOr<std::vector<std::string>> SqliteCloudStore::ListBlobNames() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT blob_name FROM documents UNION ALL "
                                "SELECT blob_name FROM scans"));
  std::vector<std::string> names;
  while (true) {
    ASSIGN_OR_RETURN(bool has_row, st.Step());
    if (!has_row) break;
    names.push_back(st.ColumnText(0));
  }
  return names;
}

}  // namespace relay::cloud
