#ifndef RELAY_CLOUD_SERVER_CLOUD_STORE_H_
#define RELAY_CLOUD_SERVER_CLOUD_STORE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/durability.h"
#include "relay/v1/cloud.pb.h"
#include "relay/v1/common.pb.h"

namespace relay::cloud {

// A document a user uploaded. The bytes live in the blob named `blob_name`
// (see BlobStore); the row is written only once the blob is durable.
struct StoredDocument {
  std::string user_id;
  relay::v1::Document document;
  std::string blob_name;
};

// A scan stored for a user, with its blob.
struct StoredScan {
  std::string user_id;
  relay::v1::Scan scan;
  std::string blob_name;
};

// The cloud's copy of one gateway's device list.
struct GatewayMirror {
  relay::v1::DeviceList device_list;
  // The gateway was last seen with a session at the management server.
  bool online = false;
  absl::Time last_update;
};

// A change to a job. Every change appends one event to the job's history
// (its `detail` and the job's state after the change).
struct JobUpdate {
  // New state; UNSPECIFIED keeps the current one.
  relay::v1::JobState state = relay::v1::JOB_STATE_UNSPECIFIED;
  // New reason (replaces the current one; "" clears it); unset keeps it.
  std::optional<std::string> reason;
  // New gateway id; empty keeps the current one.
  std::string gateway_id;
  // Text of the history event.
  std::string detail;
  // If not empty, the update applies only when the job is in one of these
  // states; otherwise FAILED_PRECONDITION.
  std::vector<relay::v1::JobState> only_from;
  absl::Time time;
  // kProcessCrashSafe for steps the dispatcher redoes if they are lost
  // (dispatched, tunnel opened, waiting): they sit on the push-to-print path.
  Durability durability = Durability::kFlushed;
};

// True for DONE and FAILED: a job in these states never changes again.
bool IsFinalJobState(relay::v1::JobState state);

// Durable state of the cloud server: documents, jobs (with their history),
// scans, the device mirror and the used tunnel-token nonces. Implementations
// are thread-safe; every method may block on disk I/O, so callers on gRPC
// callback threads hand the calls to an executor.
class CloudStore {
 public:
  virtual ~CloudStore() = default;

  // --- Documents -----------------------------------------------------------
  // ALREADY_EXISTS if the document id is taken.
  virtual absl::Status InsertDocument(const StoredDocument& document) = 0;
  // NOT_FOUND unless the document exists and belongs to `user_id`.
  virtual absl::StatusOr<StoredDocument> GetDocument(
      const std::string& user_id, const std::string& document_id) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<StoredDocument>> ListDocuments(
      const std::string& user_id) = 0;

  // --- Jobs ----------------------------------------------------------------
  // Stores `job` (with its first history event) unless `client_request_id`
  // is not empty and `job.user_id()` already used it: then returns the
  // existing job. `second` is true if the job was created.
  virtual absl::StatusOr<std::pair<relay::v1::Job, bool>> CreateJob(
      const relay::v1::Job& job, const std::string& client_request_id) = 0;
  // Any user's job (callers check ownership). NOT_FOUND if unknown.
  virtual absl::StatusOr<relay::v1::Job> GetJob(const std::string& job_id) = 0;
  // The user's jobs, oldest first.
  virtual absl::StatusOr<std::vector<relay::v1::Job>> ListJobs(
      const std::string& user_id) = 0;
  // Jobs neither DONE nor FAILED, oldest first (resumed at start-up).
  virtual absl::StatusOr<std::vector<relay::v1::Job>> ListUnfinishedJobs() = 0;
  // Applies `update` atomically and returns the job after it. A job in a
  // final state is never changed (FAILED_PRECONDITION).
  virtual absl::StatusOr<relay::v1::Job> UpdateJob(const std::string& job_id,
                                                   const JobUpdate& update) = 0;

  // --- Scans ---------------------------------------------------------------
  // ALREADY_EXISTS if the scan id is stored already (whoever owns it).
  virtual absl::Status InsertScan(const StoredScan& scan) = 0;
  // Any user's scan by id; NOT_FOUND if unknown.
  virtual absl::StatusOr<StoredScan> FindScan(const std::string& scan_id) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<StoredScan>> ListScans(
      const std::string& user_id) = 0;

  // --- Device mirror -------------------------------------------------------
  // Keeps `list` if its version is not older than the stored one; returns
  // whether it was kept. Either way the gateway is marked online at `now`.
  virtual absl::StatusOr<bool> PutDeviceList(const relay::v1::DeviceList& list,
                                             absl::Time now) = 0;
  // No-op for a gateway that never sent a device list.
  virtual absl::Status SetGatewayOnline(const std::string& gateway_id,
                                        bool online, absl::Time now) = 0;
  // Ordered by gateway id.
  virtual absl::StatusOr<std::vector<GatewayMirror>> ListGateways() = 0;

  // --- Tunnel tokens -------------------------------------------------------
  // Records a token nonce as used. ALREADY_EXISTS if it was used before.
  // Nonces whose tokens expired before `now` are forgotten. Kept safe from a
  // crash of the process, not flushed to disk (it is on the tunnel-open path):
  // after a power failure a token used in the last moments could be presented
  // once more, by the gateway it is bound to, for the job it names, until it
  // expires; the device deduplicates by job id.
  virtual absl::Status ConsumeTokenNonce(const std::string& nonce,
                                         absl::Time expires,
                                         absl::Time now) = 0;

  // --- Blobs ---------------------------------------------------------------
  // Every blob name a document or scan row refers to.
  virtual absl::StatusOr<std::vector<std::string>> ListBlobNames() = 0;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_CLOUD_STORE_H_
