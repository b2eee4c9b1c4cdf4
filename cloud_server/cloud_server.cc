#include "cloud_server/cloud_server.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "grpcpp/server_builder.h"

namespace relay::cloud {

absl::StatusOr<std::unique_ptr<CloudServer>> CloudServer::Start(
    const CloudServerOptions& options, std::unique_ptr<AccessRouter> router) {
  std::unique_ptr<CloudServer> s(new CloudServer());
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create --data_dir ", options.data_dir, ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(s->store_, SqliteCloudStore::Open(options.data_dir + "/cloud.db"));
  s->blob_dir_ = options.data_dir + "/blobs";
  ASSIGN_OR_RETURN(s->blobs_, BlobStore::Open(s->blob_dir_));
  // Blobs renamed by a process that died before committing their row.
  ASSIGN_OR_RETURN(std::vector<std::string> referenced, s->store_->ListBlobNames());
  ASSIGN_OR_RETURN(int orphans, s->blobs_->RemoveUnreferenced(referenced));
  if (orphans > 0) LogInfo("event=orphan_blobs_removed count=%d", orphans);

  std::string key_file = options.token_key_file.empty()
                             ? options.data_dir + "/token.key"
                             : options.token_key_file;
  ASSIGN_OR_RETURN(std::string key, TunnelTokenSigner::LoadOrCreateKeyFile(key_file));
  s->signer_ = std::make_unique<TunnelTokenSigner>(std::move(key), options.clock,
                                                   options.token_ttl);
  ASSIGN_OR_RETURN(s->user_store_, UserStore::Open(options.data_dir + "/cloud.db"));
  s->users_ = std::make_unique<UserDirectory>(s->user_store_.get(), options.users_poll);
  RETURN_IF_ERROR(s->users_->Start());
  SetApiUserDirectory(s->users_.get());
  s->notifier_ = std::make_unique<JobNotifier>();
  s->mirror_ = std::make_unique<DeviceMirror>(s->store_.get(), options.clock);
  s->mirror_->SetGatewayAccess(s->users_.get());
  s->jobs_ = std::make_unique<JobManager>(s->store_.get(), s->blobs_.get(),
                                          s->mirror_.get(), s->notifier_.get(),
                                          options.clock);
  s->library_ = std::make_unique<ContentLibrary>(s->store_.get(), s->blobs_.get(),
                                                 s->mirror_.get(), s->signer_.get(),
                                                 options.clock, options.limits);
  s->router_ = std::move(router);
  s->dispatcher_ = std::make_unique<JobDispatcher>(
      s->jobs_.get(), s->mirror_.get(), s->router_.get(), s->signer_.get(),
      options.clock, options.dispatcher);
  JobDispatcher* dispatcher = s->dispatcher_.get();
  s->jobs_->SetQueuedListener([dispatcher](const std::string& id) { dispatcher->Wake(id); });
  s->boxes_ = std::make_unique<BoxBroker>(s->mirror_.get(), s->router_.get(),
                                          s->signer_.get(), options.clock,
                                          options.box_timeout);

  s->store_executor_ = std::make_unique<SerialExecutor>("cloud-store");
  s->io_executor_ = std::make_unique<SerialExecutor>("cloud-io");
  s->commit_executor_ = std::make_unique<SerialExecutor>("cloud-commit");
  const bool tls = options.grpc.tls != nullptr && !options.grpc.tls->insecure();
  s->tunnel_service_ = std::make_unique<TunnelService>(TunnelDeps{
      s->jobs_.get(), s->library_.get(), s->signer_.get(), s->store_executor_.get(),
      s->io_executor_.get(), s->commit_executor_.get(), tls, s->boxes_.get()});
  s->mirror_service_ = std::make_unique<MirrorService>(
      s->mirror_.get(), s->jobs_.get(), s->library_.get(), s->store_executor_.get(), tls);
  s->api_service_ = std::make_unique<ApiService>(ApiDeps{
      s->jobs_.get(), s->mirror_.get(), s->library_.get(), s->notifier_.get(),
      s->store_executor_.get(), s->io_executor_.get(), s->commit_executor_.get(),
      s->boxes_.get()});

  grpc::ServerBuilder builder;
  ConfigureServerBuilder(builder, options.grpc);
  // One port for relayctl (no client certificate: bearer tokens), gateways
  // (CloudTunnel: gateway certificate) and the management server
  // (CloudMirror: its certificate); each service checks its callers.
  ServerOptions grpc = options.grpc;
  grpc.client_certs = ClientCertPolicy::kOptional;
  AddListeningPort(builder, options.listen, grpc, &s->port_);
  builder.RegisterService(s->tunnel_service_.get());
  builder.RegisterService(s->mirror_service_.get());
  builder.RegisterService(s->api_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->server_.reset();
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot listen on ", options.listen, " (address in use or invalid? see --listen)"));
  }
  RETURN_IF_ERROR(s->dispatcher_->Start());
  LogInfo("event=serving port=%d data_dir=%s", s->port_, options.data_dir);
  return s;
}

void CloudServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  if (boxes_ != nullptr) boxes_->Shutdown();
  if (notifier_ != nullptr) notifier_->Shutdown();
  if (users_ != nullptr) users_->Stop();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  LogInfo("event=stopped");
}

CloudServer::~CloudServer() {
  Shutdown(absl::Seconds(1));
  if (ApiUserDirectory() == users_.get()) SetApiUserDirectory(nullptr);
}

}  // namespace relay::cloud
