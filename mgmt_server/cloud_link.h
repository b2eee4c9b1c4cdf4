#ifndef RELAY_MGMT_SERVER_CLOUD_LINK_H_
#define RELAY_MGMT_SERVER_CLOUD_LINK_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "relay/v1/cloud.pb.h"
#include "relay/v1/common.pb.h"

namespace relay::mgmt {

// What the management server says to the cloud server (its CloudMirror
// service). Calls are asynchronous: `done` runs exactly once, on some other
// thread (a gRPC thread for the real link), and must not block. Tests use
// testing/fake_cloud_link.h.
class CloudLink {
 public:
  virtual ~CloudLink() = default;

  virtual void UpdateDevices(const relay::v1::DeviceList& list,
                             std::function<void(absl::Status)> done) = 0;
  virtual void UpdateJobProgress(const relay::v1::JobProgress& progress,
                                 std::function<void(absl::Status)> done) = 0;
  // Returns the tunnel token.
  virtual void AuthorizeUpload(const relay::v1::AuthorizeUploadRequest& request,
                               std::function<void(absl::StatusOr<std::string>)> done) = 0;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_CLOUD_LINK_H_
