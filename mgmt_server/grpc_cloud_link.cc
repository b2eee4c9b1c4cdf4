#include "mgmt_server/grpc_cloud_link.h"

#include <utility>

#include "common/status_util.h"
#include "grpcpp/client_context.h"

namespace relay::mgmt {

template <typename Request, typename Response>
struct GrpcCloudLink::Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

GrpcCloudLink::GrpcCloudLink(std::shared_ptr<grpc::Channel> channel,
                             absl::Duration timeout)
    : channel_(std::move(channel)),
      stub_(relay::v1::CloudMirror::NewStub(channel_)),
      timeout_(timeout) {}

GrpcCloudLink::~GrpcCloudLink() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_set<grpc::ClientContext*>* s) { return s->empty(); },
      &in_flight_));
}

void GrpcCloudLink::Track(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  in_flight_.insert(context);
}

void GrpcCloudLink::Untrack(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(context);
}

template <typename Request, typename Response>
GrpcCloudLink::Call<Request, Response>* GrpcCloudLink::NewCall(const Request& request) {
  auto* call = new Call<Request, Response>();
  call->request = request;
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  // Fail fast while the cloud is down: callers retry (the device mirror), or
  // report UNAVAILABLE to the gateway, which retries.
  call->context.set_wait_for_ready(false);
  Track(&call->context);
  return call;
}

template <typename Request, typename Response>
void GrpcCloudLink::EndCall(Call<Request, Response>* call) {
  Untrack(&call->context);
  delete call;
}

void GrpcCloudLink::UpdateDevices(const relay::v1::DeviceList& list,
                                  std::function<void(absl::Status)> done) {
  auto* call = NewCall<relay::v1::DeviceList, relay::v1::UpdateDevicesResponse>(list);
  stub_->async()->UpdateDevices(
      &call->context, &call->request, &call->response,
      [this, call, done = std::move(done)](grpc::Status status) {
        done(ToAbslStatus(status));
        EndCall(call);
      });
}

void GrpcCloudLink::UpdateJobProgress(const relay::v1::JobProgress& progress,
                                      std::function<void(absl::Status)> done) {
  auto* call =
      NewCall<relay::v1::JobProgress, relay::v1::UpdateJobProgressResponse>(progress);
  stub_->async()->UpdateJobProgress(
      &call->context, &call->request, &call->response,
      [this, call, done = std::move(done)](grpc::Status status) {
        done(ToAbslStatus(status));
        EndCall(call);
      });
}

void GrpcCloudLink::AuthorizeUpload(
    const relay::v1::AuthorizeUploadRequest& request,
    std::function<void(absl::StatusOr<std::string>)> done) {
  auto* call =
      NewCall<relay::v1::AuthorizeUploadRequest, relay::v1::AuthorizeUploadResponse>(
          request);
  stub_->async()->AuthorizeUpload(
      &call->context, &call->request, &call->response,
      [this, call, done = std::move(done)](grpc::Status status) {
        if (!status.ok()) {
          done(ToAbslStatus(status));
        } else if (call->response.tunnel_token().empty()) {
          done(absl::InternalError("the cloud server issued an empty upload token"));
        } else {
          done(call->response.tunnel_token());
        }
        EndCall(call);
      });
}

}  // namespace relay::mgmt
