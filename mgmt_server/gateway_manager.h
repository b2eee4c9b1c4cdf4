#ifndef RELAY_MGMT_SERVER_GATEWAY_MANAGER_H_
#define RELAY_MGMT_SERVER_GATEWAY_MANAGER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "mgmt_server/cloud_link.h"
#include "mgmt_server/device_mirror.h"
#include "mgmt_server/management_store.h"
#include "mgmt_server/session_registry.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

// What the management server does for gateways: session bookkeeping, device
// lists (stored, then mirrored to the cloud), job progress and upload
// authorization (forwarded to the cloud). Knows nothing of gRPC.
//
// Methods marked "blocking" touch the store: call them from a SerialExecutor,
// never from a gRPC callback. The others return at once and call `done` later
// (possibly on the calling thread).
class GatewayManager {
 public:
  GatewayManager(ManagementStore* store, SessionRegistry* registry, DeviceMirror* mirror,
                 CloudLink* cloud, Clock* clock);

  // Blocking. Records the new session; returns its epoch.
  absl::StatusOr<int64_t> BeginSession(const relay::v1::OpenSessionRequest& request);

  // Blocking. The session of `epoch` ended (no-op if a newer one began).
  void EndSession(const std::string& gateway_id, int64_t epoch);

  // Blocking. Validates and stores the list, then hands it to the mirror.
  // NOT_FOUND for a gateway that never opened a session.
  absl::Status ReportDevices(const relay::v1::DeviceList& list);

  void ReportJobProgress(const relay::v1::JobProgress& progress,
                         std::function<void(absl::Status)> done);

  // `done` receives the tunnel token issued by the cloud.
  void RequestUpload(const relay::v1::UploadAccessRequest& request,
                     std::function<void(absl::StatusOr<std::string>)> done);

 private:
  ManagementStore* const store_;
  SessionRegistry* const registry_;
  DeviceMirror* const mirror_;
  CloudLink* const cloud_;
  Clock* const clock_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_GATEWAY_MANAGER_H_
