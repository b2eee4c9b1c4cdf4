#include "mgmt_server/session_reactor.h"

#include <utility>

#include "absl/time/time.h"
#include "common/logging.h"
#include "common/status_util.h"

namespace relay::mgmt {

SessionReactor::SessionReactor(const SessionDeps& deps,
                               const relay::v1::OpenSessionRequest& request)
    : deps_(deps), info_(std::make_shared<Info>()) {
  info_->gateway_id = request.gateway_id();
  LogInfo("event=session_open gateway=%s lan=%s version=%s", request.gateway_id(),
          request.lan_id(), request.software_version());
  uint64_t serial = deps_.registry->Register(request.gateway_id(), this);
  // The epoch is persisted before the welcome goes out. The task finds the
  // session through the registry by serial, since by then the reactor may be
  // gone (cancelled) or replaced.
  deps_.store_executor->Post([deps = deps_, info = info_, request, serial] {
    absl::StatusOr<int64_t> epoch = deps.manager->BeginSession(request);
    if (!epoch.ok()) {
      LogError("event=session_refused gateway=%s reason=\"%s\"", info->gateway_id,
               epoch.status().ToString());
      deps.registry->WithSession(info->gateway_id, serial, [&](SessionHandle& session) {
        session.Close(epoch.status());
      });
      return;
    }
    info->epoch = *epoch;
    relay::v1::SessionWelcome welcome;
    welcome.set_session_epoch(*epoch);
    welcome.set_server_time_unix(absl::ToUnixSeconds(deps.clock->Now()));
    bool current = deps.registry->WithSession(
        info->gateway_id, serial,
        [&](SessionHandle& session) { session.Start(welcome); });
    if (current) {
      LogInfo("event=session_welcome gateway=%s epoch=%d", info->gateway_id, *epoch);
      if (deps.refresher != nullptr) deps.refresher->OnSessionStarted(info->gateway_id);
    }
  });
}

void SessionReactor::Start(const relay::v1::SessionWelcome& welcome) {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    if (closing_ || started_) return;
    relay::v1::SessionEvent event;
    *event.mutable_welcome() = welcome;
    queue_.push_front(std::move(event));
    started_ = true;
    step = NextStepLocked();
  }
  Perform(step);
}

absl::Status SessionReactor::Send(relay::v1::SessionEvent event) {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      return absl::UnavailableError(
          absl::StrCat("session of gateway ", info_->gateway_id, " is closing"));
    }
    if (queue_.size() >= deps_.max_queued_events) {
      return absl::ResourceExhaustedError(absl::StrCat("gateway ", info_->gateway_id,
                                                       " has ", queue_.size(),
                                                       " undelivered session events"));
    }
    queue_.push_back(std::move(event));
    step = NextStepLocked();
  }
  Perform(step);
  return absl::OkStatus();
}

std::deque<relay::v1::SessionEvent> SessionReactor::Close(const absl::Status& status) {
  std::deque<relay::v1::SessionEvent> pending;
  Step step;
  {
    absl::MutexLock lock(&mu_);
    if (closing_) return pending;
    closing_ = true;
    finish_status_ = status;
    pending.swap(queue_);
    // A welcome not yet written belongs to this session only.
    if (!pending.empty() && pending.front().has_welcome()) pending.pop_front();
    step = NextStepLocked();
  }
  Perform(step);
  return pending;
}

SessionReactor::Step SessionReactor::NextStepLocked() {
  if (writing_ || finished_) return Step::kNone;
  if (closing_) {
    finished_ = true;
    return Step::kFinish;
  }
  if (!started_ || queue_.empty()) return Step::kNone;
  current_ = std::move(queue_.front());
  queue_.pop_front();
  writing_ = true;
  return Step::kWrite;
}

void SessionReactor::Perform(Step step) {
  switch (step) {
    case Step::kNone:
      return;
    case Step::kWrite:
      StartWrite(&current_);
      return;
    case Step::kFinish: {
      grpc::Status status;
      {
        absl::MutexLock lock(&mu_);
        status = ToGrpcStatus(finish_status_);
      }
      Finish(status);
      return;
    }
  }
}

void SessionReactor::OnWriteDone(bool ok) {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok && !closing_) {
      // The stream is broken (the gateway went away); OnCancel may follow.
      closing_ = true;
      finish_status_ = absl::UnavailableError("session stream broken");
    }
    step = NextStepLocked();
  }
  Perform(step);
}

void SessionReactor::OnCancel() { Close(absl::CancelledError("session cancelled")); }

void SessionReactor::OnDone() {
  deps_.registry->Unregister(info_->gateway_id, this);
  deps_.store_executor->Post([manager = deps_.manager, info = info_] {
    manager->EndSession(info->gateway_id, info->epoch);
  });
  size_t dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped = queue_.size();
  }
  LogInfo("event=session_closed gateway=%s dropped_events=%d", info_->gateway_id,
          static_cast<int>(dropped));
  delete this;
}

}  // namespace relay::mgmt
