// cloud_server: stores documents, print jobs and scans per user, serves
// relayctl (CloudApi), terminates gateway tunnels (CloudTunnel) and receives
// the management server's forwards (CloudMirror).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cloud_server/cloud_server.h"
#include "cloud_server/grpc_access_router.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/ready_file.h"
#include "common/tls_flags.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50061",
          "host:port to serve CloudApi, CloudTunnel and CloudMirror on (port 0: "
          "any free port, see --ready_file)");
ABSL_FLAG(std::string, mgmt, "127.0.0.1:50051",
          "host:port of the management server (AccessRouter) print jobs are routed "
          "through");
ABSL_FLAG(std::string, data_dir, "./demo-data/cloud",
          "directory for the database (cloud.db) and the documents and scans "
          "(blobs/); created if missing");
ABSL_FLAG(std::string, token_key_file, "",
          "file holding the HMAC key that signs tunnel tokens; created with random "
          "bytes (mode 0600) if absent. Default: <data_dir>/token.key");
ABSL_FLAG(absl::Duration, token_ttl, absl::Minutes(5),
          "lifetime of a tunnel token (a gateway must open its tunnel within it)");
ABSL_FLAG(int64_t, max_document_bytes, int64_t{2} << 30,
          "largest document a user may upload, in bytes");
ABSL_FLAG(int64_t, max_scan_bytes, int64_t{2} << 30,
          "largest scan a gateway may upload, in bytes");
ABSL_FLAG(int64_t, max_user_bytes, int64_t{20} << 30,
          "quota: all of one user's documents together, in bytes");
ABSL_FLAG(absl::Duration, redispatch_after, absl::Minutes(2),
          "route a print job again when its gateway neither opened a tunnel nor "
          "reported progress for this long (keep below --token_ttl)");
ABSL_FLAG(absl::Duration, mgmt_timeout, absl::Seconds(10),
          "deadline of each call to the management server");
ABSL_FLAG(int32_t, max_message_bytes, 8 * 1024 * 1024,
          "largest gRPC message accepted (an upload or tunnel chunk, a device list), in "
          "bytes; larger ones are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, gateways, "",
          "users add / set-gateways: the gateways the user may use, comma-separated, or "
          "* for every gateway");
ABSL_FLAG(std::string, token_file, "",
          "users add / rotate: also write the new token to this file (mode 0600)");
ABSL_FLAG(std::string, ready_file, "",
          "once serving, write grpc_port=<port> to this file (for tests and scripts)");

int main(int argc, char** argv) {
  std::vector<std::string> args = relay::InitProgram(
      "cloud",
      "the cloud service of the relay. Stores documents, print jobs "
      "and scans per user, serves relayctl, and terminates the tunnels gateways "
      "open.\n\nUsage: cloud_server [--listen=HOST:PORT] [--mgmt=HOST:PORT] "
      "[--data_dir=DIR] [--tls_dir=DIR | --insecure] ...\n"
      "       cloud_server users add NAME --gateways=*|gw-a,gw-b [--token_file=F] "
      "--data_dir=DIR\n"
      "       cloud_server users list|rotate NAME|set-gateways NAME|remove NAME "
      "--data_dir=DIR",
      argc, argv);
  if (!args.empty() && args[0] == "users") {
    std::error_code ec;
    std::filesystem::create_directories(absl::GetFlag(FLAGS_data_dir), ec);
    return relay::cloud::RunUsersCommand(args, absl::GetFlag(FLAGS_data_dir) + "/cloud.db",
                                         absl::GetFlag(FLAGS_gateways),
                                         absl::GetFlag(FLAGS_token_file));
  }
  if (!args.empty()) relay::FailStartup(absl::StrCat("unexpected argument ", args[0]));
  absl::StatusOr<std::shared_ptr<const relay::TlsConfig>> tls = relay::TlsFromFlags("cloud");
  if (!tls.ok()) relay::FailStartup(std::string(tls.status().message()));
  if (absl::GetFlag(FLAGS_max_message_bytes) < 512 * 1024) {
    relay::FailStartup("--max_message_bytes must be at least 524288 (tunnel chunks are "
                       "256 KiB)");
  }

  relay::cloud::CloudServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.token_key_file = absl::GetFlag(FLAGS_token_key_file);
  options.token_ttl = absl::GetFlag(FLAGS_token_ttl);
  options.limits.max_document_bytes = absl::GetFlag(FLAGS_max_document_bytes);
  options.limits.max_scan_bytes = absl::GetFlag(FLAGS_max_scan_bytes);
  options.limits.max_user_bytes = absl::GetFlag(FLAGS_max_user_bytes);
  options.dispatcher.redispatch_after = absl::GetFlag(FLAGS_redispatch_after);
  options.grpc.tls = *tls;
  options.grpc.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (options.token_ttl <= absl::ZeroDuration()) {
    relay::FailStartup("--token_ttl must be positive");
  }
  if (options.limits.max_document_bytes <= 0 || options.limits.max_scan_bytes <= 0) {
    relay::FailStartup("--max_document_bytes and --max_scan_bytes must be positive");
  }
  if (options.dispatcher.redispatch_after <= absl::ZeroDuration()) {
    relay::FailStartup("--redispatch_after must be positive");
  }
  if (options.dispatcher.redispatch_after >= options.token_ttl) {
    relay::LogWarning("event=config_warning detail=\"--redispatch_after >= --token_ttl: "
                      "a re-routed job may carry an expired token\"");
  }

  std::string mgmt = absl::GetFlag(FLAGS_mgmt);
  auto router = std::make_unique<relay::cloud::GrpcAccessRouter>(
      relay::CreateRelayChannel(mgmt, [&] {
        relay::ChannelOptions channel;
        channel.tls = *tls;
        return channel;
      }()),
      absl::GetFlag(FLAGS_mgmt_timeout));
  absl::StatusOr<std::unique_ptr<relay::cloud::CloudServer>> server =
      relay::cloud::CloudServer::Start(options, std::move(router));
  if (!server.ok()) relay::FailStartup(server.status().ToString());

  relay::LogInfo("event=started listen=%s port=%d mgmt=%s tls=%s", options.listen,
                 (*server)->port(), mgmt, (*tls)->insecure() ? "off" : "on");
  absl::Status ready = relay::WriteReadyFile(
      absl::GetFlag(FLAGS_ready_file), {{"grpc_port", absl::StrCat((*server)->port())}});
  if (!ready.ok()) relay::FailStartup(ready.ToString());

  std::string signal = relay::WaitForShutdownSignal();
  relay::LogInfo("event=shutdown signal=%s", signal);
  (*server)->Shutdown(absl::Seconds(5));
  server->reset();
  return 0;
}
