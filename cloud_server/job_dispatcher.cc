#include "cloud_server/job_dispatcher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_util.h"

namespace relay::cloud {
namespace {

using relay::v1::Job;

// Errors after which asking again cannot help.
bool IsPermanent(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

}  // namespace

JobDispatcher::JobDispatcher(JobManager* jobs, DeviceMirror* mirror,
                             AccessRouter* router, const TunnelTokenSigner* signer,
                             const Clock* clock, DispatcherOptions options)
    : jobs_(jobs),
      mirror_(mirror),
      router_(router),
      signer_(signer),
      clock_(clock),
      options_(options) {}

JobDispatcher::~JobDispatcher() { Stop(); }

absl::Status JobDispatcher::Start() {
  RETURN_IF_ERROR(LoadUnfinishedJobs());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void JobDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  router_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

void JobDispatcher::Wake(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[job_id];
  if (entry.backoff == absl::ZeroDuration()) entry.backoff = options_.initial_backoff;
  entry.immediate = true;
  entry.due = absl::InfinitePast();
  ++entry.wake_generation;
  wake_pending_ = true;
}

absl::Status JobDispatcher::LoadUnfinishedJobs() {
  ASSIGN_OR_RETURN(std::vector<Job> jobs, jobs_->ListUnfinishedJobs());
  for (const Job& job : jobs) {
    LogInfo("event=job_resumed job=%s gateway=%s device=%s state=%s", job.job_id(),
            job.gateway_id(), job.device_id(), JobStateName(job.state()));
    Wake(job.job_id());
  }
  return absl::OkStatus();
}

int JobDispatcher::PendingJobs() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

absl::Time JobDispatcher::RunOnce() {
  absl::Time now = clock_->Now();
  std::vector<std::pair<std::string, Entry>> due;
  {
    absl::MutexLock lock(&mu_);
    wake_pending_ = false;
    for (const auto& [job_id, entry] : entries_) {
      if (entry.due <= now) due.emplace_back(job_id, entry);
    }
  }
  for (auto& [job_id, entry] : due) {
    if (stopping()) break;
    uint64_t generation = entry.wake_generation;
    bool keep = Process(job_id, entry, now);
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(job_id);
    if (it == entries_.end()) continue;
    if (it->second.wake_generation != generation) continue;  // Woken meanwhile.
    if (keep) {
      it->second = entry;
    } else {
      entries_.erase(it);
    }
  }
  absl::MutexLock lock(&mu_);
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [job_id, entry] : entries_) next = std::min(next, entry.due);
  return next;
}

bool JobDispatcher::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void JobDispatcher::Retry(Entry& entry, absl::Time now) {
  entry.immediate = true;
  entry.due = now + entry.backoff;
  entry.backoff = std::min(entry.backoff * 2, options_.max_backoff);
}

bool JobDispatcher::Process(const std::string& job_id, Entry& entry, absl::Time now) {
  absl::StatusOr<Job> job = jobs_->LoadJob(job_id);
  if (job.status().code() == absl::StatusCode::kNotFound) return false;
  if (!job.ok()) {
    LogWarning("event=dispatch_store_error job=%s error=\"%s\"", job_id,
               job.status().ToString());
    Retry(entry, now);
    return true;
  }
  if (IsFinalJobState(job->state())) return false;
  // A HELD job's document is at the gateway, which delivers it when the
  // device can and reports DONE or FAILED. It is still routed again after
  // --redispatch_after without news (and at a restart): the gateway answers
  // from its hold (HELD again, or DONE if a report was lost) without a
  // tunnel.
  if (jobs_->HasOpenTunnel(job_id)) {
    // The tunnel's end wakes the job again if it ends without an outcome.
    entry.immediate = false;
    entry.due = now + options_.redispatch_after;
    return true;
  }
  if (!entry.immediate) {
    // Routed before: wait for the tunnel as long as the gateway shows signs
    // of life (progress reports count).
    absl::Time last_activity = entry.last_dispatch;
    if (job->history_size() > 0) {
      last_activity = std::max(
          last_activity,
          absl::FromUnixMillis(job->history(job->history_size() - 1).time_unix_ms()));
    }
    if (now < last_activity + options_.redispatch_after) {
      entry.due = last_activity + options_.redispatch_after;
      return true;
    }
    LogInfo("event=job_redispatch job=%s gateway=%s device=%s reason=no_tunnel_after_%s",
            job_id, job->gateway_id(), job->device_id(),
            absl::FormatDuration(options_.redispatch_after));
  }

  // Only among the gateways the job's owner may use, at every dispatch.
  absl::StatusOr<DeviceLocation> location =
      mirror_->Locate(job->device_id(), job->user_id());
  if (!location.ok()) {
    if (location.status().code() == absl::StatusCode::kNotFound) {
      jobs_->Fail(job_id, UnknownDeviceMessage(job->device_id())).IgnoreError();
      return false;
    }
    Retry(entry, now);
    return true;
  }
  absl::StatusOr<StoredDocument> document = jobs_->DocumentOf(*job);
  if (!document.ok()) {
    jobs_->Fail(job_id, absl::StrCat("document ", job->document_id(),
                                     " is gone: ", document.status().message()))
        .IgnoreError();
    return false;
  }

  TunnelClaims claims;
  claims.direction = relay::v1::DIRECTION_PRINT;
  claims.access_id = job_id;
  claims.gateway_id = location->gateway_id;
  claims.device_id = job->device_id();
  claims.user_id = job->user_id();
  relay::v1::AccessRequest request;
  request.set_job_id(job_id);
  request.set_device_id(job->device_id());
  request.set_direction(relay::v1::DIRECTION_PRINT);
  request.set_tunnel_token(signer_->Issue(claims));
  request.set_user_id(job->user_id());
  request.set_document_name(document->document.name());
  request.set_document_size(document->document.size());
  request.set_content_type(document->document.content_type());

  ++entry.attempts;
  AccessRouter::Reply reply = router_->RequestAccess(request);
  now = clock_->Now();
  if (reply.gateway_id.ok() ||
      reply.gateway_id.status().code() == absl::StatusCode::kAlreadyExists) {
    std::string gateway = reply.gateway_id.ok() && !reply.gateway_id->empty()
                              ? *reply.gateway_id
                              : location->gateway_id;
    LogInfo("event=job_dispatched job=%s gateway=%s device=%s attempt=%d substitute=%s",
            job_id, gateway, job->device_id(), entry.attempts,
            reply.substitute_gateway_id.empty() ? "none" : reply.substitute_gateway_id);
    jobs_->RecordDispatched(job_id, gateway, entry.attempts, reply.substitute_gateway_id)
        .IgnoreError();
    mirror_->SetGatewayOnline(gateway, true);
    entry.immediate = false;
    entry.last_dispatch = now;
    entry.backoff = options_.initial_backoff;
    entry.due = now + options_.redispatch_after;
    return true;
  }
  const absl::Status& error = reply.gateway_id.status();
  if (error.code() == absl::StatusCode::kNotFound) {
    LogWarning("event=job_device_unknown job=%s gateway=%s device=%s error=\"%s\"",
               job_id, location->gateway_id, job->device_id(), error.message());
    // The management server's words say why (e.g. a refresh of the device
    // information showed the device gone).
    jobs_->Fail(job_id, error.message().empty()
                            ? UnknownDeviceMessage(job->device_id())
                            : absl::StrCat(UnknownDeviceMessage(job->device_id()), ": ",
                                           error.message()))
        .IgnoreError();
    return false;
  }
  if (IsPermanent(error.code())) {
    LogWarning("event=job_refused job=%s gateway=%s device=%s error=\"%s\"", job_id,
               location->gateway_id, job->device_id(), error.ToString());
    jobs_->Fail(job_id, absl::StrCat("the management server refused the request: ",
                                     error.message()))
        .IgnoreError();
    return false;
  }
  std::string waiting;
  if (error.code() == absl::StatusCode::kUnavailable && reply.server_answered) {
    mirror_->SetGatewayOnline(location->gateway_id, false);
    // The management server's words when it says more than "no session"
    // (e.g. the gateway sleeps and no substitute of its LAN can wake it).
    waiting = absl::StrContains(error.message(), "asleep")
                  ? absl::StrCat(error.message(), "; retrying")
                  : absl::StrCat("gateway ", location->gateway_id, " is offline; retrying");
  } else if (reply.server_answered) {
    waiting = "the management server could not route the job; retrying";
  } else {
    waiting = "the management server is unreachable; retrying";
  }
  LogInfo("event=dispatch_retry job=%s gateway=%s device=%s attempt=%d backoff=%s "
          "error=\"%s\"",
          job_id, location->gateway_id, job->device_id(), entry.attempts,
          absl::FormatDuration(entry.backoff), error.ToString());
  jobs_->RecordWaiting(job_id, waiting).IgnoreError();
  Retry(entry, now);
  return true;
}

void JobDispatcher::Loop() {
  while (true) {
    absl::Time next = RunOnce();
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || wake_pending_;
    };
    absl::Duration wait = std::min(next - clock_->Now(), absl::Hours(1));
    if (wait > absl::ZeroDuration()) {
      mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
    }
    if (stopping_) return;
  }
}

}  // namespace relay::cloud
