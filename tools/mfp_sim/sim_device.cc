#include "tools/mfp_sim/sim_device.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace relay::mfp_sim {
namespace {

std::string FaultText(relay::v1::DeviceStatus status) {
  switch (status) {
    case relay::v1::DEVICE_STATUS_PAPER_OUT:
      return "out of paper";
    case relay::v1::DEVICE_STATUS_TONER_EMPTY:
      return "out of toner";
    case relay::v1::DEVICE_STATUS_OFFLINE:
      return "offline";
    default:
      return relay::v1::DeviceStatus_Name(status);
  }
}

}  // namespace

SimDevice::SimDevice(relay::v1::DeviceInfo info, Clock* clock)
    : id_(info.device_id()), clock_(clock), info_(std::move(info)) {
  info_.set_status(relay::v1::DEVICE_STATUS_IDLE);
  // A remote print waits for the job in progress (AdmitPrint's deadline).
  info_.mutable_capabilities()->set_accepts_queued_jobs(true);
}

relay::v1::DeviceInfo SimDevice::Info() const {
  absl::MutexLock lock(&mu_);
  relay::v1::DeviceInfo info = info_;
  info.set_status(StatusLocked());
  info.set_last_seen_unix(absl::ToUnixSeconds(clock_->Now()));
  if (local_busy_) info.mutable_capabilities()->set_accepts_queued_jobs(false);
  relay::v1::DeviceCounters* counters = info.mutable_counters();
  int64_t bytes = 0;
  for (const auto& job : printed_) bytes += job.size();
  counters->set_jobs_printed(static_cast<int64_t>(printed_.size()));
  counters->set_bytes_printed(bytes);
  counters->set_scans_sent(scans_sent_);
  return info;
}

void SimDevice::SetAddress(const std::string& address) {
  absl::MutexLock lock(&mu_);
  info_.set_address(address);
}

relay::v1::DeviceStatus SimDevice::StatusLocked() const {
  if (current_job_.has_value() || local_busy_) return relay::v1::DEVICE_STATUS_BUSY;
  return fault_;
}

absl::Status SimDevice::AcquireLocked(JobKind kind, const std::string& job_id,
                                      absl::Time deadline) {
  if (fault_ != relay::v1::DEVICE_STATUS_IDLE) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", id_, " is ", FaultText(fault_)));
  }
  if (local_busy_) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", id_, " is busy with a local job"));
  }
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !current_job_.has_value();
  };
  if (!free() && deadline > absl::Now()) {
    mu_.AwaitWithDeadline(absl::Condition(&free), deadline);
  }
  if (!free()) {
    return absl::UnavailableError(
        absl::StrCat("device ", id_, " is busy with job ", *current_job_));
  }
  current_job_ = job_id;
  current_kind_ = kind;
  return absl::OkStatus();
}

absl::StatusOr<PrintAdmission> SimDevice::AdmitPrint(const std::string& job_id,
                                                     absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  PrintAdmission admission;
  auto earlier = printed_index_.find(job_id);
  if (earlier != printed_index_.end()) {
    admission.duplicate = true;
    admission.earlier = printed_[earlier->second];
    return admission;
  }
  if (current_job_ == job_id) {
    // The same job is being received right now (a retry racing the first
    // attempt): wait for the first to end, then decide.
    auto ended = [this, &job_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return current_job_ != job_id;
    };
    if (deadline > absl::Now()) mu_.AwaitWithDeadline(absl::Condition(&ended), deadline);
    earlier = printed_index_.find(job_id);
    if (earlier != printed_index_.end()) {
      admission.duplicate = true;
      admission.earlier = printed_[earlier->second];
      return admission;
    }
  }
  absl::Status acquired = AcquireLocked(JobKind::kPrint, job_id, deadline);
  if (!acquired.ok()) return acquired;
  // Printed while this call waited for the device.
  earlier = printed_index_.find(job_id);
  if (earlier != printed_index_.end()) {
    current_job_.reset();
    admission.duplicate = true;
    admission.earlier = printed_[earlier->second];
  }
  return admission;
}

absl::Status SimDevice::BeginScan(const std::string& scan_id, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  absl::Status acquired = AcquireLocked(JobKind::kScan, scan_id, deadline);
  if (acquired.ok()) ++scans_sent_;
  return acquired;
}

void SimDevice::RecordPrinted(relay::v1::PrintedJob job) {
  absl::MutexLock lock(&mu_);
  if (printed_index_.contains(job.job_id())) return;
  printed_index_[job.job_id()] = printed_.size();
  printed_.push_back(std::move(job));
}

void SimDevice::FinishPrinted(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = printed_index_.find(job_id);
  if (it == printed_index_.end()) return;
  printed_[it->second].set_finished_unix_ms(absl::ToUnixMillis(clock_->Now()));
}

void SimDevice::EndJob() {
  absl::MutexLock lock(&mu_);
  current_job_.reset();
}

std::optional<std::string> SimDevice::CurrentJob() const {
  absl::MutexLock lock(&mu_);
  return current_job_;
}

std::vector<relay::v1::PrintedJob> SimDevice::Printed() const {
  absl::MutexLock lock(&mu_);
  return printed_;
}

void SimDevice::SetFault(relay::v1::DeviceStatus status) {
  absl::MutexLock lock(&mu_);
  local_busy_ = status == relay::v1::DEVICE_STATUS_BUSY;
  fault_ =
      status == relay::v1::DEVICE_STATUS_BUSY ? relay::v1::DEVICE_STATUS_IDLE : status;
  if (fault_ == relay::v1::DEVICE_STATUS_UNSPECIFIED)
    fault_ = relay::v1::DEVICE_STATUS_IDLE;
}

relay::v1::BoxDocument SimDevice::PutBoxDocument(const std::string& box_id,
                                                 const std::string& name,
                                                 const std::string& content_type,
                                                 std::string content) {
  absl::MutexLock lock(&mu_);
  BoxEntry entry;
  entry.document.set_document_id(absl::StrCat("bdoc-", next_box_document_++));
  entry.document.set_name(name.empty() ? entry.document.document_id() : name);
  entry.document.set_size(static_cast<int64_t>(content.size()));
  entry.document.set_sha256_hex(Sha256::HexOf(content));
  entry.document.set_created_unix(absl::ToUnixSeconds(clock_->Now()));
  entry.document.set_content_type(content_type.empty() ? "application/octet-stream"
                                                       : content_type);
  entry.content = std::move(content);
  relay::v1::BoxDocument document = entry.document;
  boxes_[box_id][document.document_id()] = std::move(entry);
  return document;
}

absl::StatusOr<relay::v1::BoxResult> SimDevice::AccessBox(
    const relay::v1::BoxRequest& request) {
  absl::MutexLock lock(&mu_);
  box_accesses_.push_back(request);
  auto box = boxes_.find(request.box_id());
  if (box == boxes_.end()) {
    return absl::NotFoundError(
        absl::StrCat("device ", id_, " has no box \"", request.box_id(), "\""));
  }
  relay::v1::BoxResult result;
  result.set_permitted(true);
  if (request.operation() == relay::v1::BOX_OPERATION_LIST) {
    for (const auto& [doc_id, entry] : box->second) *result.add_documents() = entry.document;
    return result;
  }
  auto doc = box->second.find(request.document_id());
  if (doc == box->second.end()) {
    return absl::NotFoundError(absl::StrCat("box ", request.box_id(), " of device ", id_,
                                            " has no document \"", request.document_id(),
                                            "\""));
  }
  *result.mutable_document() = doc->second.document;
  switch (request.operation()) {
    case relay::v1::BOX_OPERATION_READ:
      result.set_content(doc->second.content);
      return result;
    case relay::v1::BOX_OPERATION_DELETE:
      box->second.erase(doc);
      return result;
    default:
      return absl::InvalidArgumentError("unknown box operation");
  }
}

std::vector<relay::v1::BoxRequest> SimDevice::BoxAccesses() const {
  absl::MutexLock lock(&mu_);
  return box_accesses_;
}

}  // namespace relay::mfp_sim
