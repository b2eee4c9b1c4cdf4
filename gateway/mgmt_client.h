#ifndef RELAY_GATEWAY_MGMT_CLIENT_H_
#define RELAY_GATEWAY_MGMT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::gateway {

// The unary calls the gateway makes to the management server (GatewaySession
// besides OpenSession, which is session_client.h). Blocking: call from a
// worker thread or an executor, never from a gRPC callback. Tests use
// testing::FakeMgmtClient.
class MgmtClient {
 public:
  virtual ~MgmtClient() = default;
  virtual absl::Status ReportDevices(const relay::v1::DeviceList& list) = 0;
  virtual absl::Status ReportJobProgress(const relay::v1::JobProgress& progress) = 0;
  // Returns the tunnel token for the scan upload.
  virtual absl::StatusOr<std::string> RequestUpload(
      const relay::v1::UploadAccessRequest& request) = 0;
  // The answer to a DeviceInfoRequest (related design 2).
  virtual absl::Status ReportDeviceInfo(const relay::v1::DeviceInfoReport& report) {
    return absl::UnimplementedError("ReportDeviceInfo");
  }
};

// MgmtClient over gRPC, with a deadline on every call.
class GrpcMgmtClient : public MgmtClient {
 public:
  GrpcMgmtClient(std::shared_ptr<grpc::Channel> channel,
                 absl::Duration deadline = absl::Seconds(10));

  absl::Status ReportDevices(const relay::v1::DeviceList& list) override;
  absl::Status ReportJobProgress(const relay::v1::JobProgress& progress) override;
  absl::StatusOr<std::string> RequestUpload(
      const relay::v1::UploadAccessRequest& request) override;
  absl::Status ReportDeviceInfo(const relay::v1::DeviceInfoReport& report) override;

 private:
  std::unique_ptr<relay::v1::GatewaySession::Stub> stub_;
  absl::Duration deadline_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_MGMT_CLIENT_H_
