// mgmt_server: the management server. Reads flags and wires the parts
// together; see mgmt_server.h for what it serves.

#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/ready_file.h"
#include "common/tls_flags.h"
#include "mgmt_server/gateway_enrolment.h"
#include "mgmt_server/grpc_cloud_link.h"
#include "mgmt_server/mgmt_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve GatewaySession (for gateways) and AccessRouter (for the "
          "cloud server) on; port 0 picks a free port");
ABSL_FLAG(std::string, cloud, "127.0.0.1:50061",
          "host:port of the cloud server's CloudMirror service (device lists, job "
          "progress, upload tokens)");
ABSL_FLAG(std::string, db, "./demo-data/mgmt/management.db",
          "SQLite file of the management table (created with its directory if missing)");
ABSL_FLAG(std::string, ready_file, "",
          "once serving, write grpc_port=<port> to this file (for tests and scripts)");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Seconds(10),
          "server keepalive ping interval: detects frozen gateways");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(5),
          "a gateway that does not answer a keepalive ping within this time is dropped");
ABSL_FLAG(absl::Duration, cloud_timeout, absl::Seconds(10),
          "deadline of each call to the cloud server");
ABSL_FLAG(int32_t, max_message_bytes, 8 * 1024 * 1024,
          "largest gRPC message accepted from a gateway or the cloud server, in bytes");
ABSL_FLAG(absl::Duration, enrolment_poll, absl::Seconds(1),
          "how often the gateway enrolment table is re-read (approve/revoke take effect "
          "within this time; a revoked gateway's session is closed)");
ABSL_FLAG(absl::Duration, device_info_max_age, absl::Minutes(5),
          "device information older than this is fetched again from the gateway before "
          "an access is routed (also: unknown device, last state a fault); 0 refreshes "
          "before every access");
ABSL_FLAG(absl::Duration, device_info_timeout, absl::Seconds(3),
          "how long routing waits for the gateway's fresh device information");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "on SIGTERM, how long calls in progress may take to finish");

int main(int argc, char** argv) {
  std::vector<std::string> args = relay::InitProgram(
      "mgmt",
      "mgmt_server [flags]: the management server of the cloud relay\n\n"
      "  mgmt_server [--listen=...] [--tls_dir=DIR | --insecure]   serve\n"
      "  mgmt_server gateways list --db=FILE                       gateway enrolment\n"
      "  mgmt_server gateways approve|revoke GATEWAY_ID --db=FILE",
      argc, argv);
  if (!args.empty() && args[0] == "gateways") {
    return relay::mgmt::RunGatewaysCommand(args, absl::GetFlag(FLAGS_db));
  }
  if (!args.empty()) relay::FailStartup(absl::StrCat("unexpected argument ", args[0]));
  absl::StatusOr<std::shared_ptr<const relay::TlsConfig>> tls = relay::TlsFromFlags("mgmt");
  if (!tls.ok()) relay::FailStartup(std::string(tls.status().message()));
  if (absl::GetFlag(FLAGS_max_message_bytes) < 64 * 1024) {
    relay::FailStartup("--max_message_bytes must be at least 65536");
  }

  std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) relay::FailStartup("--db must name a file");
  std::filesystem::path parent = std::filesystem::path(db).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    relay::FailStartup(
        absl::StrCat("cannot create ", parent.string(), ": ", error.message()));
  }
  if (absl::GetFlag(FLAGS_keepalive_time) < absl::Seconds(1) ||
      absl::GetFlag(FLAGS_keepalive_timeout) < absl::Milliseconds(100)) {
    relay::FailStartup("--keepalive_time must be >= 1s and --keepalive_timeout >= 100ms");
  }

  relay::ChannelOptions cloud_channel;
  cloud_channel.tls = *tls;
  relay::mgmt::GrpcCloudLink cloud(
      relay::CreateRelayChannel(absl::GetFlag(FLAGS_cloud), cloud_channel),
      absl::GetFlag(FLAGS_cloud_timeout));

  relay::mgmt::MgmtServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.db_path = db;
  options.grpc.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.grpc.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.grpc.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  // Gateways and the cloud server both present certificates of our CA.
  options.grpc.tls = *tls;
  options.grpc.client_certs = relay::ClientCertPolicy::kRequire;
  options.enrolment_poll = absl::GetFlag(FLAGS_enrolment_poll);
  options.refresh.max_age = absl::GetFlag(FLAGS_device_info_max_age);
  options.refresh.fetch_timeout = absl::GetFlag(FLAGS_device_info_timeout);
  if (options.refresh.max_age < absl::ZeroDuration() ||
      options.refresh.fetch_timeout <= absl::ZeroDuration()) {
    relay::FailStartup("--device_info_max_age must be >= 0 and --device_info_timeout > 0");
  }
  auto server = relay::mgmt::MgmtServer::Start(options, &cloud);
  if (!server.ok()) relay::FailStartup(server.status().ToString());

  absl::Status ready = relay::WriteReadyFile(
      absl::GetFlag(FLAGS_ready_file), {{"grpc_port", absl::StrCat((*server)->port())}});
  if (!ready.ok()) relay::FailStartup(ready.ToString());
  relay::LogInfo("event=ready listen=%s cloud=%s db=%s tls=%s", options.listen,
                 absl::GetFlag(FLAGS_cloud), db,
                 (*tls)->insecure() ? "off" : "mutual");

  std::string signal = relay::WaitForShutdownSignal();
  relay::LogInfo("event=shutdown signal=%s", signal);
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  server->reset();
  return 0;
}
