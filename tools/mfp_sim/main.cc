// mfp_sim: one process simulating a LAN of many MFPs, plus a small client for
// its control panel. Reads flags and wires things; the parts live in the
// library (sim_device, sim_lan, the services, discovery_responder).

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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
ABSL_FLAG(bool, keep_printed, true,
          "serve: write printed jobs to --out_dir (false: hash, count and drop them, "
          "as a printer does; for benchmarks)");
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
ABSL_FLAG(std::string, content_type, "application/octet-stream",
          "box-put: the document's MIME type");
ABSL_FLAG(std::string, clients, "",
          "box-conditions: comma-separated external clients allowed (e.g. relayctl)");
ABSL_FLAG(std::string, users, "", "box-conditions: comma-separated users allowed");
ABSL_FLAG(std::string, ops, "list,read",
          "box-conditions: comma-separated operations allowed: list, read, delete");
ABSL_FLAG(std::string, window, "",
          "box-conditions: daily window HH:MM-HH:MM (UTC), e.g. 09:00-17:00; empty: any "
          "time of day");
ABSL_FLAG(std::string, expires, "",
          "box-conditions: when the conditions expire: a duration from now (e.g. 2h) or "
          "unix seconds; empty: never");
ABSL_FLAG(int32_t, max_accesses, 0,
          "box-conditions: at most this many permitted accesses (0: unlimited)");

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
  mfp_sim remove-device DEVICE_ID      the device leaves the LAN
  mfp_sim state DEVICE_ID STATE        put a device out of paper, toner, offline, busy
                                       with a local job, or back:
                                       STATE = paper-out | toner-empty | offline | busy | ready
  mfp_sim box-put DEVICE_ID BOX_ID FILE [--name=N] [--content_type=T]
                                       store a document in one of the device's boxes
  mfp_sim box-conditions DEVICE_ID BOX_ID [--clients=C,..] [--users=U,..]
          [--ops=list,read,delete] [--window=HH:MM-HH:MM] [--expires=2h|UNIX]
          [--max_accesses=N]           the owner sets who may use the box; the device
                                       sends the conditions to the gateway
  mfp_sim box-accesses DEVICE_ID       box requests that reached the device
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
  device_options.keep_printed = absl::GetFlag(FLAGS_keep_printed);
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

int State(const std::string& device_id, const std::string& state) {
  static const auto* states = new std::map<std::string, relay::v1::DeviceStatus>{
      {"paper-out", relay::v1::DEVICE_STATUS_PAPER_OUT},
      {"toner-empty", relay::v1::DEVICE_STATUS_TONER_EMPTY},
      {"offline", relay::v1::DEVICE_STATUS_OFFLINE},
      {"busy", relay::v1::DEVICE_STATUS_BUSY},
      {"ready", relay::v1::DEVICE_STATUS_IDLE},
      {"idle", relay::v1::DEVICE_STATUS_IDLE},
      {"online", relay::v1::DEVICE_STATUS_IDLE}};
  auto it = states->find(state);
  if (it == states->end()) {
    FailStartup(absl::StrCat("unknown state \"", state,
                             "\"; one of paper-out, toner-empty, offline, busy, ready"));
  }
  relay::v1::SetDeviceStateRequest request;
  request.set_device_id(device_id);
  request.set_status(it->second);
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(10));
  relay::v1::DeviceInfo response;
  grpc::Status status = Connect()->SetDeviceState(&context, request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Describe(response).c_str());
  return 0;
}

int BoxPut(const std::string& device_id, const std::string& box_id,
           const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file.good()) FailStartup(absl::StrCat("cannot read ", path));
  std::stringstream content;
  content << file.rdbuf();
  relay::v1::PutBoxDocumentRequest request;
  request.set_device_id(device_id);
  request.set_box_id(box_id);
  request.set_name(absl::GetFlag(FLAGS_name).empty()
                       ? std::filesystem::path(path).filename().string()
                       : absl::GetFlag(FLAGS_name));
  request.set_content_type(absl::GetFlag(FLAGS_content_type));
  request.set_content(content.str());
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(30));
  relay::v1::BoxDocument response;
  grpc::Status status = Connect()->PutBoxDocument(&context, request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("stored %s\t%s\t%lld bytes\tsha256=%s\n", response.document_id().c_str(),
              response.name().c_str(), static_cast<long long>(response.size()),
              response.sha256_hex().c_str());
  return 0;
}

int ParseMinute(absl::string_view hhmm) {
  std::vector<std::string> parts = absl::StrSplit(hhmm, ':');
  int h = 0, m = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &h) ||
      !absl::SimpleAtoi(parts[1], &m) || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0)) {
    FailStartup(absl::StrCat("--window: bad time \"", hhmm, "\"; expected HH:MM"));
  }
  return h * 60 + m;
}

int BoxConditions(const std::string& device_id, const std::string& box_id) {
  relay::v1::BoxAccessCondition condition;
  condition.set_device_id(device_id);
  condition.set_box_id(box_id);
  for (absl::string_view c :
       absl::StrSplit(absl::GetFlag(FLAGS_clients), ',', absl::SkipWhitespace())) {
    condition.add_allowed_clients(std::string(c));
  }
  for (absl::string_view u :
       absl::StrSplit(absl::GetFlag(FLAGS_users), ',', absl::SkipWhitespace())) {
    condition.add_allowed_users(std::string(u));
  }
  for (absl::string_view op :
       absl::StrSplit(absl::GetFlag(FLAGS_ops), ',', absl::SkipWhitespace())) {
    if (op == "list") {
      condition.add_operations(relay::v1::BOX_OPERATION_LIST);
    } else if (op == "read") {
      condition.add_operations(relay::v1::BOX_OPERATION_READ);
    } else if (op == "delete") {
      condition.add_operations(relay::v1::BOX_OPERATION_DELETE);
    } else {
      FailStartup(absl::StrCat("--ops: unknown operation \"", op, "\""));
    }
  }
  std::string window = absl::GetFlag(FLAGS_window);
  if (!window.empty()) {
    std::vector<std::string> ends = absl::StrSplit(window, '-');
    if (ends.size() != 2) FailStartup("--window must be HH:MM-HH:MM");
    condition.set_window_start_minute(ParseMinute(ends[0]));
    condition.set_window_end_minute(ParseMinute(ends[1]) % (24 * 60));
  }
  std::string expires = absl::GetFlag(FLAGS_expires);
  if (!expires.empty()) {
    absl::Duration d;
    int64_t unix_seconds = 0;
    if (absl::ParseDuration(expires, &d)) {
      condition.set_expires_unix(absl::ToUnixSeconds(absl::Now() + d));
    } else if (absl::SimpleAtoi(expires, &unix_seconds)) {
      condition.set_expires_unix(unix_seconds);
    } else {
      FailStartup("--expires must be a duration (2h) or unix seconds");
    }
  }
  condition.set_max_accesses(absl::GetFlag(FLAGS_max_accesses));
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(15));
  relay::v1::SetBoxConditionsResponse response;
  grpc::Status status = Connect()->SetBoxConditions(&context, condition, &response);
  if (!status.ok()) return Fail(status);
  std::printf("conditions of box %s on %s sent to the gateway\n", box_id.c_str(),
              device_id.c_str());
  return 0;
}

int BoxAccesses(const std::string& device_id) {
  relay::v1::DeviceRef request;
  request.set_device_id(device_id);
  grpc::ClientContext context;
  SetDeadline(context, absl::Seconds(10));
  relay::v1::ListBoxAccessesResponse response;
  grpc::Status status = Connect()->ListBoxAccesses(&context, request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& r : response.requests()) {
    std::printf("%s\t%s\t%s\tclient=%s\tuser=%s\n", r.box_id().c_str(),
                relay::v1::BoxOperation_Name(r.operation()).c_str(),
                r.document_id().c_str(), r.client_id().c_str(), r.user_id().c_str());
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
  if (command == "remove-device") {
    want_args(1, "remove-device DEVICE_ID");
    relay::v1::DeviceRef request;
    request.set_device_id(args[1]);
    grpc::ClientContext context;
    SetDeadline(context, absl::Seconds(10));
    relay::v1::DeviceInfo response;
    grpc::Status status = Connect()->RemoveDevice(&context, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("removed %s\n", args[1].c_str());
    return 0;
  }
  if (command == "state") {
    want_args(2, "state DEVICE_ID paper-out|toner-empty|offline|busy|ready");
    return State(args[1], args[2]);
  }
  if (command == "box-put") {
    want_args(3, "box-put DEVICE_ID BOX_ID FILE [--name=N] [--content_type=T]");
    return BoxPut(args[1], args[2], args[3]);
  }
  if (command == "box-conditions") {
    want_args(2, "box-conditions DEVICE_ID BOX_ID [flags]");
    return BoxConditions(args[1], args[2]);
  }
  if (command == "box-accesses") {
    want_args(1, "box-accesses DEVICE_ID");
    return BoxAccesses(args[1]);
  }
  FailStartup(absl::StrCat("unknown command \"", command,
                           "\"; one of serve, devices, scan, add-device, printed, state, "
                           "box-put, box-conditions, box-accesses (--help explains)"));
}

}  // namespace
}  // namespace relay::mfp_sim

int main(int argc, char** argv) {
  std::vector<std::string> args =
      relay::InitProgram("mfp_sim", relay::mfp_sim::kUsage, argc, argv);
  return relay::mfp_sim::Run(args);
}
