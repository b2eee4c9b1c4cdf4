#include "cloud_server/grpc_access_router.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::cloud {

GrpcAccessRouter::GrpcAccessRouter(std::shared_ptr<grpc::Channel> channel,
                                   absl::Duration timeout)
    : channel_(std::move(channel)),
      stub_(relay::v1::AccessRouter::NewStub(channel_)),
      timeout_(timeout) {}

AccessRouter::Reply GrpcAccessRouter::RequestAccess(
    const relay::v1::AccessRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return Reply{absl::CancelledError("the cloud server is shutting down"), false};
    }
    calls_.insert(&context);
  }
  relay::v1::AccessResponse response;
  grpc::Status status = stub_->RequestAccess(&context, request, &response);
  {
    absl::MutexLock lock(&mu_);
    calls_.erase(&context);
  }
  Reply reply;
  if (status.ok()) {
    reply.gateway_id = response.gateway_id();
    reply.substitute_gateway_id = response.substitute_gateway_id();
    reply.server_answered = true;
    return reply;
  }
  reply.gateway_id = ToAbslStatus(status);
  // A failed connection also reads UNAVAILABLE; the server said it only if
  // the channel is connected.
  reply.server_answered =
      (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
       status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) ||
      channel_->GetState(false) == GRPC_CHANNEL_READY;
  return reply;
}

void GrpcAccessRouter::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (grpc::ClientContext* context : calls_) context->TryCancel();
}

}  // namespace relay::cloud
