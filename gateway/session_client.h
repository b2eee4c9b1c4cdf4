#ifndef RELAY_GATEWAY_SESSION_CLIENT_H_
#define RELAY_GATEWAY_SESSION_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/backoff.h"
#include "grpcpp/channel.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::gateway {

// The gateway's persistent session with the management server
// (GatewaySession.OpenSession, a server stream read with a gRPC callback
// reactor). A supervisor thread keeps exactly one session open: when it
// drops, it reconnects after a full-jitter exponential backoff (backoff.h),
// reset once a session got its SessionWelcome. The channel's keepalive
// (CreateRelayChannel: pings even without data) makes a dead server show up
// as a dropped stream.
//
// The handlers run on gRPC's callback threads and must not block: they hand
// the work to an executor or a worker pool.
//
//   SessionClient session(channel, {gateway_id, lan_id, "0.1"},
//       {.on_session_started = [&](int64_t epoch) { reporter.ReportAll(); },
//        .on_tunnel_request = [&](const TunnelRequest& r) { handler.Handle(r); }});
//   session.Start();
//   ...
//   session.Shutdown();
class SessionClient {
 public:
  struct Options {
    std::string gateway_id;
    std::string lan_id;
    std::string software_version;
    BackoffConfig backoff;
    // Where the other gateways of the LAN reach this one, and its MAC
    // (related design 1: substitute wake-up).
    std::string lan_address;
    std::string mac_address;
    std::string wol_address;
  };
  struct Handlers {
    // A new session is open (its SessionWelcome arrived).
    std::function<void(int64_t session_epoch)> on_session_started;
    std::function<void(const relay::v1::TunnelRequest&)> on_tunnel_request;
    // Related designs 2 and 1: the management server asks for fresh device
    // information, or makes this gateway the substitute that wakes a
    // sleeping gateway of its LAN.
    std::function<void(const relay::v1::DeviceInfoRequest&)> on_device_info_request;
    std::function<void(const relay::v1::WakeForward&)> on_wake_forward;
    // The session dropped; the status says why.
    std::function<void(const grpc::Status&)> on_session_ended;
  };

  SessionClient(std::shared_ptr<grpc::Channel> channel, Options options,
                Handlers handlers,
                std::function<double()> uniform01 = DefaultUniformSource());
  ~SessionClient();

  void Start();
  // Cancels the open session and stops reconnecting. Idempotent.
  void Shutdown();
  // Power saving (related design 1): Pause closes the session and opens no
  // new one until Resume, which reconnects at once.
  void Pause();
  void Resume();

  bool connected() const;
  // Sessions opened so far (welcomes received).
  int64_t sessions_started() const;

 private:
  class Reactor;
  struct Attempt;

  void Supervise();
  // Called by the reactor (callback threads).
  void OnWelcome(const relay::v1::SessionWelcome& welcome);
  void OnEvent(const relay::v1::SessionEvent& event);

  std::unique_ptr<relay::v1::GatewaySession::Stub> stub_;
  const Options options_;
  const Handlers handlers_;
  const std::function<double()> uniform01_;

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  int64_t sessions_started_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Attempt> current_ ABSL_GUARDED_BY(mu_);
  std::thread supervisor_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_SESSION_CLIENT_H_
