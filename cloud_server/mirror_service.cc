#include "cloud_server/mirror_service.h"

#include "common/logging.h"
#include "common/status_util.h"
#include "common/tls_config.h"

namespace relay::cloud {
namespace {

// Refuses the call unless it comes from the management server. Returns the
// reactor to return, finished, or null if the call may go on.
grpc::ServerUnaryReactor* RefuseUnlessMgmt(grpc::CallbackServerContext* context, bool tls,
                                           const char* call) {
  PeerIdentity peer = PeerIdentityOf(*context);
  absl::Status allowed = CheckServicePeer(peer, tls, kMgmtService);
  if (allowed.ok()) return nullptr;
  LogWarning("event=mirror_refused call=%s peer=\"%s\" address=%s reason=\"%s\"", call,
             peer.Describe(), context->peer(), allowed.ToString());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(allowed));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* MirrorService::UpdateDevices(
    grpc::CallbackServerContext* context, const relay::v1::DeviceList* request,
    relay::v1::UpdateDevicesResponse* /*response*/) {
  if (auto* refused = RefuseUnlessMgmt(context, tls_, "UpdateDevices")) return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  executor_->Post([this, reactor, request] {
    reactor->Finish(ToGrpcStatus(mirror_->UpdateDevices(*request)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* MirrorService::UpdateJobProgress(
    grpc::CallbackServerContext* context, const relay::v1::JobProgress* request,
    relay::v1::UpdateJobProgressResponse* /*response*/) {
  if (auto* refused = RefuseUnlessMgmt(context, tls_, "UpdateJobProgress")) return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  executor_->Post([this, reactor, request] {
    absl::Status status = jobs_->ApplyProgress(*request);
    if (!status.ok()) {
      LogWarning("event=progress_rejected job=%s gateway=%s device=%s error=\"%s\"",
                 request->job_id(), request->gateway_id(), request->device_id(),
                 status.ToString());
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* MirrorService::AuthorizeUpload(
    grpc::CallbackServerContext* context,
    const relay::v1::AuthorizeUploadRequest* request,
    relay::v1::AuthorizeUploadResponse* response) {
  if (auto* refused = RefuseUnlessMgmt(context, tls_, "AuthorizeUpload")) return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  executor_->Post([this, reactor, request, response] {
    absl::StatusOr<std::string> token = library_->AuthorizeUpload(*request);
    if (!token.ok()) {
      LogWarning("event=upload_refused job=%s gateway=%s device=%s error=\"%s\"",
                 request->scan_id(), request->gateway_id(), request->device_id(),
                 token.status().ToString());
      reactor->Finish(ToGrpcStatus(token.status()));
      return;
    }
    response->set_tunnel_token(*token);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace relay::cloud
