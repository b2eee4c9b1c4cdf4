#ifndef RELAY_MGMT_SERVER_GRPC_CLOUD_LINK_H_
#define RELAY_MGMT_SERVER_GRPC_CLOUD_LINK_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "mgmt_server/cloud_link.h"
#include "relay/v1/cloud.grpc.pb.h"

namespace relay::mgmt {

// CloudLink over gRPC (CloudMirror), with the callback client API: no thread
// waits for the cloud. Each call has a deadline of `timeout`.
//
//   GrpcCloudLink link(CreateRelayChannel("127.0.0.1:50061", {}), absl::Seconds(10));
class GrpcCloudLink : public CloudLink {
 public:
  GrpcCloudLink(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  // Cancels the calls still in flight and waits until their callbacks ran.
  ~GrpcCloudLink() override;

  void UpdateDevices(const relay::v1::DeviceList& list,
                     std::function<void(absl::Status)> done) override;
  void UpdateJobProgress(const relay::v1::JobProgress& progress,
                         std::function<void(absl::Status)> done) override;
  void AuthorizeUpload(const relay::v1::AuthorizeUploadRequest& request,
                       std::function<void(absl::StatusOr<std::string>)> done) override;

 private:
  template <typename Request, typename Response>
  struct Call;
  template <typename Request, typename Response>
  Call<Request, Response>* NewCall(const Request& request);
  template <typename Request, typename Response>
  void EndCall(Call<Request, Response>* call);

  void Track(grpc::ClientContext* context);
  void Untrack(grpc::ClientContext* context);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::CloudMirror::Stub> stub_;
  absl::Duration timeout_;
  absl::Mutex mu_;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_GRPC_CLOUD_LINK_H_
