#include "cloud_server/job_manager.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"

namespace relay::cloud {
namespace {

using relay::v1::Job;
using relay::v1::JobState;

constexpr size_t kMaxIdLength = 128;

}  // namespace

std::string JobStateName(JobState state) {
  return std::string(
      absl::StripPrefix(relay::v1::JobState_Name(state), "JOB_STATE_"));
}

JobManager::JobManager(CloudStore* store, BlobStore* blobs, DeviceMirror* mirror,
                       JobNotifier* notifier, const Clock* clock)
    : store_(store),
      blobs_(blobs),
      mirror_(mirror),
      notifier_(notifier),
      clock_(clock) {}

void JobManager::SetQueuedListener(std::function<void(const std::string&)> listener) {
  queued_listener_ = std::move(listener);
}

absl::StatusOr<Job> JobManager::Update(const std::string& job_id, JobUpdate update,
                                       absl::string_view event) {
  update.time = clock_->Now();
  ASSIGN_OR_RETURN(Job job, store_->UpdateJob(job_id, update));
  LogInfo("event=%s job=%s gateway=%s device=%s state=%s detail=\"%s\"", event,
          job.job_id(), job.gateway_id(), job.device_id(), JobStateName(job.state()),
          update.detail);
  notifier_->Publish(job);
  return job;
}

// --- The user's API ----------------------------------------------------------

absl::StatusOr<Job> JobManager::SubmitPrint(const std::string& user_id,
                                            const std::string& document_id,
                                            const std::string& device_id,
                                            const std::string& client_request_id) {
  if (document_id.empty()) return absl::InvalidArgumentError("document_id is required");
  if (device_id.empty()) return absl::InvalidArgumentError("device_id is required");
  if (client_request_id.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("client_request_id is longer than ", kMaxIdLength, " characters"));
  }
  ASSIGN_OR_RETURN(StoredDocument document, store_->GetDocument(user_id, document_id));
  ASSIGN_OR_RETURN(DeviceLocation location, mirror_->Locate(device_id, user_id));
  if (location.device.has_capabilities() && !location.device.capabilities().print()) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device_id, " cannot print"));
  }
  absl::Time now = clock_->Now();
  Job job;
  job.set_job_id(absl::StrCat("job-", RandomHex(8)));
  job.set_user_id(user_id);
  job.set_document_id(document_id);
  job.set_document_name(document.document.name());
  job.set_device_id(device_id);
  job.set_gateway_id(location.gateway_id);
  job.set_state(relay::v1::JOB_STATE_QUEUED);
  job.set_created_unix(absl::ToUnixSeconds(now));
  job.set_updated_unix(absl::ToUnixSeconds(now));
  relay::v1::JobEvent* event = job.add_history();
  event->set_time_unix_ms(absl::ToUnixMillis(now));
  event->set_state(relay::v1::JOB_STATE_QUEUED);
  event->set_detail(absl::StrCat("submitted by ", user_id, ": print ",
                                 document.document.name(), " on ", device_id,
                                 " via gateway ", location.gateway_id));
  ASSIGN_OR_RETURN(auto created, store_->CreateJob(job, client_request_id));
  if (!created.second) {
    const Job& existing = created.first;
    if (existing.document_id() != document_id || existing.device_id() != device_id) {
      return absl::AlreadyExistsError(absl::StrCat(
          "client_request_id ", client_request_id, " was already used for job ",
          existing.job_id(), " (document ", existing.document_id(), " on ",
          existing.device_id(), ")"));
    }
    LogInfo("event=job_submit_repeated job=%s gateway=%s device=%s "
            "client_request_id=%s",
            existing.job_id(), existing.gateway_id(), existing.device_id(),
            client_request_id);
    return existing;
  }
  LogInfo("event=job_submitted job=%s gateway=%s device=%s user=%s document=%s "
          "size=%d",
          job.job_id(), job.gateway_id(), job.device_id(), user_id, document_id,
          document.document.size());
  notifier_->Publish(job);
  if (queued_listener_) queued_listener_(job.job_id());
  return job;
}

absl::StatusOr<Job> JobManager::GetJob(const std::string& user_id,
                                       const std::string& job_id) {
  if (job_id.empty()) return absl::InvalidArgumentError("job_id is required");
  absl::StatusOr<Job> job = store_->GetJob(job_id);
  // Another user's job is reported exactly like a missing one: ids leak nothing.
  if ((job.ok() && job->user_id() != user_id) ||
      job.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  return job;
}

absl::StatusOr<std::vector<Job>> JobManager::ListJobs(const std::string& user_id) {
  return store_->ListJobs(user_id);
}

// --- Progress ----------------------------------------------------------------

absl::Status JobManager::ApplyProgress(const relay::v1::JobProgress& progress) {
  if (progress.job_id().empty()) {
    return absl::InvalidArgumentError("job progress has no job_id");
  }
  if (progress.state() == relay::v1::JOB_STATE_UNSPECIFIED ||
      !relay::v1::JobState_IsValid(progress.state())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job progress for job ", progress.job_id(), " has no valid state"));
  }
  ASSIGN_OR_RETURN(Job job, store_->GetJob(progress.job_id()));
  if (!progress.device_id().empty() && progress.device_id() != job.device_id()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job progress names device ", progress.device_id(), " but job ", job.job_id(),
        " is for device ", job.device_id()));
  }
  if (IsFinalJobState(job.state())) {
    LogInfo("event=progress_ignored job=%s gateway=%s device=%s state=%s "
            "reason=job_already_%s",
            job.job_id(), progress.gateway_id(), job.device_id(),
            JobStateName(progress.state()), JobStateName(job.state()));
    return absl::OkStatus();
  }
  if (progress.state() == job.state() && progress.reason() == job.reason() &&
      progress.registration_change().empty()) {
    return absl::OkStatus();  // Nothing new: keep the history short.
  }
  JobUpdate update;
  update.state = progress.state();
  update.reason = progress.reason();
  update.gateway_id = progress.gateway_id();
  // In-flight news (PRINTING) is redone if lost; outcomes are flushed.
  if (progress.state() == relay::v1::JOB_STATE_PRINTING ||
      progress.state() == relay::v1::JOB_STATE_QUEUED) {
    update.durability = Durability::kProcessCrashSafe;
  }
  std::string gateway = progress.gateway_id().empty() ? job.gateway_id()
                                                      : progress.gateway_id();
  update.detail = absl::StrCat("gateway ", gateway, ": ", JobStateName(progress.state()));
  if (!progress.reason().empty()) absl::StrAppend(&update.detail, " (", progress.reason(), ")");
  if (!progress.registration_change().empty()) {
    absl::StrAppend(&update.detail, "; ", progress.registration_change());
  }
  absl::StatusOr<Job> updated = Update(job.job_id(), std::move(update), "job_progress");
  // Lost a race with the job's end: the end wins, the progress is stale.
  if (updated.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::OkStatus();
  }
  return updated.status();
}

// --- Print tunnels -----------------------------------------------------------

absl::StatusOr<PrintTicket> JobManager::OpenPrintTunnel(const TunnelClaims& claims) {
  PrintTicket ticket;
  absl::StatusOr<Job> job = store_->GetJob(claims.access_id);
  if (!job.ok()) return job.status();
  if (job->device_id() != claims.device_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "job ", job->job_id(), " is for device ", job->device_id(), ", not ",
        claims.device_id));
  }
  // Single use before anything else: a replayed token is refused whatever
  // the job's state, and touches nothing. (Each dispatch of a job carries a
  // fresh token, so an idempotent retry never needs an old one.)
  absl::Status consumed =
      store_->ConsumeTokenNonce(claims.nonce, claims.expires, clock_->Now());
  if (consumed.code() == absl::StatusCode::kAlreadyExists) {
    LogWarning("event=token_replay job=%s gateway=%s device=%s", job->job_id(),
               claims.gateway_id, claims.device_id);
    return absl::PermissionDeniedError(absl::StrCat(
        "tunnel token for job ", job->job_id(),
        " was already used; each tunnel request carries a new token"));
  }
  RETURN_IF_ERROR(consumed);
  ticket.job = *job;
  if (job->state() == relay::v1::JOB_STATE_DONE) {
    ticket.already_done = true;
    return ticket;
  }
  if (job->state() == relay::v1::JOB_STATE_FAILED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job->job_id(), " has FAILED (", job->reason(), "); it is not printed"));
  }
  {
    absl::MutexLock lock(&mu_);
    if (open_tunnels_.count(job->job_id()) != 0) {
      return absl::AbortedError(
          absl::StrCat("a tunnel for job ", job->job_id(), " is already open"));
    }
  }
  ASSIGN_OR_RETURN(ticket.document,
                   store_->GetDocument(job->user_id(), job->document_id()));
  absl::StatusOr<std::unique_ptr<BlobReader>> reader =
      blobs_->OpenReader(ticket.document.blob_name);
  if (!reader.ok()) {
    std::string reason =
        absl::StrCat("document ", job->document_id(), " cannot be read: ",
                     reader.status().message());
    Fail(job->job_id(), reason).IgnoreError();
    return absl::DataLossError(reason);
  }
  ticket.reader = std::move(reader).value();
  {
    absl::MutexLock lock(&mu_);
    if (!open_tunnels_.insert(job->job_id()).second) {
      return absl::AbortedError(
          absl::StrCat("a tunnel for job ", job->job_id(), " is already open"));
    }
  }
  JobUpdate update;
  update.state = relay::v1::JOB_STATE_PRINTING;
  update.reason = "";
  update.gateway_id = claims.gateway_id;
  update.detail = absl::StrCat("tunnel opened by gateway ", claims.gateway_id,
                               "; sending ", ticket.document.document.size(), " bytes");
  // Lost in a power failure, the job is QUEUED again and dispatched anew.
  update.durability = Durability::kProcessCrashSafe;
  absl::StatusOr<Job> updated = Update(job->job_id(), std::move(update), "tunnel_open");
  if (!updated.ok()) {
    absl::MutexLock lock(&mu_);
    open_tunnels_.erase(job->job_id());
    return updated.status();
  }
  mirror_->SetGatewayOnline(claims.gateway_id, true);
  ticket.job = *updated;
  return ticket;
}

absl::StatusOr<Job> JobManager::FinishPrintTunnel(const std::string& job_id,
                                                  const std::string& gateway_id,
                                                  const relay::v1::TunnelResult& result,
                                                  const relay::v1::Document& document) {
  JobUpdate update;
  if (result.state() == relay::v1::JOB_STATE_DONE ||
      result.state() == relay::v1::JOB_STATE_HELD) {
    if (!result.sha256_hex().empty() && result.sha256_hex() != document.sha256_hex()) {
      update.state = relay::v1::JOB_STATE_FAILED;
      update.reason = absl::StrCat("the device received bytes with sha256 ",
                                   result.sha256_hex(), ", the document has ",
                                   document.sha256_hex());
    } else if (result.bytes_delivered() != 0 &&
               result.bytes_delivered() != document.size()) {
      update.state = relay::v1::JOB_STATE_FAILED;
      update.reason = absl::StrCat("the device received ", result.bytes_delivered(),
                                   " bytes of ", document.size());
    } else if (result.state() == relay::v1::JOB_STATE_HELD) {
      // The gateway has the document and delivers it when the device can
      // execute it; it reports DONE or FAILED later through the management
      // server (JobProgress).
      update.state = relay::v1::JOB_STATE_HELD;
      update.reason = result.reason().empty() ? "the device cannot execute the job now"
                                              : result.reason();
    } else {
      update.state = relay::v1::JOB_STATE_DONE;
      update.reason = "";
    }
  } else if (result.state() == relay::v1::JOB_STATE_FAILED) {
    update.state = relay::v1::JOB_STATE_FAILED;
    update.reason = result.reason().empty() ? "the gateway reported a failure"
                                            : result.reason();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("TunnelResult state must be DONE, HELD or FAILED, not ",
                     JobStateName(result.state())));
  }
  if (update.state == relay::v1::JOB_STATE_DONE) {
    update.detail = absl::StrCat("printed by gateway ", gateway_id, " (",
                                 document.size(), " bytes delivered)");
  } else if (update.state == relay::v1::JOB_STATE_HELD) {
    update.detail = absl::StrCat("held at gateway ", gateway_id, " (", *update.reason,
                                 "); the gateway delivers it when the device can");
  } else {
    update.detail = absl::StrCat("gateway ", gateway_id, ": FAILED (", *update.reason, ")");
  }
  absl::StatusOr<Job> job = Update(job_id, std::move(update), "job_result");
  if (job.status().code() == absl::StatusCode::kFailedPrecondition) {
    return store_->GetJob(job_id);  // Ended already (e.g. forwarded progress).
  }
  return job;
}

void JobManager::ClosePrintTunnel(const std::string& job_id, bool outcome_recorded,
                                  const std::string& why) {
  {
    absl::MutexLock lock(&mu_);
    open_tunnels_.erase(job_id);
  }
  if (outcome_recorded) return;
  JobUpdate update;
  update.state = relay::v1::JOB_STATE_QUEUED;
  update.reason = absl::StrCat("tunnel closed before the gateway reported a result: ", why);
  update.detail = absl::StrCat(*update.reason, "; will retry");
  absl::StatusOr<Job> job = Update(job_id, std::move(update), "tunnel_lost");
  if (job.ok() && queued_listener_) queued_listener_(job_id);
}

bool JobManager::HasOpenTunnel(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  return open_tunnels_.count(job_id) != 0;
}

// --- The dispatcher ------------------------------------------------------------

absl::StatusOr<std::vector<Job>> JobManager::ListUnfinishedJobs() {
  return store_->ListUnfinishedJobs();
}

absl::StatusOr<Job> JobManager::LoadJob(const std::string& job_id) {
  return store_->GetJob(job_id);
}

absl::StatusOr<StoredDocument> JobManager::DocumentOf(const Job& job) {
  return store_->GetDocument(job.user_id(), job.document_id());
}

absl::Status JobManager::RecordDispatched(const std::string& job_id,
                                          const std::string& gateway_id, int attempt,
                                          const std::string& substitute) {
  ASSIGN_OR_RETURN(Job job, store_->GetJob(job_id));
  JobUpdate update;
  // A QUEUED job's reason said why it waited; it no longer does. A held job
  // keeps its reason: the gateway still holds it.
  if (job.state() == relay::v1::JOB_STATE_QUEUED) update.reason = "";
  update.gateway_id = gateway_id;
  update.detail = substitute.empty()
                      ? absl::StrCat("tunnel request sent to gateway ", gateway_id,
                                     " (attempt ", attempt, ")")
                      : absl::StrCat("gateway ", gateway_id, " is asleep: tunnel request "
                                     "sent through substitute gateway ", substitute,
                                     ", which wakes it (attempt ", attempt, ")");
  update.durability = Durability::kProcessCrashSafe;
  return Update(job_id, std::move(update), "job_dispatched").status();
}

absl::Status JobManager::RecordWaiting(const std::string& job_id,
                                       const std::string& reason) {
  ASSIGN_OR_RETURN(Job job, store_->GetJob(job_id));
  if (job.reason() == reason) return absl::OkStatus();
  JobUpdate update;
  update.reason = reason;
  update.detail = reason;
  update.durability = Durability::kProcessCrashSafe;
  return Update(job_id, std::move(update), "job_waiting").status();
}

absl::Status JobManager::Fail(const std::string& job_id, const std::string& reason) {
  JobUpdate update;
  update.state = relay::v1::JOB_STATE_FAILED;
  update.reason = reason;
  update.detail = reason;
  return Update(job_id, std::move(update), "job_failed").status();
}

}  // namespace relay::cloud
