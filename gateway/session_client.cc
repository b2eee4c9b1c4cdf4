#include "gateway/session_client.h"

#include <algorithm>
#include <utility>

#include "absl/synchronization/notification.h"
#include "common/logging.h"
#include "grpcpp/client_context.h"

namespace relay::gateway {

// One OpenSession call, shared by the supervisor and the reactor so the
// context and the outcome outlive whichever of the two finishes first.
struct SessionClient::Attempt {
  grpc::ClientContext context;
  relay::v1::OpenSessionRequest request;
  absl::Notification done;
  grpc::Status status;  // written before `done` is notified
  bool welcomed = false;  // only touched on the reactor's callbacks, then read after done
};

class SessionClient::Reactor : public grpc::ClientReadReactor<relay::v1::SessionEvent> {
 public:
  Reactor(SessionClient* owner, std::shared_ptr<Attempt> attempt)
      : owner_(owner), attempt_(std::move(attempt)) {}

  void Start() {
    owner_->stub_->async()->OpenSession(&attempt_->context, &attempt_->request, this);
    StartRead(&event_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows with the status
    if (event_.has_welcome()) {
      attempt_->welcomed = true;
      owner_->OnWelcome(event_.welcome());
    } else {
      owner_->OnEvent(event_);
    }
    event_.Clear();
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<Attempt> attempt = std::move(attempt_);
    attempt->status = status;
    delete this;
    attempt->done.Notify();
  }

 private:
  SessionClient* const owner_;
  std::shared_ptr<Attempt> attempt_;
  relay::v1::SessionEvent event_;
};

SessionClient::SessionClient(std::shared_ptr<grpc::Channel> channel, Options options,
                             Handlers handlers, std::function<double()> uniform01)
    : stub_(relay::v1::GatewaySession::NewStub(channel)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      uniform01_(std::move(uniform01)) {}

SessionClient::~SessionClient() { Shutdown(); }

void SessionClient::Start() { supervisor_ = std::thread([this] { Supervise(); }); }

void SessionClient::Shutdown() {
  std::shared_ptr<Attempt> attempt;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    attempt = current_;
  }
  if (attempt != nullptr) attempt->context.TryCancel();
  if (supervisor_.joinable()) supervisor_.join();
}

void SessionClient::Pause() {
  std::shared_ptr<Attempt> attempt;
  {
    absl::MutexLock lock(&mu_);
    paused_ = true;
    attempt = current_;
  }
  if (attempt != nullptr) attempt->context.TryCancel();
}

void SessionClient::Resume() {
  absl::MutexLock lock(&mu_);
  paused_ = false;
}

bool SessionClient::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

int64_t SessionClient::sessions_started() const {
  absl::MutexLock lock(&mu_);
  return sessions_started_;
}

void SessionClient::OnWelcome(const relay::v1::SessionWelcome& welcome) {
  {
    absl::MutexLock lock(&mu_);
    connected_ = true;
    ++sessions_started_;
  }
  LogInfo("event=session_open gateway=%s lan=%s epoch=%d", options_.gateway_id,
          options_.lan_id, welcome.session_epoch());
  if (handlers_.on_session_started) handlers_.on_session_started(welcome.session_epoch());
}

void SessionClient::OnEvent(const relay::v1::SessionEvent& event) {
  if (event.has_tunnel_request()) {
    if (handlers_.on_tunnel_request) handlers_.on_tunnel_request(event.tunnel_request());
    return;
  }
  if (event.has_device_info_request() && handlers_.on_device_info_request) {
    handlers_.on_device_info_request(event.device_info_request());
    return;
  }
  if (event.has_wake_forward() && handlers_.on_wake_forward) {
    handlers_.on_wake_forward(event.wake_forward());
    return;
  }
  LogWarning("event=session_event_ignored gateway=%s kind=%d", options_.gateway_id,
             static_cast<int>(event.event_case()));
}

void SessionClient::Supervise() {
  int failures = 0;
  while (true) {
    auto attempt = std::make_shared<Attempt>();
    attempt->request.set_gateway_id(options_.gateway_id);
    attempt->request.set_lan_id(options_.lan_id);
    attempt->request.set_software_version(options_.software_version);
    attempt->request.set_lan_address(options_.lan_address);
    attempt->request.set_mac_address(options_.mac_address);
    attempt->request.set_wol_address(options_.wol_address);
    {
      absl::MutexLock lock(&mu_);
      auto runnable = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || !paused_;
      };
      mu_.Await(absl::Condition(&runnable));
      if (shutdown_) return;
      current_ = attempt;
    }
    (new Reactor(this, attempt))->Start();
    attempt->done.WaitForNotification();
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      current_.reset();
      connected_ = false;
      stopping = shutdown_;
    }
    if (handlers_.on_session_ended) handlers_.on_session_ended(attempt->status);
    if (stopping) return;
    {
      absl::MutexLock lock(&mu_);
      if (paused_) {
        // Closed on purpose (power saving): no backoff, no warning.
        failures = 0;
        continue;
      }
    }
    // A session that was established resets the backoff: the next drop is a
    // new incident, not a continuation of a failure streak.
    if (attempt->welcomed) failures = 0;
    absl::Duration delay =
        FullJitterBackoff(options_.backoff, std::min(failures, 60), uniform01_());
    ++failures;
    LogWarning("event=session_lost gateway=%s code=%d error=\"%s\" reconnect_in_ms=%d",
               options_.gateway_id, static_cast<int>(attempt->status.error_code()),
               attempt->status.error_message(), absl::ToInt64Milliseconds(delay));
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutdown_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), delay);
    if (shutdown_) return;
    if (paused_) failures = 0;
  }
}

}  // namespace relay::gateway
