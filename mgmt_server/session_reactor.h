#ifndef RELAY_MGMT_SERVER_SESSION_REACTOR_H_
#define RELAY_MGMT_SERVER_SESSION_REACTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "grpcpp/support/server_callback.h"
#include "mgmt_server/device_info_refresher.h"
#include "mgmt_server/gateway_manager.h"
#include "mgmt_server/session_registry.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

// What every session reactor needs; owned by the service, outlives every
// session.
struct SessionDeps {
  SessionRegistry* registry;
  GatewayManager* manager;
  // Runs the session's store work (begin/end), in order.
  SerialExecutor* store_executor;
  Clock* clock;
  // Events queued for one gateway beyond this are refused (the gateway does
  // not read its stream).
  size_t max_queued_events = 1024;
  // Asked for the gateway's device information once the session is
  // established (related design 2); may be null.
  DeviceInfoRefresher* refresher = nullptr;
};

// One gateway's OpenSession stream (gRPC callback API: no thread per
// session). Registers itself at creation (replacing an older session of the
// same gateway), records the session in the store on the executor, then
// writes SessionWelcome followed by pushed events, one write in flight at a
// time. Finishes exactly once; unregisters and deletes itself in OnDone.
class SessionReactor : public grpc::ServerWriteReactor<relay::v1::SessionEvent>,
                       public SessionHandle {
 public:
  SessionReactor(const SessionDeps& deps, const relay::v1::OpenSessionRequest& request);

  // SessionHandle.
  void Start(const relay::v1::SessionWelcome& welcome) override;
  absl::Status Send(relay::v1::SessionEvent event) override;
  std::deque<relay::v1::SessionEvent> Close(const absl::Status& status) override;

  // grpc::ServerWriteReactor.
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Shared with tasks on the store executor, which may outlive the reactor.
  struct Info {
    std::string gateway_id;
    int64_t epoch = 0;  // Set and read on the store executor only.
  };

  // Under mu_: decides the next step; the caller performs it after unlocking.
  enum class Step { kNone, kWrite, kFinish };
  Step NextStepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Perform(Step step);

  const SessionDeps deps_;
  const std::shared_ptr<Info> info_;
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status finish_status_ ABSL_GUARDED_BY(mu_);
  std::deque<relay::v1::SessionEvent> queue_ ABSL_GUARDED_BY(mu_);
  // The message being written: only touched by the single writer.
  relay::v1::SessionEvent current_;
};

// A server-streaming reactor that only finishes with an error (a request
// refused before any session exists).
class RejectedSessionReactor : public grpc::ServerWriteReactor<relay::v1::SessionEvent> {
 public:
  explicit RejectedSessionReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_SESSION_REACTOR_H_
