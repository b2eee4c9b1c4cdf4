#include "mgmt_server/gateway_enrolment.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "common/tls_config.h"
#include "grpcpp/server_context.h"

namespace relay::mgmt {
namespace {

// Created if missing, on its own (no migration number): the management
// table's migrations stay the business of sqlite_management_store.cc.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS gateway_enrolment (
  gateway_id TEXT PRIMARY KEY NOT NULL,
  state TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gateway_enrolment_by_revision ON gateway_enrolment (revision);
)sql";

constexpr size_t kMaxPendingToRecord = 1024;

absl::StatusOr<EnrolmentState> ParseState(const std::string& text) {
  if (text == "pending") return EnrolmentState::kPending;
  if (text == "approved") return EnrolmentState::kApproved;
  if (text == "revoked") return EnrolmentState::kRevoked;
  return absl::DataLossError(absl::StrCat("unknown enrolment state '", text, "'"));
}

int64_t ToMs(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMillis(t); }
absl::Time FromMs(int64_t ms) {
  return ms == 0 ? absl::InfinitePast() : absl::FromUnixMillis(ms);
}

absl::StatusOr<std::vector<EnrolmentRecord>> ReadRecords(Statement& st,
                                                         int64_t* max_revision) {
  std::vector<EnrolmentRecord> records;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    EnrolmentRecord r;
    r.gateway_id = st.ColumnText(0);
    ASSIGN_OR_RETURN(r.state, ParseState(st.ColumnText(1)));
    r.first_seen = FromMs(st.ColumnInt(2));
    r.updated = FromMs(st.ColumnInt(3));
    r.detail = st.ColumnText(4);
    if (max_revision != nullptr && st.ColumnInt(5) > *max_revision) {
      *max_revision = st.ColumnInt(5);
    }
    records.push_back(std::move(r));
  }
  return records;
}

absl::Status NotApproved(const std::string& gateway_id, EnrolmentState state) {
  if (state == EnrolmentState::kRevoked) {
    return absl::PermissionDeniedError(absl::StrCat(
        "gateway ", gateway_id,
        " is revoked: the management server refuses it (an operator may run "
        "`mgmt_server gateways approve ",
        gateway_id, "` to let it back in)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "gateway ", gateway_id,
      " is not enrolled yet (pending approval): an operator must run "
      "`mgmt_server gateways approve ",
      gateway_id, "`"));
}

}  // namespace

const char* EnrolmentStateName(EnrolmentState state) {
  switch (state) {
    case EnrolmentState::kPending: return "pending";
    case EnrolmentState::kApproved: return "approved";
    case EnrolmentState::kRevoked: return "revoked";
  }
  return "?";
}

// --- EnrolmentStore ------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EnrolmentStore>> EnrolmentStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<EnrolmentStore>(new EnrolmentStore(std::move(db)));
}

absl::StatusOr<std::vector<EnrolmentRecord>> EnrolmentStore::List() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT gateway_id, state, first_seen_ms, updated_ms, "
                                "detail, revision FROM gateway_enrolment "
                                "ORDER BY gateway_id"));
  return ReadRecords(st, nullptr);
}

absl::StatusOr<std::vector<EnrolmentRecord>> EnrolmentStore::ChangedSince(
    int64_t after, int64_t* max_revision) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT gateway_id, state, first_seen_ms, updated_ms, "
                                "detail, revision FROM gateway_enrolment "
                                "WHERE revision > ? ORDER BY revision"));
  st.BindInt(1, after);
  return ReadRecords(st, max_revision);
}

absl::Status EnrolmentStore::RecordPending(const std::string& gateway_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement st, db_->Prepare(R"sql(
INSERT OR IGNORE INTO gateway_enrolment
  (gateway_id, state, first_seen_ms, updated_ms, detail, revision)
VALUES (?1, 'pending', ?2, ?2, 'first connection',
        (SELECT COALESCE(MAX(revision), 0) + 1 FROM gateway_enrolment))
)sql"));
    st.BindText(1, gateway_id).BindInt(2, ToMs(now));
    return st.Run();
  });
}

absl::Status EnrolmentStore::SetState(const std::string& gateway_id,
                                      EnrolmentState state, const std::string& detail,
                                      absl::Time now) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement st, db_->Prepare(R"sql(
INSERT INTO gateway_enrolment
  (gateway_id, state, first_seen_ms, updated_ms, detail, revision)
VALUES (?1, ?2, 0, ?3, ?4,
        (SELECT COALESCE(MAX(revision), 0) + 1 FROM gateway_enrolment))
ON CONFLICT (gateway_id) DO UPDATE SET
  state = excluded.state, updated_ms = excluded.updated_ms,
  detail = excluded.detail, revision = excluded.revision
)sql"));
    st.BindText(1, gateway_id)
        .BindText(2, EnrolmentStateName(state))
        .BindInt(3, ToMs(now))
        .BindText(4, detail);
    return st.Run();
  });
}

// --- GatewayEnrolment ----------------------------------------------------------

GatewayEnrolment::GatewayEnrolment(EnrolmentStore* store, const Clock* clock,
                                   absl::Duration poll, RevokedCallback on_revoked)
    : store_(store), clock_(clock), poll_(poll), on_revoked_(std::move(on_revoked)) {}

GatewayEnrolment::~GatewayEnrolment() { Stop(); }

absl::Status GatewayEnrolment::Start() {
  RETURN_IF_ERROR(PollOnce());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void GatewayEnrolment::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status GatewayEnrolment::Check(const std::string& gateway_id) {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(gateway_id);
  if (it == states_.end() || it->second != EnrolmentState::kApproved) poll_now_ = true;
  if (it != states_.end()) {
    if (it->second == EnrolmentState::kApproved) return absl::OkStatus();
    return NotApproved(gateway_id, it->second);
  }
  if (to_record_.size() < kMaxPendingToRecord &&
      std::find(to_record_.begin(), to_record_.end(), gateway_id) == to_record_.end()) {
    to_record_.push_back(gateway_id);
  }
  return NotApproved(gateway_id, EnrolmentState::kPending);
}

absl::Status GatewayEnrolment::PollOnce() {
  std::deque<std::string> to_record;
  int64_t revision;
  {
    absl::MutexLock lock(&mu_);
    to_record.swap(to_record_);
    revision = revision_;
  }
  for (const std::string& id : to_record) {
    absl::Status recorded = store_->RecordPending(id, clock_->Now());
    if (recorded.ok()) {
      LogWarning("event=gateway_pending gateway=%s detail=\"unknown gateway refused and "
                 "recorded as pending; approve it with: mgmt_server gateways approve %s\"",
                 id, id);
    } else {
      LogError("event=store_error op=record_pending gateway=%s reason=\"%s\"", id,
               recorded.ToString());
    }
  }
  int64_t max_revision = revision;
  ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> changed,
                   store_->ChangedSince(revision, &max_revision));
  std::vector<std::pair<std::string, absl::Status>> closed;
  {
    absl::MutexLock lock(&mu_);
    for (const EnrolmentRecord& r : changed) {
      auto [it, inserted] = states_.insert({r.gateway_id, r.state});
      EnrolmentState before = inserted ? EnrolmentState::kPending : it->second;
      it->second = r.state;
      if (!inserted && before == r.state) continue;
      if (r.state != EnrolmentState::kApproved) {
        closed.emplace_back(r.gateway_id, NotApproved(r.gateway_id, r.state));
      }
      if (revision_ != 0 || r.state != EnrolmentState::kPending) {
        LogInfo("event=gateway_enrolment gateway=%s state=%s detail=\"%s\"", r.gateway_id,
                EnrolmentStateName(r.state), r.detail);
      }
    }
    revision_ = max_revision;
  }
  for (const auto& [id, why] : closed) on_revoked_(id, why);
  return absl::OkStatus();
}

void GatewayEnrolment::Loop() {
  absl::MutexLock lock(&mu_);
  auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || poll_now_; };
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&wake), poll_);
    if (stop_) break;
    poll_now_ = false;
    mu_.Unlock();
    absl::Status polled = PollOnce();
    if (!polled.ok()) {
      LogError("event=store_error op=enrolment_poll reason=\"%s\"", polled.ToString());
    }
    mu_.Lock();
    // At most ten re-reads a second, however many refused gateways knock.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(100));
  }
}

// --- GatewayAuth -----------------------------------------------------------------

absl::Status GatewayAuth::Check(const grpc::ServerContextBase& context,
                                const std::string& gateway_id, const char* call) const {
  if (!tls) return absl::OkStatus();
  PeerIdentity peer = PeerIdentityOf(context);
  absl::Status status = CheckGatewayPeer(peer, tls, gateway_id);
  if (status.ok() && enrolment != nullptr) status = enrolment->Check(gateway_id);
  if (!status.ok()) {
    LogWarning("event=gateway_refused gateway=%s call=%s peer=\"%s\" address=%s "
               "reason=\"%s\"",
               gateway_id, call, peer.Describe(), context.peer(), status.ToString());
  }
  return status;
}

// --- `mgmt_server gateways ...` ------------------------------------------------

int RunGatewaysCommand(const std::vector<std::string>& args, const std::string& db_path) {
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: mgmt_server gateways list --db=FILE\n"
                 "       mgmt_server gateways approve GATEWAY_ID --db=FILE\n"
                 "       mgmt_server gateways revoke GATEWAY_ID --db=FILE\n");
    return 2;
  };
  if (args.size() < 2) return usage();
  // Approving before the server's first start creates the database.
  std::error_code ignored;
  std::filesystem::path parent = std::filesystem::path(db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  absl::StatusOr<std::unique_ptr<EnrolmentStore>> store = EnrolmentStore::Open(db_path);
  if (!store.ok()) {
    std::fprintf(stderr, "mgmt_server: cannot open %s: %s\n", db_path.c_str(),
                 store.status().ToString().c_str());
    return 1;
  }
  const std::string& verb = args[1];
  if (verb == "list" && args.size() == 2) {
    absl::StatusOr<std::vector<EnrolmentRecord>> records = (*store)->List();
    if (!records.ok()) {
      std::fprintf(stderr, "mgmt_server: %s\n", records.status().ToString().c_str());
      return 1;
    }
    std::printf("%-24s %-9s %-20s %-20s %s\n", "GATEWAY", "STATE", "FIRST SEEN",
                "UPDATED", "DETAIL");
    auto when = [](absl::Time t) {
      return t == absl::InfinitePast()
                 ? std::string("-")
                 : absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::LocalTimeZone());
    };
    for (const EnrolmentRecord& r : *records) {
      std::printf("%-24s %-9s %-20s %-20s %s\n", r.gateway_id.c_str(),
                  EnrolmentStateName(r.state), when(r.first_seen).c_str(),
                  when(r.updated).c_str(), r.detail.c_str());
    }
    return 0;
  }
  if ((verb == "approve" || verb == "revoke") && args.size() == 3) {
    const std::string& id = args[2];
    absl::StatusOr<std::string> valid = ParseGatewayUri(absl::StrCat(kGatewayUriPrefix, id));
    if (!valid.ok()) {
      std::fprintf(stderr, "mgmt_server: bad gateway id '%s': %s\n", id.c_str(),
                   std::string(valid.status().message()).c_str());
      return 2;
    }
    EnrolmentState state =
        verb == "approve" ? EnrolmentState::kApproved : EnrolmentState::kRevoked;
    absl::Status set = (*store)->SetState(
        id, state, absl::StrCat(verb == "approve" ? "approved" : "revoked", " by operator"),
        absl::Now());
    if (!set.ok()) {
      std::fprintf(stderr, "mgmt_server: %s\n", set.ToString().c_str());
      return 1;
    }
    std::printf("gateway %s is %s%s\n", id.c_str(), EnrolmentStateName(state),
                state == EnrolmentState::kRevoked
                    ? " (a running management server closes its session within a second)"
                    : "");
    return 0;
  }
  return usage();
}

}  // namespace relay::mgmt
