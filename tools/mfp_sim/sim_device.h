#ifndef RELAY_TOOLS_MFP_SIM_SIM_DEVICE_H_
#define RELAY_TOOLS_MFP_SIM_SIM_DEVICE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "relay/v1/common.pb.h"
#include "relay/v1/lan.pb.h"

namespace relay::mfp_sim {

// What a device is doing while busy.
enum class JobKind { kPrint, kScan };

// Outcome of SimDevice::AdmitPrint.
struct PrintAdmission {
  // The job id was printed before: nothing is to be printed; `earlier`
  // describes the first print. The device did not become busy.
  bool duplicate = false;
  relay::v1::PrintedJob earlier;
};

// One simulated MFP: identity, capabilities, status, the job in progress and
// the jobs it printed. Pure logic (no sockets, no files); thread-safe. A
// device runs one job (print or scan) at a time and is BUSY meanwhile; a job
// id is printed at most once.
//
//   SimDevice device(info, SystemClock::Get());
//   ASSIGN_OR_RETURN(PrintAdmission admission, device.AdmitPrint("job-1", deadline));
//   if (!admission.duplicate) {
//     ... receive and print ...
//     device.RecordPrinted(job);   // dedup from here on
//     device.FinishPrinted("job-1");
//     device.EndJob();
//   }
class SimDevice {
 public:
  // `info.status` is ignored: a new device is IDLE.
  SimDevice(relay::v1::DeviceInfo info, Clock* clock);
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;

  const std::string& id() const { return id_; }

  // Identity, capabilities and current status.
  relay::v1::DeviceInfo Info() const;
  void SetAddress(const std::string& address);

  // Admits a print of `job_id`. A job id printed before (or printing now)
  // answers duplicate=true at once. Otherwise waits until the device is free
  // (up to `deadline`; absl::InfinitePast() means do not wait), then makes it
  // BUSY with this job. UNAVAILABLE if still busy at the deadline,
  // FAILED_PRECONDITION if the device is in a fault state (paper out...).
  absl::StatusOr<PrintAdmission> AdmitPrint(const std::string& job_id,
                                            absl::Time deadline);

  // Makes the device BUSY scanning; same waiting and errors as AdmitPrint.
  absl::Status BeginScan(const std::string& scan_id, absl::Time deadline);

  // The current print job's data arrived completely: from now on its job id
  // is a duplicate. `job.finished_unix_ms` is set by FinishPrinted.
  void RecordPrinted(relay::v1::PrintedJob job);
  // The printed job came out of the printer.
  void FinishPrinted(const std::string& job_id);

  // Ends the current job (printed, scanned or aborted): IDLE again.
  void EndJob();

  // The id of the job in progress, if any.
  std::optional<std::string> CurrentJob() const;

  // Every job printed, oldest first.
  std::vector<relay::v1::PrintedJob> Printed() const;

  // Simulates a fault (PAPER_OUT, TONER_EMPTY, OFFLINE) or clears it (IDLE).
  // A fault does not interrupt a job in progress. BUSY starts a local job (a
  // copy at the panel) that remote jobs cannot queue behind: the device
  // reports BUSY without accepts_queued_jobs and refuses prints until IDLE.
  void SetFault(relay::v1::DeviceStatus status);

  // --- Storage boxes (related design 4) ---------------------------------
  // Stores a document in `box_id` (created on first use); returns it with
  // its id, size and sha256.
  relay::v1::BoxDocument PutBoxDocument(const std::string& box_id, const std::string& name,
                                        const std::string& content_type,
                                        std::string content);
  // Serves a box request (list, read, delete) and records that it reached
  // the device. NOT_FOUND for an unknown box or document.
  absl::StatusOr<relay::v1::BoxResult> AccessBox(const relay::v1::BoxRequest& request);
  // Every box request that reached the device, oldest first.
  std::vector<relay::v1::BoxRequest> BoxAccesses() const;

 private:
  absl::Status AcquireLocked(JobKind kind, const std::string& job_id, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  relay::v1::DeviceStatus StatusLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string id_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  relay::v1::DeviceInfo info_ ABSL_GUARDED_BY(mu_);
  relay::v1::DeviceStatus fault_ ABSL_GUARDED_BY(mu_) = relay::v1::DEVICE_STATUS_IDLE;
  std::optional<std::string> current_job_ ABSL_GUARDED_BY(mu_);
  JobKind current_kind_ ABSL_GUARDED_BY(mu_) = JobKind::kPrint;
  std::vector<relay::v1::PrintedJob> printed_ ABSL_GUARDED_BY(mu_);
  bool local_busy_ ABSL_GUARDED_BY(mu_) = false;
  int64_t scans_sent_ ABSL_GUARDED_BY(mu_) = 0;
  struct BoxEntry {
    relay::v1::BoxDocument document;
    std::string content;
  };
  // box id -> document id -> document.
  std::map<std::string, std::map<std::string, BoxEntry>> boxes_ ABSL_GUARDED_BY(mu_);
  int64_t next_box_document_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<relay::v1::BoxRequest> box_accesses_ ABSL_GUARDED_BY(mu_);
  // job id -> index in printed_.
  absl::flat_hash_map<std::string, size_t> printed_index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_SIM_DEVICE_H_
