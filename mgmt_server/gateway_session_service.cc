#include "mgmt_server/gateway_session_service.h"

#include <string>
#include <utility>

#include "common/status_util.h"
#include "mgmt_server/request_validation.h"

namespace relay::mgmt {

grpc::ServerWriteReactor<relay::v1::SessionEvent>* GatewaySessionService::OpenSession(
    grpc::CallbackServerContext* context,
    const relay::v1::OpenSessionRequest* request) {
  absl::Status valid = ValidateOpenSession(*request);
  if (valid.ok()) valid = auth_.Check(*context, request->gateway_id(), "OpenSession");
  if (!valid.ok()) return new RejectedSessionReactor(ToGrpcStatus(valid));
  return new SessionReactor(deps_, *request);
}

grpc::ServerUnaryReactor* GatewaySessionService::ReportDevices(
    grpc::CallbackServerContext* context, const relay::v1::ReportDevicesRequest* request,
    relay::v1::ReportDevicesResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status allowed =
      auth_.Check(*context, request->device_list().gateway_id(), "ReportDevices");
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  // `request` lives until Finish.
  deps_.store_executor->Post([manager = deps_.manager, request, reactor] {
    reactor->Finish(ToGrpcStatus(manager->ReportDevices(request->device_list())));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GatewaySessionService::ReportJobProgress(
    grpc::CallbackServerContext* context, const relay::v1::JobProgress* request,
    relay::v1::ReportJobProgressResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status allowed = auth_.Check(*context, request->gateway_id(), "ReportJobProgress");
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  deps_.manager->ReportJobProgress(*request, [reactor](absl::Status status) {
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GatewaySessionService::RequestUpload(
    grpc::CallbackServerContext* context, const relay::v1::UploadAccessRequest* request,
    relay::v1::UploadAccessResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status allowed = auth_.Check(*context, request->gateway_id(), "RequestUpload");
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  deps_.manager->RequestUpload(*request,
                               [reactor, response](absl::StatusOr<std::string> token) {
                                 if (!token.ok()) {
                                   reactor->Finish(ToGrpcStatus(token.status()));
                                   return;
                                 }
                                 response->set_tunnel_token(*std::move(token));
                                 reactor->Finish(grpc::Status::OK);
                               });
  return reactor;
}

grpc::ServerUnaryReactor* GatewaySessionService::ReportDeviceInfo(
    grpc::CallbackServerContext* context, const relay::v1::DeviceInfoReport* request,
    relay::v1::ReportDeviceInfoResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status allowed = auth_.Check(*context, request->gateway_id(), "ReportDeviceInfo");
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  if (deps_.refresher == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "device information is not collected by this server"));
    return reactor;
  }
  deps_.refresher->OnReport(*request, [reactor](absl::Status status) {
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace relay::mgmt
