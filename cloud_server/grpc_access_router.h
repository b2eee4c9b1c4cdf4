#ifndef RELAY_CLOUD_SERVER_GRPC_ACCESS_ROUTER_H_
#define RELAY_CLOUD_SERVER_GRPC_ACCESS_ROUTER_H_

#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cloud_server/access_router.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::cloud {

// AccessRouter over gRPC to the management server.
class GrpcAccessRouter : public AccessRouter {
 public:
  GrpcAccessRouter(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  Reply RequestAccess(const relay::v1::AccessRequest& request) override;
  void Shutdown() override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::AccessRouter::Stub> stub_;
  absl::Duration timeout_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_GRPC_ACCESS_ROUTER_H_
