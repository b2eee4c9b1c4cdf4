#ifndef RELAY_MGMT_SERVER_MGMT_SERVER_H_
#define RELAY_MGMT_SERVER_MGMT_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_util.h"
#include "common/serial_executor.h"
#include "grpcpp/server.h"
#include "mgmt_server/access_router.h"
#include "mgmt_server/access_router_service.h"
#include "mgmt_server/cloud_link.h"
#include "mgmt_server/device_mirror.h"
#include "mgmt_server/gateway_enrolment.h"
#include "mgmt_server/gateway_manager.h"
#include "mgmt_server/gateway_session_service.h"
#include "mgmt_server/session_registry.h"
#include "mgmt_server/sqlite_management_store.h"

namespace relay::mgmt {

struct MgmtServerOptions {
  // host:port; port 0 picks a free port (see MgmtServer::port()).
  std::string listen = "127.0.0.1:0";
  // The management table's SQLite file.
  std::string db_path;
  ServerOptions grpc;
  DeviceMirrorOptions mirror;
  // Device information fetched through sessions (related design 2).
  RefreshOptions refresh;
  size_t max_queued_events_per_session = 1024;
  // With TLS (grpc.tls set and not insecure): how often the enrolment table
  // is re-read (approve/revoke from `mgmt_server gateways`).
  absl::Duration enrolment_poll = absl::Seconds(1);
  Clock* clock = SystemClock::Get();
};

// The management server assembled: store, session registry, services and the
// gRPC server (GatewaySession + AccessRouter, health, reflection). Used by
// main.cc and by in-process tests.
//
//   ASSIGN_OR_RETURN(auto server, MgmtServer::Start(options, &cloud_link));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(5));
class MgmtServer {
 public:
  // Opens the store (marking every gateway disconnected: sessions do not
  // survive a restart) and starts serving. `cloud` must outlive the server.
  static absl::StatusOr<std::unique_ptr<MgmtServer>> Start(
      const MgmtServerOptions& options, CloudLink* cloud);
  ~MgmtServer();

  int port() const { return port_; }
  SessionRegistry& registry() { return registry_; }
  ManagementStore& store() { return *store_; }

  // Finishes every session (UNAVAILABLE: the gateways reconnect, possibly to
  // another replica), waits up to `grace` for the calls in progress, then
  // stops. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  MgmtServer(const MgmtServerOptions& options, CloudLink* cloud,
             std::unique_ptr<SqliteManagementStore> store,
             std::unique_ptr<EnrolmentStore> enrolment_store);

  // Declaration order is destruction order in reverse: the executor drains
  // after the server stopped and before the objects its tasks use go away.
  std::unique_ptr<SqliteManagementStore> store_;
  SessionRegistry registry_;
  DeviceMirror mirror_;
  GatewayManager manager_;
  AccessRouter router_;
  // Before the executor: its tasks may use the refresher while it drains.
  DeviceInfoRefresher refresher_;
  SerialExecutor store_executor_;
  // Null without TLS (--insecure, in-process tests): no enrolment.
  std::unique_ptr<EnrolmentStore> enrolment_store_;
  std::unique_ptr<GatewayEnrolment> enrolment_;
  GatewaySessionService session_service_;
  AccessRouterService access_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_MGMT_SERVER_H_
