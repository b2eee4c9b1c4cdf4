#include "mgmt_server/mgmt_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "grpcpp/server_builder.h"

namespace relay::mgmt {

namespace {
bool UsesTls(const ServerOptions& options) {
  return options.tls != nullptr && !options.tls->insecure();
}
}  // namespace

MgmtServer::MgmtServer(const MgmtServerOptions& options, CloudLink* cloud,
                       std::unique_ptr<SqliteManagementStore> store,
                       std::unique_ptr<EnrolmentStore> enrolment_store)
    : store_(std::move(store)),
      mirror_(cloud, options.mirror),
      manager_(store_.get(), &registry_, &mirror_, cloud, options.clock),
      router_(store_.get(), &registry_),
      refresher_(store_.get(), &registry_, &store_executor_, options.clock, options.refresh),
      store_executor_("mgmt-store"),
      enrolment_store_(std::move(enrolment_store)),
      enrolment_(enrolment_store_ == nullptr
                     ? nullptr
                     : std::make_unique<GatewayEnrolment>(
                           enrolment_store_.get(), options.clock, options.enrolment_poll,
                           [this](const std::string& gateway_id, const absl::Status& why) {
                             if (registry_.CloseSession(gateway_id, why)) {
                               LogWarning("event=session_revoked gateway=%s reason=\"%s\"",
                                          gateway_id, why.ToString());
                             }
                           })),
      session_service_(SessionDeps{&registry_, &manager_, &store_executor_, options.clock,
                                   options.max_queued_events_per_session, &refresher_},
                       GatewayAuth{UsesTls(options.grpc), enrolment_.get()}),
      access_service_(&router_, &store_executor_, UsesTls(options.grpc)) {}

absl::StatusOr<std::unique_ptr<MgmtServer>> MgmtServer::Start(
    const MgmtServerOptions& options, CloudLink* cloud) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteManagementStore> store,
                   SqliteManagementStore::Open(options.db_path));
  RETURN_IF_ERROR(store->MarkAllDisconnected());
  std::unique_ptr<EnrolmentStore> enrolment_store;
  if (UsesTls(options.grpc)) {
    ASSIGN_OR_RETURN(enrolment_store, EnrolmentStore::Open(options.db_path));
  }
  std::unique_ptr<MgmtServer> server(
      new MgmtServer(options, cloud, std::move(store), std::move(enrolment_store)));
  if (server->enrolment_ != nullptr) RETURN_IF_ERROR(server->enrolment_->Start());
  server->router_.SetRefresher(&server->refresher_);
  server->refresher_.Start();
  grpc::ServerBuilder builder;
  ConfigureServerBuilder(builder, options.grpc);
  AddListeningPort(builder, options.listen, options.grpc, &server->port_);
  builder.RegisterService(&server->session_service_);
  builder.RegisterService(&server->access_service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               " (address in use or invalid?)"));
  }
  LogInfo("event=serving listen=%s port=%d", options.listen, server->port_);
  return server;
}

MgmtServer::~MgmtServer() { Shutdown(absl::Seconds(5)); }

void MgmtServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  if (enrolment_ != nullptr) enrolment_->Stop();
  registry_.CloseAll(absl::UnavailableError("management server shutting down"));
  refresher_.Stop();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  LogInfo("event=stopped");
}

}  // namespace relay::mgmt
