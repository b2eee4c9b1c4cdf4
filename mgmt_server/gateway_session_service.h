#ifndef RELAY_MGMT_SERVER_GATEWAY_SESSION_SERVICE_H_
#define RELAY_MGMT_SERVER_GATEWAY_SESSION_SERVICE_H_

#include "common/serial_executor.h"
#include "mgmt_server/gateway_enrolment.h"
#include "mgmt_server/gateway_manager.h"
#include "mgmt_server/session_reactor.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::mgmt {

// GatewaySession over gRPC (callback API). OpenSession creates a
// SessionReactor; the unary calls hand their work to the GatewayManager, on
// the store executor when it touches the store. Every call is first checked
// by `auth` (gateway_enrolment.h): the gateway id a request carries must be
// the one of the caller's certificate, and that gateway must be approved.
class GatewaySessionService final : public relay::v1::GatewaySession::CallbackService {
 public:
  // `deps.store_executor` also runs ReportDevices.
  explicit GatewaySessionService(const SessionDeps& deps, GatewayAuth auth = {})
      : deps_(deps), auth_(auth) {}

  grpc::ServerWriteReactor<relay::v1::SessionEvent>* OpenSession(
      grpc::CallbackServerContext* context,
      const relay::v1::OpenSessionRequest* request) override;
  grpc::ServerUnaryReactor* ReportDevices(
      grpc::CallbackServerContext* context,
      const relay::v1::ReportDevicesRequest* request,
      relay::v1::ReportDevicesResponse* response) override;
  grpc::ServerUnaryReactor* ReportJobProgress(
      grpc::CallbackServerContext* context, const relay::v1::JobProgress* request,
      relay::v1::ReportJobProgressResponse* response) override;
  // Related design 2: the gateway's answer to a DeviceInfoRequest.
  grpc::ServerUnaryReactor* ReportDeviceInfo(
      grpc::CallbackServerContext* context, const relay::v1::DeviceInfoReport* request,
      relay::v1::ReportDeviceInfoResponse* response) override;

  grpc::ServerUnaryReactor* RequestUpload(
      grpc::CallbackServerContext* context, const relay::v1::UploadAccessRequest* request,
      relay::v1::UploadAccessResponse* response) override;

 private:
  const SessionDeps deps_;
  const GatewayAuth auth_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_GATEWAY_SESSION_SERVICE_H_
