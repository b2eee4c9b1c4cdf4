#include "mgmt_server/access_router_service.h"

#include "common/logging.h"
#include "common/status_util.h"
#include "common/tls_config.h"

namespace relay::mgmt {

grpc::ServerUnaryReactor* AccessRouterService::RequestAccess(
    grpc::CallbackServerContext* context, const relay::v1::AccessRequest* request,
    relay::v1::AccessResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  PeerIdentity peer = PeerIdentityOf(*context);
  absl::Status allowed = CheckServicePeer(peer, tls_, kCloudService);
  if (!allowed.ok()) {
    LogWarning("event=access_refused job=%s device=%s peer=\"%s\" address=%s reason=\"%s\"",
               request->job_id(), request->device_id(), peer.Describe(), context->peer(),
               allowed.ToString());
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  // `request` and `response` live until Finish.
  // The device information may be refreshed through the gateway's session
  // first (related design 2): the router answers asynchronously.
  router_->RequestAccessAsync(
      *request, store_executor_,
      [response, reactor](absl::StatusOr<RoutedAccess> routed) {
        if (!routed.ok()) {
          reactor->Finish(ToGrpcStatus(routed.status()));
          return;
        }
        response->set_gateway_id(routed->gateway_id);
        response->set_substitute_gateway_id(routed->substitute_gateway_id);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace relay::mgmt
