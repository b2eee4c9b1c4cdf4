// The gateway: the relay inside the LAN. main only reads flags and wires the
// parts together; each part is described in its header.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/ready_file.h"
#include "common/tls_flags.h"
#include "gateway/access_handler.h"
#include "gateway/box_condition_store.h"
#include "gateway/device_info_responder.h"
#include "gateway/device_list.h"
#include "gateway/device_reporter.h"
#include "gateway/device_table.h"
#include "absl/synchronization/notification.h"
#include "gateway/discovery.h"
#include "gateway/gateway_identity.h"
#include "gateway/gateway_store.h"
#include "gateway/hold_manager.h"
#include "gateway/hold_store.h"
#include "gateway/ids.h"
#include "gateway/lan_service.h"
#include "gateway/mfp_sim_driver.h"
#include "gateway/mgmt_client.h"
#include "gateway/power_manager.h"
#include "gateway/registration_controller.h"
#include "gateway/registration_manager.h"
#include "gateway/scan_spool.h"
#include "gateway/scan_uploader.h"
#include "gateway/session_client.h"
#include "gateway/sqlite_registration_store.h"
#include "gateway/tunnel_client.h"
#include "gateway/wake_forwarder.h"
#include "gateway/wake_on_lan.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "relay/v1/lan.grpc.pb.h"

ABSL_FLAG(std::string, mgmt, "127.0.0.1:50051",
          "Management server (GatewaySession) address, host:port. The gateway keeps one "
          "session open to it and reconnects with backoff.");
ABSL_FLAG(std::string, cloud, "127.0.0.1:50061",
          "Cloud server (CloudTunnel) address, host:port. Tunnels for prints and scans "
          "are opened to it on demand, on a channel of their own.");
ABSL_FLAG(std::string, lan_listen, "127.0.0.1:50071",
          "Where the GatewayLan service (devices submit scans) listens, host:port; port 0 "
          "picks a free port (see --ready_file).");
ABSL_FLAG(std::string, probe_targets, "127.255.255.255:50090",
          "Comma-separated host:port list the UDP discovery probe is sent to (broadcast "
          "addresses allowed). Empty disables probing.");
ABSL_FLAG(std::string, static_devices, "",
          "Comma-separated id=host:port list of devices speaking the simulator protocol "
          "that are always in the device list, e.g. mfp-301=10.0.0.9:50081.");
ABSL_FLAG(absl::Duration, discovery_interval, absl::Seconds(10),
          "Time between discovery probes (one also runs at start).");
ABSL_FLAG(absl::Duration, probe_window, absl::Milliseconds(500),
          "How long each probe collects announcements.");
ABSL_FLAG(absl::Duration, device_report_interval, absl::Milliseconds(500),
          "At most one device-list report to the management server per interval; "
          "changes inside it (each job flips its device's job_in_flight twice) go "
          "together at its end. 0 reports every change at once.");
ABSL_FLAG(int32_t, discovery_missed_rounds, 3,
          "A probed device that misses this many probes in a row is dropped.");
ABSL_FLAG(std::string, state_dir, "./demo-data/gateway",
          "Directory of the gateway's durable state: gateway.db (identity, delivered "
          "jobs, pending scans), registration.db (registrations, usage) and spool/ "
          "(scans waiting for upload). Created if missing.");
ABSL_FLAG(std::string, gateway_id, "",
          "This gateway's id. Default: the id saved in --state_dir, or a new "
          "\"gw-<random>\" on first start.");
ABSL_FLAG(std::string, lan_id, "lan-default",
          "The LAN this gateway serves; gateways of one LAN share it.");
ABSL_FLAG(int32_t, nmax, 5,
          "Nmax: the most devices registered (managed) at once, --self_device included.");
ABSL_FLAG(std::string, mode, "swap",
          "Registration mode: \"swap\" (pre-register up to Nmax, swap an idle device out "
          "for a request) or \"margin\" (pre-register up to Nmax - M, add into the M "
          "free slots for a job and drop after it).");
ABSL_FLAG(int32_t, margin, 2, "M: slots margin mode keeps free.");
ABSL_FLAG(std::string, after_job, "revert",
          "After a job on a swapped-in device: \"revert\" (the swapped-out device comes "
          "back) or \"keep\".");
ABSL_FLAG(std::string, user_after_job, "",
          "Per-user overrides of --after_job, comma-separated user=revert|keep, e.g. "
          "alice=keep,bob=revert.");
ABSL_FLAG(absl::Duration, wait_timeout, absl::Seconds(60),
          "How long a request waits for a registration slot when every registered "
          "device is busy before it fails; 0 disables waiting.");
ABSL_FLAG(absl::Duration, usage_period, absl::Hours(24 * 7),
          "Pre-registration favours the devices with the most jobs in this period.");
ABSL_FLAG(std::string, self_device, "",
          "Device id of the device the gateway runs on, if any: always registered, "
          "counts toward Nmax, never swapped out.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Seconds(20),
          "Keepalive ping interval on the session channel (pings go on without data, so "
          "a dead management server is noticed within about this time plus 10s).");
ABSL_FLAG(absl::Duration, max_backoff, absl::Seconds(30),
          "Cap of the session's reconnect backoff (starts at 0.5s, doubles, full jitter).");
ABSL_FLAG(int64_t, max_scan_bytes, int64_t{1} << 30,
          "Largest scan a device may submit, in bytes.");
ABSL_FLAG(int32_t, max_message_bytes, 8 * 1024 * 1024,
          "Largest gRPC message the LAN API accepts from a device (a scan chunk), in "
          "bytes; larger ones are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_tunnels, 8, "Tunnels relaying at once; more accesses queue.");
ABSL_FLAG(bool, hold, true,
          "Hold until executable: a print whose device cannot execute it now (offline, "
          "paper or toner out, busy, format/colour/duplex lacking) is received and held "
          "at the gateway (state_dir/holds.db + held/), shown HELD with the reason, and "
          "delivered when the device can. false: send it to the device at once.");
ABSL_FLAG(absl::Duration, hold_timeout, absl::Hours(1),
          "A held job not delivered within this time fails (\"the hold expired\").");
ABSL_FLAG(absl::Duration, hold_poll_interval, absl::Seconds(1),
          "How often the devices of held jobs are asked for their state.");
ABSL_FLAG(std::string, lan_advertise, "",
          "Where the other gateways of the LAN reach this gateway's LAN listener "
          "(host:port), told to the management server for substitute wake-up. Default: "
          "--lan_listen with the port actually bound.");
ABSL_FLAG(std::string, wol_listen, "127.0.0.1:50079",
          "Where the Wake-on-LAN listener (UDP magic packets for this gateway's MAC) binds, "
          "host:port; port 0 picks a free port (see --ready_file: wol_port).");
ABSL_FLAG(std::string, mac, "",
          "This gateway's MAC address for Wake-on-LAN. Default: one generated at first "
          "start (random, locally administered) and kept in --state_dir/mac.");
ABSL_FLAG(absl::Duration, power_save_after, absl::ZeroDuration(),
          "Enter power-saving mode after this long without an access (the session "
          "closes; the LAN listener and the Wake-on-LAN listener stay). 0: only on "
          "command (`gateway sleep`).");
ABSL_FLAG(std::string, lan, "127.0.0.1:50071",
          "`gateway sleep`: the LAN address (--lan_listen) of the gateway to put to sleep.");
ABSL_FLAG(std::string, ready_file, "",
          "Once serving, write lan_port=<port> (and grpc_port, gateway_id) to this file.");

namespace relay::gateway {
namespace {

constexpr char kUsage[] =
    "The cloud relay's gateway inside the LAN.\n"
    "Discovers devices, keeps at most --nmax of them registered, holds a session to the\n"
    "management server, and relays prints (cloud -> device) and scans (device -> cloud)\n"
    "through tunnels it opens to the cloud server. Only outbound connections cross the\n"
    "firewall.\n\n"
    "  gateway --mgmt=127.0.0.1:50051 --cloud=127.0.0.1:50061 --state_dir=./gw\n"
    "  gateway sleep --lan=127.0.0.1:50071    put a running gateway into power-saving mode\n";

// `gateway sleep --lan=ADDR`: GatewayLan.Sleep on a running gateway.
int SleepCommand() {
  const std::string lan = absl::GetFlag(FLAGS_lan);
  auto stub = relay::v1::GatewayLan::NewStub(CreateRelayChannel(lan, ChannelOptions()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  relay::v1::PowerStateResponse response;
  grpc::Status status = stub->Sleep(&context, relay::v1::SleepRequest(), &response);
  if (!status.ok()) {
    std::fprintf(stderr, "gateway at %s did not go to sleep: %s\n", lan.c_str(),
                 status.error_message().c_str());
    return 1;
  }
  std::printf("gateway %s is %s\n", response.gateway_id().c_str(),
              response.sleeping() ? "asleep (power-saving mode)" : "awake");
  return 0;
}

// The MAC this gateway answers magic packets for: --mac, or the one kept in
// <state_dir>/mac, or a new locally administered one (saved).
absl::StatusOr<MacAddress> LoadOrCreateMac(const std::string& state_dir) {
  if (!absl::GetFlag(FLAGS_mac).empty()) return ParseMac(absl::GetFlag(FLAGS_mac));
  const std::string path = state_dir + "/mac";
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buffer[64] = {0};
    size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
    std::fclose(f);
    text = std::string(absl::StripAsciiWhitespace(absl::string_view(buffer, n)));
  }
  if (!text.empty()) return ParseMac(text);
  MacAddress mac = RandomLocalMac();
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::FailedPreconditionError("cannot write " + path);
  std::fprintf(f, "%s\n", FormatMac(mac).c_str());
  std::fclose(f);
  return mac;
}

std::map<std::string, AfterJob> ParseUserAfterJob(const std::string& text) {
  std::map<std::string, AfterJob> result;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(absl::StripAsciiWhitespace(entry), '=');
    absl::StatusOr<AfterJob> policy = ParseAfterJob(kv.second);
    if (kv.first.empty() || !policy.ok()) {
      FailStartup(absl::StrCat("--user_after_job: bad entry \"", entry,
                               "\"; expected user=revert or user=keep"));
    }
    result[kv.first] = *policy;
  }
  return result;
}

template <typename T>
T OrFail(absl::StatusOr<T> value, absl::string_view what) {
  if (!value.ok()) FailStartup(absl::StrCat(what, ": ", value.status().message()));
  return *std::move(value);
}

void OrFail(const absl::Status& status, absl::string_view what) {
  if (!status.ok()) FailStartup(absl::StrCat(what, ": ", status.message()));
}

int Run() {
  const Clock* clock = SystemClock::Get();
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);

  // Configuration: everything is checked before anything starts.
  RegistrationConfig config;
  config.nmax = absl::GetFlag(FLAGS_nmax);
  config.mode = OrFail(ParseRegistrationMode(absl::GetFlag(FLAGS_mode)), "--mode");
  config.margin = absl::GetFlag(FLAGS_margin);
  config.wait_timeout = absl::GetFlag(FLAGS_wait_timeout);
  config.default_after_job = OrFail(ParseAfterJob(absl::GetFlag(FLAGS_after_job)),
                                    "--after_job");
  config.per_user_after_job = ParseUserAfterJob(absl::GetFlag(FLAGS_user_after_job));
  config.usage_period = absl::GetFlag(FLAGS_usage_period);
  config.self_device_id = absl::GetFlag(FLAGS_self_device);
  OrFail(ValidateRegistrationConfig(config), "registration flags");
  std::vector<std::string> probe_targets =
      OrFail(ParseHostPortList(absl::GetFlag(FLAGS_probe_targets)), "--probe_targets");
  std::vector<StaticDevice> static_devices =
      OrFail(ParseStaticDevices(absl::GetFlag(FLAGS_static_devices)), "--static_devices");
  OrFail(ValidateHostPort(absl::GetFlag(FLAGS_mgmt)), "--mgmt");
  OrFail(ValidateHostPort(absl::GetFlag(FLAGS_cloud)), "--cloud");
  if (absl::GetFlag(FLAGS_discovery_interval) < absl::Milliseconds(100)) {
    FailStartup("--discovery_interval must be at least 100ms");
  }
  if (absl::GetFlag(FLAGS_max_scan_bytes) <= 0) FailStartup("--max_scan_bytes must be > 0");
  if (absl::GetFlag(FLAGS_max_tunnels) < 1) FailStartup("--max_tunnels must be >= 1");
  if (absl::GetFlag(FLAGS_max_message_bytes) < 64 * 1024) {
    FailStartup("--max_message_bytes must be at least 65536");
  }
  if (absl::GetFlag(FLAGS_max_backoff) < absl::Milliseconds(500)) {
    FailStartup("--max_backoff must be at least 500ms");
  }

  // State.
  OrFail(MakeDirectories(state_dir), "--state_dir");
  std::unique_ptr<GatewayStore> store =
      OrFail(GatewayStore::Open(state_dir + "/gateway.db"), "gateway.db");
  GatewayIdentity identity = OrFail(
      LoadOrCreateGatewayIdentity(store.get(), absl::GetFlag(FLAGS_gateway_id),
                                  absl::GetFlag(FLAGS_lan_id)),
      "gateway identity");
  // TLS: this gateway's certificate (gateway-<id>.pem in --tls_dir) is its
  // identity at the management and cloud servers; it must name this id.
  std::shared_ptr<const TlsConfig> tls =
      OrFail(TlsFromFlags("gateway-" + identity.gateway_id), "TLS (--tls_dir)");
  if (!tls->insecure()) {
    CertificateInfo cert = OrFail(InspectCertificate(tls->cert_pem()), "certificate");
    if (cert.gateway_id != identity.gateway_id) {
      FailStartup(absl::StrCat("certificate ", tls->dir(), "/gateway-", identity.gateway_id,
                               ".pem names gateway \"", cert.gateway_id,
                               "\", not this gateway (", identity.gateway_id,
                               "); issue one with tools/make_dev_certs.sh DIR ",
                               identity.gateway_id));
    }
  }
  std::unique_ptr<SqliteRegistrationStore> registration_store =
      OrFail(SqliteRegistrationStore::Open(state_dir + "/registration.db"),
             "registration.db");
  std::unique_ptr<RegistrationController> controller = OrFail(
      RegistrationController::Create(config, registration_store.get(), clock),
      "registration control");
  ScanSpool spool(state_dir + "/spool");
  OrFail(spool.Init(), "scan spool");
  std::unique_ptr<HoldStore> holds;
  const std::string hold_dir = state_dir + "/held";
  if (absl::GetFlag(FLAGS_hold)) {
    if (absl::GetFlag(FLAGS_hold_timeout) <= absl::ZeroDuration()) {
      FailStartup("--hold_timeout must be positive");
    }
    if (absl::GetFlag(FLAGS_hold_poll_interval) < absl::Milliseconds(50)) {
      FailStartup("--hold_poll_interval must be at least 50ms");
    }
    OrFail(MakeDirectories(hold_dir), "held/ directory");
    holds = OrFail(HoldStore::Open(state_dir + "/holds.db"), "holds.db");
  }
  // Related design 4: the access conditions of the devices' boxes.
  std::unique_ptr<BoxConditionStore> box_conditions =
      OrFail(BoxConditionStore::Open(state_dir + "/boxes.db"), "boxes.db");
  const MacAddress mac = OrFail(LoadOrCreateMac(state_dir), "--mac / state_dir/mac");
  if (absl::GetFlag(FLAGS_power_save_after) < absl::ZeroDuration()) {
    FailStartup("--power_save_after must not be negative");
  }

  // Peers.
  ChannelOptions session_options;
  session_options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  session_options.tls = tls;
  std::shared_ptr<grpc::Channel> mgmt_channel =
      CreateRelayChannel(absl::GetFlag(FLAGS_mgmt), session_options);
  GrpcMgmtClient mgmt(mgmt_channel);
  ChannelOptions tunnel_options;
  tunnel_options.dedicated = true;
  tunnel_options.tls = tls;
  GrpcTunnelClient tunnels(CreateRelayChannel(absl::GetFlag(FLAGS_cloud), tunnel_options));
  MfpSimDriver mfp_sim_driver;
  DefaultDriverRegistry drivers(&mfp_sim_driver);

  // The device list and registration control.
  DeviceList device_list(identity.gateway_id, config.nmax,
                         absl::ToUnixMicros(clock->Now()));
  DeviceReporter reporter(&device_list, &mgmt, absl::GetFlag(FLAGS_device_report_interval));
  auto registration = std::make_unique<RegistrationManager>(
      std::move(controller), clock,
      [&](uint64_t seq, std::vector<DeviceRegistration> rows) {
        if (device_list.SetRegistrations(seq, std::move(rows))) reporter.MaybeReport();
      });

  std::unique_ptr<HoldManager> hold_manager;
  std::unique_ptr<PowerManager> power;
  auto handler = std::make_unique<AccessHandler>(AccessHandler::Deps{
      identity, store.get(), registration.get(), &device_list, &mgmt, &tunnels, &drivers,
      clock, absl::GetFlag(FLAGS_max_tunnels), holds.get(), hold_dir,
      absl::GetFlag(FLAGS_hold_timeout), [&] {
        if (hold_manager) hold_manager->Poke();
      },
      box_conditions.get(), [&] {
        if (power) power->Touch();
      }});
  if (holds != nullptr) {
    hold_manager = std::make_unique<HoldManager>(
        holds.get(), clock, absl::GetFlag(FLAGS_hold_poll_interval),
        [&](const HeldJob& job) { handler->DeliverHeld(job); },
        [&](const HeldJob& job) { handler->ExpireHeld(job); });
  }
  auto uploader = std::make_unique<ScanUploader>(store.get(), handler.get(), clock);

  LanService lan_service(
      {identity.gateway_id, absl::GetFlag(FLAGS_max_scan_bytes)}, &spool, store.get(),
      clock,
      [&](const std::string& device_id) { return device_list.Find(device_id).has_value(); },
      [&](const PendingScan& scan) { uploader->Enqueue(scan); });
  // Set before the LAN server starts; the power-saving parts they use are
  // wired further down (wiring_done).
  absl::Notification wiring_done;
  std::unique_ptr<SessionClient> session;
  LanService::DesignHandlers design_handlers;
  design_handlers.set_box_conditions = [&](const relay::v1::BoxAccessCondition& c) {
    return box_conditions->Put(c);
  };
  design_handlers.sleep = [&]() -> absl::StatusOr<bool> {
    if (!wiring_done.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      return absl::UnavailableError("the gateway is still starting");
    }
    return power->Sleep("command");
  };
  design_handlers.forward_tunnel_request =
      [&](const relay::v1::ForwardTunnelRequestRequest& forwarded) -> absl::StatusOr<bool> {
    if (!wiring_done.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      return absl::UnavailableError("the gateway is still starting");
    }
    relay::v1::TunnelRequest request = forwarded.tunnel_request();
    LogInfo("event=forwarded_request_received job=%s gateway=%s from=%s device=%s sleeping=%d",
            IsSafeId(request.job_id()) ? request.job_id() : "<invalid>", identity.gateway_id,
            forwarded.from_gateway_id(),
            IsSafeId(request.device_id()) ? request.device_id() : "<invalid>",
            power->sleeping() ? 1 : 0);
    // Wake, re-open the session, then open the tunnel as if the request had
    // come down the session (the cloud's token names this gateway).
    power->WakeThen(absl::StrCat("forwarded_by_", forwarded.from_gateway_id()),
                    [&handler, request, id = identity.gateway_id, &session] {
                      LogInfo("event=woken_for_request job=%s gateway=%s device=%s "
                              "session=%s",
                              request.job_id(), id, request.device_id(),
                              session->connected() ? "open" : "not_yet_open");
                      if (handler) handler->HandleTunnelRequest(request);
                    });
    return false;
  };
  lan_service.SetDesignHandlers(design_handlers);
  grpc::ServerBuilder builder;
  ServerOptions lan_server_options;
  lan_server_options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  ConfigureServerBuilder(builder, lan_server_options);
  int lan_port = 0;
  // The LAN side stays plaintext (SECURITY.md: devices hold no certificate of
  // ours); what arrives there is checked like any untrusted input.
  AddListeningPort(builder, absl::GetFlag(FLAGS_lan_listen), &lan_port);
  builder.RegisterService(&lan_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || lan_port == 0) {
    FailStartup(absl::StrCat("cannot listen on --lan_listen=",
                             absl::GetFlag(FLAGS_lan_listen)));
  }
  std::string lan_advertise = absl::GetFlag(FLAGS_lan_advertise);
  if (lan_advertise.empty()) {
    const std::string listen = absl::GetFlag(FLAGS_lan_listen);
    lan_advertise = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", lan_port);
  }

  Discovery::Options discovery_options;
  discovery_options.gateway_id = identity.gateway_id;
  discovery_options.probe_targets = probe_targets;
  discovery_options.static_devices = static_devices;
  discovery_options.interval = absl::GetFlag(FLAGS_discovery_interval);
  discovery_options.answer_window = absl::GetFlag(FLAGS_probe_window);
  discovery_options.max_missed_rounds = absl::GetFlag(FLAGS_discovery_missed_rounds);
  absl::Notification first_discovery_round;
  Discovery discovery(
      discovery_options, clock,
      [&](std::vector<relay::v1::DeviceInfo> devices) {
        std::vector<std::string> ids;
        for (const auto& d : devices) ids.push_back(d.device_id());
        device_list.SetDiscovered(std::move(devices));
        registration->UpdateDevices(ids);
        reporter.MaybeReport();  // also retries a report that failed
        if (!first_discovery_round.HasBeenNotified()) first_discovery_round.Notify();
      },
      [&](const StaticDevice& s) -> absl::StatusOr<relay::v1::DeviceInfo> {
        relay::v1::DeviceInfo ref;
        ref.set_device_id(s.device_id);
        ref.set_address(s.address);
        return mfp_sim_driver.GetStatus(ref);
      });

  SessionClient::Options session_client_options;
  session_client_options.gateway_id = identity.gateway_id;
  session_client_options.lan_id = identity.lan_id;
  session_client_options.software_version = "0.1.0";
  session_client_options.backoff.cap = absl::GetFlag(FLAGS_max_backoff);
  session_client_options.lan_address = lan_advertise;
  session_client_options.mac_address = FormatMac(mac);
  DeviceInfoResponder device_info(identity.gateway_id, &device_list, &drivers, &mgmt);
  SessionClient::Handlers session_handlers;
  session_handlers.on_device_info_request =
      [&](const relay::v1::DeviceInfoRequest& request) { device_info.Handle(request); };
  session_handlers.on_session_started = [&](int64_t) { reporter.ReportAll(); };
  session_handlers.on_tunnel_request = [&](const relay::v1::TunnelRequest& request) {
    handler->HandleTunnelRequest(request);
  };
  // Related design 1: this gateway is the substitute for a sleeping one.
  WakeForwarder wake_forwarder(identity.gateway_id);
  session_handlers.on_wake_forward = [&](const relay::v1::WakeForward& forward) {
    wake_forwarder.Handle(forward);
  };
  PowerManager::Options power_options;
  power_options.gateway_id = identity.gateway_id;
  power_options.mac = mac;
  power_options.wol_listen = absl::GetFlag(FLAGS_wol_listen);
  power_options.power_save_after = absl::GetFlag(FLAGS_power_save_after);
  PowerManager::Hooks power_hooks;
  power_hooks.enter = [&] {
    session->Pause();
    discovery.SetPaused(true);
  };
  power_hooks.leave = [&] {
    discovery.SetPaused(false);
    session->Resume();
  };
  power_hooks.busy = [&] { return handler->active_count() > 0; };
  power_hooks.session_connected = [&] { return session->connected(); };
  power = std::make_unique<PowerManager>(power_options, power_hooks, clock);
  OrFail(power->Start(), "--wol_listen");
  session_client_options.wol_address = power->wol_address();
  session = std::make_unique<SessionClient>(mgmt_channel, session_client_options,
                                            session_handlers);
  wiring_done.Notify();

  registration->Start();
  OrFail(uploader->Start(), "pending scans");
  discovery.Start();
  // The session opens once the LAN has been searched: the first device list
  // the management server and the cloud see is complete (no printers
  // vanishing for a moment after a gateway restart), and a tunnel request
  // that arrives at once finds its device's address.
  first_discovery_round.WaitForNotificationWithTimeout(
      discovery_options.answer_window + absl::Seconds(2));
  session->Start();
  // Held jobs (also those of before a restart) are tried once the device
  // list is known.
  if (hold_manager) hold_manager->Start();

  LogInfo("event=gateway_started gateway=%s lan=%s lan_port=%d mgmt=%s cloud=%s nmax=%d "
          "mode=%s state_dir=%s",
          identity.gateway_id, identity.lan_id, lan_port, absl::GetFlag(FLAGS_mgmt),
          absl::GetFlag(FLAGS_cloud), config.nmax, absl::GetFlag(FLAGS_mode), state_dir);
  OrFail(WriteReadyFile(absl::GetFlag(FLAGS_ready_file),
                        {{"lan_port", absl::StrCat(lan_port)},
                         {"grpc_port", absl::StrCat(lan_port)},
                         {"gateway_id", identity.gateway_id},
                         {"wol_port", power->wol_address().substr(
                                          power->wol_address().rfind(':') + 1)}}),
         "--ready_file");

  std::string signal = WaitForShutdownSignal();
  LogInfo("event=gateway_stopping gateway=%s signal=%s", identity.gateway_id, signal);
  // Inbound work stops first, then the work in progress is cancelled, then
  // the parts go away in the reverse order of their dependencies.
  power->Shutdown();
  session->Shutdown();
  if (hold_manager) hold_manager->Shutdown();
  discovery.Shutdown();
  uploader->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  handler->Shutdown();
  handler.reset();  // drains: waits for the cancelled tunnels to end
  uploader.reset();
  registration->Shutdown();
  registration.reset();
  LogInfo("event=gateway_stopped gateway=%s", identity.gateway_id);
  return 0;
}

}  // namespace
}  // namespace relay::gateway

int main(int argc, char** argv) {
  std::vector<std::string> args =
      relay::InitProgram("gateway", relay::gateway::kUsage, argc, argv);
  if (!args.empty() && args[0] == "sleep") return relay::gateway::SleepCommand();
  if (!args.empty()) {
    relay::FailStartup("unknown command \"" + args[0] + "\"; commands: sleep (see --help)");
  }
  return relay::gateway::Run();
}
