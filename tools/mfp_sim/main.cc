// mfp_sim: one process simulating a LAN of many MFPs, plus a small client for
// its control panel. Reads flags and wires things; the parts live in the
// library (sim_device, sim_lan, the services, discovery_responder).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/ready_file.h"
#include "common/status_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "relay/v1/lan.grpc.pb.h"
#include "tools/mfp_sim/discovery_responder.h"
#include "tools/mfp_sim/mfp_device_service.h"
#include "tools/mfp_sim/sim_control_service.h"
#include "tools/mfp_sim/sim_lan.h"

// serve
ABSL_FLAG(std::string, listen, "127.0.0.1:50081",
          "serve: host:port of the MfpDevice and SimControl gRPC services (port 0 picks "
          "a free port)");
ABSL_FLAG(std::string, discovery_listen, "0.0.0.0:50090",
          "serve: ipv4:port where UDP discovery probes are answered (port 0 picks one)");
ABSL_FLAG(std::string, gateway_lan, "127.0.0.1:50071",
          "serve: host:port of the gateway's GatewayLan service, where scans are sent");
ABSL_FLAG(int, devices, 7, "serve: number of simulated devices at start");
ABSL_FLAG(int, id_base, 201,
          "serve: the devices are mfp-<id_base>, mfp-<id_base+1>, ... named \"MFP <n>\"");
ABSL_FLAG(absl::Duration, print_time, absl::Seconds(2),
          "serve: how long a device stays BUSY printing each job");
ABSL_FLAG(std::string, out_dir, "./demo-data/mfp_sim",
          "serve: each printed job is written to <out_dir>/<device_id>/<job_id>.bin");
ABSL_FLAG(std::string, ready_file, "",
          "serve: once serving, write grpc_port=<port> and discovery_port=<port> here");
// client subcommands
ABSL_FLAG(std::string, sim, "127.0.0.1:50081",
          "devices/scan/add-device/printed: host:port of a running mfp_sim");
ABSL_FLAG(std::string, user, "", "scan: the person at the panel (required)");
ABSL_FLAG(int, pages, 1, "scan: number of pages");
ABSL_FLAG(int64_t, page_bytes, 64 * 1024, "scan: bytes of each generated page");
ABSL_FLAG(std::string, name, "", "add-device: display name (default: the device id)");
ABSL_FLAG(std::string, model, "SimMFP M200", "add-device: model name");
ABSL_FLAG(bool, color, false, "add-device: the device prints in colour");
ABSL_FLAG(bool, duplex, false, "add-device: the device prints both sides");

namespace relay::mfp_sim {
namespace {

constexpr char kUsage[] =
    R"(mfp_sim: a LAN of simulated MFPs (print, scan, UDP discovery).

Usage:
  mfp_sim [serve] [flags]              run the simulator (default)
  mfp_sim devices [--sim=HOST:PORT]    list the simulated devices
  mfp_sim scan DEVICE_ID --user=U [--pages=N] [--page_bytes=B]
                                       scan at a device's panel; sends to the gateway
  mfp_sim add-device DEVICE_ID [--name=N] [--model=M] [--color] [--duplex]
                                       a new device appears in the LAN
  mfp_sim printed DEVICE_ID            the jobs a device printed, oldest first
)";

int Serve() {
  SimLan lan(SystemClock::Get());
  int count = absl::GetFlag(FLAGS_devices);
  if (count < 0 || count > 10000) FailStartup("--devices must be 0..10000");
  for (relay::v1::DeviceInfo& info :
       SimLan::DefaultFleet(count, absl::GetFlag(FLAGS_id_base))) {
    absl::StatusOr<SimDevice*> added = lan.Add(std::move(info));
    if (!added.ok()) FailStartup(added.status().ToString());
  }
  if (absl::GetFlag(FLAGS_print_time) < absl::ZeroDuration()) {
    FailStartup("--print_time must not be negative");
  }

  MfpDeviceOptions device_options;
  device_options.out_dir = absl::GetFlag(FLAGS_out_dir);
  device_options.print_time = absl::GetFlag(FLAGS_print_time);
  MfpDeviceService device_service(&lan, device_options);
  SimControlService control_service(
      &lan, CreateRelayChannel(absl::GetFlag(FLAGS_gateway_lan), ChannelOptions{}),
      SimControlOptions{});

  std::string listen = absl::GetFlag(FLAGS_listen);
  grpc::ServerBuilder builder;
  ConfigureServerBuilder(builder, ServerOptions{});
  int port = 0;
  AddListeningPort(builder, listen, &port);
  builder.RegisterService(&device_service);
  builder.RegisterService(&control_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    FailStartup(
        absl::StrCat("cannot listen on ", listen, " (address in use or invalid?)"));
  }
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "[::]") host = "0.0.0.0";
  lan.SetAddress(absl::StrCat(host, ":", port));

  absl::StatusOr<std::unique_ptr<DiscoveryResponder>> responder =
      DiscoveryResponder::Start(absl::GetFlag(FLAGS_discovery_listen), [&lan] {
        std::vector<relay::v1::DeviceInfo> devices;
        for (SimDevice* device : lan.List()) devices.push_back(device->Info());
        return devices;
      });
  if (!responder.ok()) FailStartup(responder.status().ToString());

  absl::Status ready =
      WriteReadyFile(absl::GetFlag(FLAGS_ready_file),
                     {{"grpc_port", absl::StrCat(port)},
                      {"discovery_port", absl::StrCat((*responder)->port())}});
  if (!ready.ok()) FailStartup(ready.ToString());
  LogInfo("event=ready listen=%s port=%d discovery_port=%d devices=%d gateway_lan=%s",
          listen, port, (*responder)->port(), count, absl::GetFlag(FLAGS_gateway_lan));

  std::string signal = WaitForShutdownSignal();
  LogInfo("event=shutdown signal=%s", signal);
  responder->reset();
  device_service.Stop();
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  server->Wait();
  return 0;
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "mfp_sim: %s: %s\n",
               absl::StatusCodeToString(ToAbslStatus(status).code()).c_str(),
               status.error_message().c_str());
  return 1;
}

std::unique_ptr<relay::v1::SimControl::Stub> Connect() {
  return relay::v1::SimControl::NewStub(
      CreateRelayChannel(absl::GetFlag(FLAGS_sim), ChannelOptions{}));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

std::string Describe(const relay::v1::DeviceInfo& device) {
  std::vector<std::string> caps;
  if (device.capabilities().print()) caps.push_back("print");
  if (device.capabilities().scan()) caps.push_back("scan");
  if (device.capabilities().color()) caps.push_back("color");
  if (device.capabilities().duplex()) caps.push_back("duplex");
  std::string status = relay::v1::DeviceStatus_Name(device.status());
  const std::string prefix = "DEVICE_STATUS_";
  if (status.rfind(prefix, 0) == 0) status = status.substr(prefix.size());
  return absl::StrCat(device.device_id(), "\t", device.name(), "\t", device.model(), "\t",
                      status, "\t", absl::StrJoin(caps, ","), "\t", device.address());
}

int Devices() {
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(10));
  relay::v1::ListSimDevicesResponse response;
  grpc::Status status =
      Connect()->ListDevices(&context, relay::v1::ListSimDevicesRequest(), &response);
  if (!status.ok()) return Fail(status);
  for (const auto& device : response.devices())
    std::printf("%s\n", Describe(device).c_str());
  return 0;
}

int Scan(const std::string& device_id) {
  if (absl::GetFlag(FLAGS_user).empty()) FailStartup("scan needs --user=USER");
  if (absl::GetFlag(FLAGS_pages) < 1) FailStartup("--pages must be at least 1");
  if (absl::GetFlag(FLAGS_page_bytes) < 1) FailStartup("--page_bytes must be at least 1");
  relay::v1::StartScanRequest request;
  request.set_device_id(device_id);
  request.set_user_id(absl::GetFlag(FLAGS_user));
  request.set_pages(absl::GetFlag(FLAGS_pages));
  request.set_page_bytes(absl::GetFlag(FLAGS_page_bytes));
  grpc::ClientContext context;
  SetDeadline(context, absl::Minutes(10));
  relay::v1::StartScanResponse response;
  grpc::Status status = Connect()->StartScan(&context, request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("scan_id=%s size=%lld sha256=%s\n", response.scan_id().c_str(),
              static_cast<long long>(response.size()), response.sha256_hex().c_str());
  return 0;
}

int AddDevice(const std::string& device_id) {
  relay::v1::AddSimDeviceRequest request;
  request.set_device_id(device_id);
  request.set_name(absl::GetFlag(FLAGS_name));
  request.set_model(absl::GetFlag(FLAGS_model));
  relay::v1::Capabilities* caps = request.mutable_capabilities();
  caps->set_print(true);
  caps->set_scan(true);
  caps->set_color(absl::GetFlag(FLAGS_color));
  caps->set_duplex(absl::GetFlag(FLAGS_duplex));
  caps->add_formats("application/pdf");
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(10));
  relay::v1::DeviceInfo response;
  grpc::Status status = Connect()->AddDevice(&context, request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Describe(response).c_str());
  return 0;
}

int Printed(const std::string& device_id) {
  relay::v1::DeviceRef request;
  request.set_device_id(device_id);
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(10));
  relay::v1::ListPrintedResponse response;
  grpc::Status status = Connect()->ListPrinted(&context, request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& job : response.jobs()) {
    std::string finished =
        job.finished_unix_ms() == 0
            ? "printing"
            : absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                               absl::FromUnixMillis(job.finished_unix_ms()),
                               absl::UTCTimeZone());
    std::printf("%s\t%lld\t%s\t%s\t%s\n", job.job_id().c_str(),
                static_cast<long long>(job.size()), job.sha256_hex().c_str(),
                finished.c_str(), job.document_name().c_str());
  }
  return 0;
}

int Run(std::vector<std::string> args) {
  if (args.empty()) args.push_back("serve");
  const std::string command = args[0];
  auto want_args = [&](size_t n, const char* usage) {
    if (args.size() != n + 1) FailStartup(absl::StrCat("usage: mfp_sim ", usage));
  };
  if (command == "serve") {
    want_args(0, "serve [flags]");
    return Serve();
  }
  if (command == "devices") {
    want_args(0, "devices [--sim=HOST:PORT]");
    return Devices();
  }
  if (command == "scan") {
    want_args(1, "scan DEVICE_ID --user=USER [--pages=N]");
    return Scan(args[1]);
  }
  if (command == "add-device") {
    want_args(1,
              "add-device DEVICE_ID [--name=NAME] [--model=MODEL] [--color] [--duplex]");
    return AddDevice(args[1]);
  }
  if (command == "printed") {
    want_args(1, "printed DEVICE_ID");
    return Printed(args[1]);
  }
  FailStartup(absl::StrCat("unknown command \"", command,
                           "\"; one of serve, devices, scan, add-device, printed "
                           "(--help explains)"));
}

}  // namespace
}  // namespace relay::mfp_sim

int main(int argc, char** argv) {
  std::vector<std::string> args =
      relay::InitProgram("mfp_sim", relay::mfp_sim::kUsage, argc, argv);
  return relay::mfp_sim::Run(args);
}
