#include "gateway/mgmt_client.h"

#include <chrono>

#include "absl/time/clock.h"
#include "common/status_util.h"
#include "grpcpp/client_context.h"

namespace relay::gateway {
namespace {

void SetDeadline(grpc::ClientContext* context, absl::Duration deadline) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(deadline));
}

}  // namespace

GrpcMgmtClient::GrpcMgmtClient(std::shared_ptr<grpc::Channel> channel,
                               absl::Duration deadline)
    : stub_(relay::v1::GatewaySession::NewStub(channel)), deadline_(deadline) {}

absl::Status GrpcMgmtClient::ReportDevices(const relay::v1::DeviceList& list) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_);
  relay::v1::ReportDevicesRequest request;
  *request.mutable_device_list() = list;
  relay::v1::ReportDevicesResponse response;
  return ToAbslStatus(stub_->ReportDevices(&context, request, &response));
}

absl::Status GrpcMgmtClient::ReportJobProgress(const relay::v1::JobProgress& progress) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_);
  relay::v1::ReportJobProgressResponse response;
  return ToAbslStatus(stub_->ReportJobProgress(&context, progress, &response));
}

absl::StatusOr<std::string> GrpcMgmtClient::RequestUpload(
    const relay::v1::UploadAccessRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_);
  relay::v1::UploadAccessResponse response;
  grpc::Status status = stub_->RequestUpload(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  if (response.tunnel_token().empty()) {
    return absl::UnavailableError("management server returned an empty upload token");
  }
  return response.tunnel_token();
}

absl::Status GrpcMgmtClient::ReportDeviceInfo(const relay::v1::DeviceInfoReport& report) {
  grpc::ClientContext context;
  SetDeadline(&context, deadline_);
  relay::v1::ReportDeviceInfoResponse response;
  return ToAbslStatus(stub_->ReportDeviceInfo(&context, report, &response));
}

}  // namespace relay::gateway
