#ifndef RELAY_MGMT_SERVER_GATEWAY_ENROLMENT_H_
#define RELAY_MGMT_SERVER_GATEWAY_ENROLMENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/sqlite_db.h"
#include "grpcpp/support/server_callback.h"

namespace relay::mgmt {

// Whether a gateway may use the management server. A gateway's identity is
// its certificate (common/tls_config.h); enrolment is the operator's explicit
// decision to let that identity in.
enum class EnrolmentState {
  // Seen (its first connection) or announced, not approved yet: refused.
  kPending,
  kApproved,
  // Refused; its live session was closed.
  kRevoked,
};
const char* EnrolmentStateName(EnrolmentState state);  // "pending", ...

struct EnrolmentRecord {
  std::string gateway_id;
  EnrolmentState state = EnrolmentState::kPending;
  absl::Time first_seen = absl::InfinitePast();
  absl::Time updated = absl::InfinitePast();
  // Who/what changed it last ("first connection", "approved by operator").
  std::string detail;
};

// The gateway_enrolment table, in the management table's SQLite file. Opened
// on its own connection, by the server and by the `mgmt_server gateways`
// commands alike (WAL: the command may run while the server does). Each
// change bumps a revision so the server reloads only what changed.
class EnrolmentStore {
 public:
  static absl::StatusOr<std::unique_ptr<EnrolmentStore>> Open(const std::string& path);

  absl::StatusOr<std::vector<EnrolmentRecord>> List();
  // Records created or changed after revision `after`; `*max_revision`
  // receives the newest revision seen (unchanged if none).
  absl::StatusOr<std::vector<EnrolmentRecord>> ChangedSince(int64_t after,
                                                            int64_t* max_revision);
  // Adds `gateway_id` as pending unless it is known already.
  absl::Status RecordPending(const std::string& gateway_id, absl::Time now);
  // Creates or changes the record (approve / revoke; also before the
  // gateway ever connected).
  absl::Status SetState(const std::string& gateway_id, EnrolmentState state,
                        const std::string& detail, absl::Time now);

 private:
  explicit EnrolmentStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

// The enrolment rules with an in-memory copy of the table, so gRPC callbacks
// check a gateway without blocking. A thread re-reads the changes every
// `poll` (the `mgmt_server gateways approve|revoke` commands write the file
// from another process) and closes the session of every gateway that is no
// longer approved.
//
//   GatewayEnrolment enrolment(store, clock, absl::Seconds(1),
//                              [&](const std::string& id, absl::Status why) {
//                                registry.CloseSession(id, why);
//                              });
//   RETURN_IF_ERROR(enrolment.Start());
//   RETURN_IF_ERROR(enrolment.Check("gw-1"));  // on every gateway call
class GatewayEnrolment {
 public:
  using RevokedCallback = std::function<void(const std::string&, const absl::Status&)>;

  GatewayEnrolment(EnrolmentStore* store, const Clock* clock, absl::Duration poll,
                   RevokedCallback on_revoked);
  ~GatewayEnrolment();

  // Loads the table, then polls it on a thread of its own.
  absl::Status Start();
  void Stop();

  // Non-blocking. OK for an approved gateway; FAILED_PRECONDITION for a
  // pending or unknown one (an unknown one is recorded as pending, in the
  // background); PERMISSION_DENIED for a revoked one. The message says what
  // the operator has to do.
  absl::Status Check(const std::string& gateway_id);

  // Reads the changes now (tests; the thread does it every `poll`).
  absl::Status PollOnce();

 private:
  void Loop();

  EnrolmentStore* const store_;
  const Clock* const clock_;
  const absl::Duration poll_;
  RevokedCallback on_revoked_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, EnrolmentState> states_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  // Unknown gateways to record as pending (bounded).
  std::deque<std::string> to_record_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // A refused gateway asks for a re-read now: an approval made a moment ago
  // is seen at its next attempt.
  bool poll_now_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// How the management server authenticates gateway calls: with TLS the
// gateway's identity is its certificate's relay-gateway://<id> and it must be
// approved; with --insecure (tls false) the ids requests carry are believed.
struct GatewayAuth {
  bool tls = false;
  GatewayEnrolment* enrolment = nullptr;

  // OK if the caller of `context` may act as gateway `gateway_id`:
  // UNAUTHENTICATED without a gateway certificate, PERMISSION_DENIED
  // "certificate says gw-a, request says gw-b" or revoked,
  // FAILED_PRECONDITION pending. Logs each refusal.
  absl::Status Check(const grpc::ServerContextBase& context, const std::string& gateway_id,
                     const char* call) const;
};

// `mgmt_server gateways list|approve ID|revoke ID --db=FILE`. Returns the
// process exit code; prints to stdout/stderr.
int RunGatewaysCommand(const std::vector<std::string>& args, const std::string& db_path);

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_GATEWAY_ENROLMENT_H_
