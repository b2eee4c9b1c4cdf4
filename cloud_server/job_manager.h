#ifndef RELAY_CLOUD_SERVER_JOB_MANAGER_H_
#define RELAY_CLOUD_SERVER_JOB_MANAGER_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cloud_server/blob_store.h"
#include "cloud_server/cloud_store.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_notifier.h"
#include "cloud_server/tunnel_token.h"
#include "common/clock.h"
#include "relay/v1/cloud.pb.h"

namespace relay::cloud {

// What a print tunnel needs once its job was accepted.
struct PrintTicket {
  relay::v1::Job job;
  StoredDocument document;
  // The job is DONE already: the tunnel tells the gateway not to print again.
  bool already_done = false;
  // Open on the document's blob (null when already_done).
  std::unique_ptr<BlobReader> reader;
};

// The rules of print jobs: submission (idempotent per client_request_id),
// ownership, the state machine fed by tunnels and by progress the management
// server forwards, and the bookkeeping of the dispatcher. Every change is
// stored, logged (job=, gateway=, device=) and published to the notifier.
// Methods block on the store: call them from an executor, never from a gRPC
// callback.
class JobManager {
 public:
  JobManager(CloudStore* store, BlobStore* blobs, DeviceMirror* mirror,
             JobNotifier* notifier, const Clock* clock);

  // Called with the job id whenever a job (re)enters QUEUED and should be
  // dispatched now. Set once, before use.
  void SetQueuedListener(std::function<void(const std::string&)> listener);

  // --- The user's API ------------------------------------------------------
  // NOT_FOUND if the document is not the user's or the device is unknown;
  // ALREADY_EXISTS if client_request_id was used for another request.
  absl::StatusOr<relay::v1::Job> SubmitPrint(const std::string& user_id,
                                             const std::string& document_id,
                                             const std::string& device_id,
                                             const std::string& client_request_id);
  // Another user's job is NOT_FOUND, like a job that does not exist.
  absl::StatusOr<relay::v1::Job> GetJob(const std::string& user_id,
                                        const std::string& job_id);
  absl::StatusOr<std::vector<relay::v1::Job>> ListJobs(const std::string& user_id);

  // --- Progress from gateways ----------------------------------------------
  // Progress for a job already DONE or FAILED is ignored (OK).
  absl::Status ApplyProgress(const relay::v1::JobProgress& progress);

  // --- Print tunnels -------------------------------------------------------
  // `claims` were verified by the caller. Consumes the token's nonce, checks
  // the job's state and marks it PRINTING. A job already DONE yields
  // already_done. The nonce is consumed first, whatever the job's state: a
  // replayed token is PERMISSION_DENIED and changes nothing.
  absl::StatusOr<PrintTicket> OpenPrintTunnel(const TunnelClaims& claims);
  // The gateway's outcome. `result.state` must be DONE, FAILED or HELD (the
  // gateway holds the received document until the device can execute it).
  absl::StatusOr<relay::v1::Job> FinishPrintTunnel(
      const std::string& job_id, const std::string& gateway_id,
      const relay::v1::TunnelResult& result, const relay::v1::Document& document);
  // The tunnel of an OpenPrintTunnel() that succeeded (and was not
  // already_done) ended. Without a recorded outcome the job goes back to
  // QUEUED and is dispatched again.
  void ClosePrintTunnel(const std::string& job_id, bool outcome_recorded,
                        const std::string& why);
  bool HasOpenTunnel(const std::string& job_id);

  // --- The dispatcher ------------------------------------------------------
  absl::StatusOr<std::vector<relay::v1::Job>> ListUnfinishedJobs();
  absl::StatusOr<relay::v1::Job> LoadJob(const std::string& job_id);
  absl::StatusOr<StoredDocument> DocumentOf(const relay::v1::Job& job);
  // `substitute`: the gateway was asleep and the request went through this
  // other gateway of its LAN (related design 1).
  absl::Status RecordDispatched(const std::string& job_id,
                                const std::string& gateway_id, int attempt,
                                const std::string& substitute = "");
  // Records why the job waits (once per distinct reason, not every retry).
  absl::Status RecordWaiting(const std::string& job_id, const std::string& reason);
  absl::Status Fail(const std::string& job_id, const std::string& reason);

 private:
  absl::StatusOr<relay::v1::Job> Update(const std::string& job_id, JobUpdate update,
                                        absl::string_view event);

  CloudStore* store_;
  BlobStore* blobs_;
  DeviceMirror* mirror_;
  JobNotifier* notifier_;
  const Clock* clock_;
  std::function<void(const std::string&)> queued_listener_;

  absl::Mutex mu_;
  std::set<std::string> open_tunnels_ ABSL_GUARDED_BY(mu_);
};

// "WAITING_FOR_SLOT" for JOB_STATE_WAITING_FOR_SLOT.
std::string JobStateName(relay::v1::JobState state);

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_JOB_MANAGER_H_
