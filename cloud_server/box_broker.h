#ifndef RELAY_CLOUD_SERVER_BOX_BROKER_H_
#define RELAY_CLOUD_SERVER_BOX_BROKER_H_

#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cloud_server/access_router.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/tunnel_token.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "relay/v1/cloud.pb.h"

namespace relay::cloud {

// Related design 4 at the cloud: external requests to a device's storage box
// (CloudApi.AccessBox). A request is recorded as pending, routed like a print
// job (AccessRequest, DIRECTION_BOX, a token bound to the request id, the
// device's gateway and the user) and answered when the gateway's tunnel
// brings the BoxResult: the device's answer, or the gateway's refusal. The
// call waits at most `timeout`. Pending requests live in memory only: the
// caller's call is their only consumer.
//
//   BoxBroker boxes(&mirror, &router, &signer, clock, absl::Seconds(30));
//   boxes.Submit(user, request, [](absl::StatusOr<BoxResult> r) {...});
//   // tunnel: OpenTunnel(claims) -> request; Complete(id, result) or Abandon.
class BoxBroker {
 public:
  using Done = std::function<void(absl::StatusOr<relay::v1::BoxResult>)>;
  // READ: the most bytes a document may have.
  static constexpr int64_t kMaxDocumentBytes = 3 * 1024 * 1024;

  BoxBroker(DeviceMirror* mirror, AccessRouter* router, const TunnelTokenSigner* signer,
            const Clock* clock, absl::Duration timeout);
  ~BoxBroker();
  BoxBroker(const BoxBroker&) = delete;
  BoxBroker& operator=(const BoxBroker&) = delete;

  // Non-blocking: the routing runs on a thread of the broker. `done` is
  // called once: OK with the BoxResult (permitted or not), or the error
  // (NOT_FOUND device, UNAVAILABLE gateway offline, DEADLINE_EXCEEDED...).
  void Submit(const std::string& user, const relay::v1::BoxAccessRequest& request,
              Done done);

  // A BOX tunnel was opened with these verified claims: returns the request
  // as the user made it. Once per request (PERMISSION_DENIED after, or for
  // claims that do not match it). Non-blocking.
  absl::StatusOr<relay::v1::BoxRequest> OpenTunnel(const TunnelClaims& claims);
  // The gateway's answer. Non-blocking.
  absl::Status Complete(const std::string& request_id, relay::v1::BoxResult result);
  // The tunnel ended without an answer.
  void Abandon(const std::string& request_id, const std::string& why);

  // Fails every pending request (UNAVAILABLE) and refuses new ones.
  void Shutdown();

 private:
  struct Pending {
    std::string user;
    std::string gateway_id;
    std::string device_id;
    relay::v1::BoxRequest request;
    absl::Time deadline;
    bool opened = false;
    Done done;
  };

  void Route(const std::string& user, const relay::v1::BoxAccessRequest& request, Done done);
  // Removes a pending request and calls its `done` (outside the lock).
  void Resolve(const std::string& request_id, absl::StatusOr<relay::v1::BoxResult> result);
  void ExpireLoop();

  DeviceMirror* const mirror_;
  AccessRouter* const router_;
  const TunnelTokenSigner* const signer_;
  const Clock* const clock_;
  const absl::Duration timeout_;

  absl::Mutex mu_;
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  SerialExecutor routing_{"box-routing"};
  std::thread expirer_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_BOX_BROKER_H_
