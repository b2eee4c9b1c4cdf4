#include "mgmt_server/access_router_service.h"

#include "common/status_util.h"

namespace relay::mgmt {

grpc::ServerUnaryReactor* AccessRouterService::RequestAccess(
    grpc::CallbackServerContext* context, const relay::v1::AccessRequest* request,
    relay::v1::AccessResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // `request` and `response` live until Finish.
  store_executor_->Post([router = router_, request, response, reactor] {
    absl::StatusOr<std::string> gateway_id = router->RequestAccess(*request);
    if (!gateway_id.ok()) {
      reactor->Finish(ToGrpcStatus(gateway_id.status()));
      return;
    }
    response->set_gateway_id(*gateway_id);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace relay::mgmt
