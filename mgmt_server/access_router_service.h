#ifndef RELAY_MGMT_SERVER_ACCESS_ROUTER_SERVICE_H_
#define RELAY_MGMT_SERVER_ACCESS_ROUTER_SERVICE_H_

#include "common/serial_executor.h"
#include "mgmt_server/access_router.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::mgmt {

// AccessRouter over gRPC (callback API): the lookup runs on the store
// executor, never in the gRPC callback.
class AccessRouterService final : public relay::v1::AccessRouter::CallbackService {
 public:
  // `tls`: only the cloud service's certificate (relay-service://cloud) may
  // call.
  AccessRouterService(AccessRouter* router, SerialExecutor* store_executor,
                      bool tls = false)
      : router_(router), store_executor_(store_executor), tls_(tls) {}

  grpc::ServerUnaryReactor* RequestAccess(grpc::CallbackServerContext* context,
                                          const relay::v1::AccessRequest* request,
                                          relay::v1::AccessResponse* response) override;

 private:
  AccessRouter* const router_;
  SerialExecutor* const store_executor_;
  const bool tls_;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_ACCESS_ROUTER_SERVICE_H_
