#ifndef RELAY_CLOUD_SERVER_CLOUD_SERVER_H_
#define RELAY_CLOUD_SERVER_CLOUD_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cloud_server/access_router.h"
#include "cloud_server/box_broker.h"
#include "cloud_server/api_service.h"
#include "cloud_server/blob_store.h"
#include "cloud_server/content_library.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_dispatcher.h"
#include "cloud_server/job_manager.h"
#include "cloud_server/job_notifier.h"
#include "cloud_server/mirror_service.h"
#include "cloud_server/sqlite_cloud_store.h"
#include "cloud_server/tunnel_service.h"
#include "cloud_server/tunnel_token.h"
#include "cloud_server/user_directory.h"
#include "common/clock.h"
#include "common/grpc_util.h"
#include "common/serial_executor.h"
#include "grpcpp/server.h"

namespace relay::cloud {

struct CloudServerOptions {
  // host:port; port 0 picks a free one (see CloudServer::port()).
  std::string listen = "127.0.0.1:50061";
  // Holds cloud.db and blobs/; created if missing.
  std::string data_dir = "./demo-data/cloud";
  // Empty: <data_dir>/token.key.
  std::string token_key_file;
  absl::Duration token_ttl = absl::Minutes(5);
  ContentLimits limits;
  DispatcherOptions dispatcher;
  const Clock* clock = SystemClock::Get();
  // Message size limits and TLS (grpc.tls null or insecure: plaintext, no
  // certificate checks; the API still needs user tokens).
  ServerOptions grpc;
  // How often the users table is re-read (`cloud_server users ...`).
  absl::Duration users_poll = absl::Seconds(1);
  // CloudApi.AccessBox waits this long for the gateway's answer.
  absl::Duration box_timeout = absl::Seconds(30);
};

// The whole cloud service in one object: the store, the logic, the three
// gRPC services (CloudApi, CloudTunnel, CloudMirror) on one callback-API
// server, and the job dispatcher. main() and the service tests both use it.
//
//   auto router = std::make_unique<GrpcAccessRouter>(channel, absl::Seconds(10));
//   ASSIGN_OR_RETURN(auto server, CloudServer::Start(options, std::move(router)));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(5));
class CloudServer {
 public:
  static absl::StatusOr<std::unique_ptr<CloudServer>> Start(
      const CloudServerOptions& options, std::unique_ptr<AccessRouter> router);
  ~CloudServer();
  CloudServer(const CloudServer&) = delete;
  CloudServer& operator=(const CloudServer&) = delete;

  int port() const { return port_; }
  // Stops the dispatcher, ends WatchJob streams, then shuts the gRPC server
  // down (calls still open after `grace` are cancelled). Idempotent.
  void Shutdown(absl::Duration grace);

  // For tests.
  CloudStore& store() { return *store_; }
  const TunnelTokenSigner& signer() const { return *signer_; }
  JobDispatcher& dispatcher() { return *dispatcher_; }
  const std::string& blob_dir() const { return blob_dir_; }
  UserStore& user_store() { return *user_store_; }
  UserDirectory& users() { return *users_; }

 private:
  CloudServer() = default;

  int port_ = 0;
  bool shut_down_ = false;
  std::string blob_dir_;
  // Declared in dependency order: destroyed in reverse, so executors drain
  // their tasks while everything those tasks use is still alive.
  std::unique_ptr<SqliteCloudStore> store_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<TunnelTokenSigner> signer_;
  std::unique_ptr<UserStore> user_store_;
  std::unique_ptr<UserDirectory> users_;
  std::unique_ptr<JobNotifier> notifier_;
  std::unique_ptr<DeviceMirror> mirror_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<ContentLibrary> library_;
  std::unique_ptr<AccessRouter> router_;
  std::unique_ptr<JobDispatcher> dispatcher_;
  std::unique_ptr<BoxBroker> boxes_;
  std::unique_ptr<SerialExecutor> store_executor_;
  std::unique_ptr<SerialExecutor> io_executor_;
  std::unique_ptr<SerialExecutor> commit_executor_;
  std::unique_ptr<TunnelService> tunnel_service_;
  std::unique_ptr<MirrorService> mirror_service_;
  std::unique_ptr<ApiService> api_service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_CLOUD_SERVER_H_
