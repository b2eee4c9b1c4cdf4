// fanout_bench: how many idle gateway sessions one mgmt_server holds, what
// each costs, and how fast a push reaches one of them.
//
// One process plays every gateway: N separate gRPC channels (one HTTP/2
// connection each, as real gateways have), each opening
// GatewaySession.OpenSession and reporting one device with ReportDevices.
// The sessions are spread over several loopback destination addresses
// 127.0.0.1..127.0.0.K (the server listens on 0.0.0.0, reached only through
// lo), because one source/destination address pair has only ~28,000
// ephemeral ports. At each checkpoint (1k, 10k, 50k, 100k sessions by
// default) it reads the server's RSS and CPU from /proc, waits idle, then
// measures push latency: AccessRouter.RequestAccess for the device of a
// random gateway until that gateway's stream delivers the TunnelRequest.
//
// Baseline, same run, same generator: a bare gRPC server in a child process
// (--role=bare_server) that does only what gRPC must do for these sessions:
// hold the streams in a hash map and push on request. No SQLite, no logs.
//
//   fanout_bench --sessions=1000,10000,50000,100000 [--doc=docs/PERFORMANCE.md]
//   fanout_bench --smoke            # 200 sessions, a few pushes

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "common/ready_file.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"
#include "integration_tests/child_process.h"
#include "relay/v1/cloud.grpc.pb.h"
#include "relay/v1/mgmt.grpc.pb.h"

ABSL_FLAG(std::string, sessions, "1000,10000,50000,100000",
          "checkpoints: total open sessions at which figures are taken, ascending");
ABSL_FLAG(bool, smoke, false, "a quick run that only checks the benchmark works (200 sessions)");
ABSL_FLAG(int, pushes, 1000, "push-latency samples per checkpoint");
ABSL_FLAG(absl::Duration, idle_window, absl::Seconds(10),
          "how long the server is watched while idle, for its CPU");
ABSL_FLAG(int, concurrency, 200, "sessions being set up at once");
ABSL_FLAG(int, per_address, 25000, "sessions per loopback destination address");
ABSL_FLAG(absl::Duration, time_limit, absl::Minutes(20),
          "the whole run stops after this, reporting how far it got");
ABSL_FLAG(bool, baseline, true, "also measure the bare gRPC server baseline");
ABSL_FLAG(bool, relay, true, "measure mgmt_server (false: the baseline only)");
ABSL_FLAG(std::string, mgmt_args, "", "extra flags for mgmt_server, space separated");
ABSL_FLAG(std::string, doc, "", "append the figures to this Markdown file");
ABSL_FLAG(std::string, work_dir, "", "where logs and the database go (default: a temp dir)");
ABSL_FLAG(std::string, role, "generator", "generator | bare_server (internal)");
ABSL_FLAG(std::string, ready_file, "", "bare_server: write grpc_port here once serving");
ABSL_FLAG(std::string, bare_args, "",
          "bare_server: extra integer channel arguments, name=value,... (tuning experiments)");

namespace relay::bench {
namespace {

using relay::v1::SessionEvent;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// The baseline server: the least a gRPC server must do for these sessions.
class BareServer : public relay::v1::GatewaySession::CallbackService,
                   public relay::v1::AccessRouter::CallbackService {
 public:
  class Session : public grpc::ServerWriteReactor<SessionEvent> {
   public:
    Session(BareServer* server, std::string id) : server_(server), id_(std::move(id)) {
      {
        absl::MutexLock lock(&server_->mu_);
        server_->sessions_[id_] = this;
      }
      absl::MutexLock lock(&mu_);
      queue_.emplace_back();
      queue_.back().mutable_welcome()->set_session_epoch(1);
      PumpLocked();
    }
    void Push(SessionEvent event) {
      absl::MutexLock lock(&mu_);
      queue_.push_back(std::move(event));
      PumpLocked();
    }
    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        if (!finished_) {
          finished_ = true;
          Finish(grpc::Status::CANCELLED);
        }
        return;
      }
      PumpLocked();
    }
    void OnCancel() override {
      absl::MutexLock lock(&mu_);
      if (!finished_ && !writing_) {
        finished_ = true;
        Finish(grpc::Status::CANCELLED);
      }
    }
    void OnDone() override {
      {
        absl::MutexLock lock(&server_->mu_);
        auto it = server_->sessions_.find(id_);
        if (it != server_->sessions_.end() && it->second == this) server_->sessions_.erase(it);
      }
      delete this;
    }

   private:
    void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (writing_ || finished_ || queue_.empty()) return;
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      StartWrite(&current_);
    }
    BareServer* server_;
    std::string id_;
    absl::Mutex mu_;
    std::deque<SessionEvent> queue_;
    SessionEvent current_;
    bool writing_ = false;
    bool finished_ = false;
  };

  grpc::ServerWriteReactor<SessionEvent>* OpenSession(
      grpc::CallbackServerContext*, const relay::v1::OpenSessionRequest* request) override {
    return new Session(this, request->gateway_id());
  }
  grpc::ServerUnaryReactor* ReportDevices(grpc::CallbackServerContext* context,
                                          const relay::v1::ReportDevicesRequest* request,
                                          relay::v1::ReportDevicesResponse*) override {
    {
      absl::MutexLock lock(&mu_);
      for (const auto& device : request->device_list().devices()) {
        devices_[device.device_id()] = request->device_list().gateway_id();
      }
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* RequestAccess(grpc::CallbackServerContext* context,
                                          const relay::v1::AccessRequest* request,
                                          relay::v1::AccessResponse* response) override {
    auto* reactor = context->DefaultReactor();
    absl::MutexLock lock(&mu_);
    auto device = devices_.find(request->device_id());
    auto session = device == devices_.end() ? sessions_.end() : sessions_.find(device->second);
    if (session == sessions_.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no session"));
      return reactor;
    }
    SessionEvent event;
    event.mutable_tunnel_request()->set_job_id(request->job_id());
    event.mutable_tunnel_request()->set_device_id(request->device_id());
    session->second->Push(std::move(event));
    response->set_gateway_id(device->second);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session*> sessions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> devices_ ABSL_GUARDED_BY(mu_);
};

int RunBareServer() {
  RaiseFdLimit(1 << 20);
  BareServer service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("0.0.0.0:0", grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  for (absl::string_view pair :
       absl::StrSplit(absl::GetFlag(FLAGS_bare_args), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    int value = 0;
    if (absl::SimpleAtoi(kv.second, &value)) builder.AddChannelArgument(kv.first, value);
  }
  builder.RegisterService(static_cast<relay::v1::GatewaySession::CallbackService*>(&service));
  builder.RegisterService(static_cast<relay::v1::AccessRouter::CallbackService*>(&service));
  auto server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 2;
  if (!relay::WriteReadyFile(absl::GetFlag(FLAGS_ready_file), {{"grpc_port", absl::StrCat(port)}})
           .ok()) {
    return 2;
  }
  pause();  // Killed by the generator.
  return 0;
}

// ---------------------------------------------------------------------------
// A stand-in for the cloud server's CloudMirror, so the management server's
// device mirror has someone to talk to.
class StubMirror : public relay::v1::CloudMirror::CallbackService {
  grpc::ServerUnaryReactor* UpdateDevices(grpc::CallbackServerContext* context,
                                          const relay::v1::DeviceList*,
                                          relay::v1::UpdateDevicesResponse*) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* UpdateJobProgress(grpc::CallbackServerContext* context,
                                              const relay::v1::JobProgress*,
                                              relay::v1::UpdateJobProgressResponse*) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* AuthorizeUpload(grpc::CallbackServerContext* context,
                                            const relay::v1::AuthorizeUploadRequest*,
                                            relay::v1::AuthorizeUploadResponse* response) override {
    response->set_tunnel_token("bench");
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// ---------------------------------------------------------------------------
// The generator's side of the sessions.
struct PushBoard {
  absl::Mutex mu;
  // Index of the push being waited for, and when its TunnelRequest arrived.
  int64_t waiting_for ABSL_GUARDED_BY(mu) = -1;
  Clock::time_point arrived ABSL_GUARDED_BY(mu);
  bool done ABSL_GUARDED_BY(mu) = false;
};

struct Counters {
  std::atomic<int64_t> established{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> dropped{0};
  absl::Mutex mu;
  absl::CondVar changed;
  int64_t in_progress ABSL_GUARDED_BY(mu) = 0;
  std::string first_error ABSL_GUARDED_BY(mu);
};

class FakeGateway : public grpc::ClientReadReactor<SessionEvent> {
 public:
  FakeGateway(int index, const std::string& address, Counters* counters, PushBoard* board)
      : index_(index), counters_(counters), board_(board) {
    grpc::ChannelArguments args;
    // What a gateway sets (common/grpc_util.cc), plus a distinct argument so
    // that no two fake gateways share a connection.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetInt("relay.bench_gateway", index);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stub_ = relay::v1::GatewaySession::NewStub(channel_);
    gateway_id_ = absl::StrCat("gw-bench-", index);
  }

  void Start() {
    relay::v1::OpenSessionRequest request;
    request.set_gateway_id(gateway_id_);
    request.set_lan_id("lan-bench");
    request.set_software_version("bench");
    request_ = request;
    stub_->async()->OpenSession(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status.
    if (event_.has_welcome()) {
      ReportDevices();
    } else if (event_.has_device_info_request()) {
      // As a gateway does: query the devices, answer with ReportDeviceInfo.
      AnswerDeviceInfo(event_.device_info_request().request_id());
    } else if (event_.has_tunnel_request()) {
      int64_t index = -1;
      absl::string_view job = event_.tunnel_request().job_id();
      if (absl::ConsumePrefix(&job, "push-") && absl::SimpleAtoi(job, &index)) {
        absl::MutexLock lock(&board_->mu);
        if (index == board_->waiting_for) {
          board_->arrived = Clock::now();
          board_->done = true;
        }
      }
    }
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    done_ = true;
    if (!established_) {
      Settle(false, absl::StrCat("session ", index_, ": ", status.error_code(), " ",
                                 status.error_message()));
    } else {
      counters_->dropped.fetch_add(1);
    }
  }

  void Cancel() { context_.TryCancel(); }
  // Safe to destroy: the session and its ReportDevices call are over.
  bool done() const { return done_.load() && !report_pending_.load(); }
  const std::string& device_id() const { return device_id_; }

 private:
  void ReportDevices() {
    device_id_ = absl::StrCat("dev-bench-", index_);
    report_.mutable_device_list()->set_gateway_id(gateway_id_);
    report_.mutable_device_list()->set_version(1);
    report_.mutable_device_list()->set_nmax(5);
    relay::v1::DeviceInfo* device = report_.mutable_device_list()->add_devices();
    device->set_device_id(device_id_);
    device->set_name("Bench MFP");
    device->set_model("SimMFP M200");
    device->set_address("127.0.0.1:9");
    device->set_protocol("mfp-sim");
    device->set_registered(true);
    device->mutable_capabilities()->set_print(true);
    report_context_ = std::make_unique<grpc::ClientContext>();
    report_context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    report_pending_ = true;
    stub_->async()->ReportDevices(report_context_.get(), &report_, &report_response_,
                                  [this](grpc::Status status) {
                                    Settle(status.ok(), absl::StrCat("report ", index_, ": ",
                                                                     status.error_message()));
                                    report_pending_ = false;
                                  });
  }

  void AnswerDeviceInfo(const std::string& request_id) {
    struct Call {
      grpc::ClientContext context;
      relay::v1::DeviceInfoReport report;
      relay::v1::ReportDeviceInfoResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->report.set_request_id(request_id);
    call->report.set_gateway_id(gateway_id_);
    for (const auto& device : report_.device_list().devices()) {
      *call->report.add_devices() = device;
      call->report.mutable_devices()->rbegin()->set_status(relay::v1::DEVICE_STATUS_IDLE);
    }
    stub_->async()->ReportDeviceInfo(&call->context, &call->report, &call->response,
                                     [call](grpc::Status) { delete call; });
  }

  void Settle(bool ok, const std::string& error) {
    if (settled_.exchange(true)) return;
    if (ok) {
      established_ = true;
      counters_->established.fetch_add(1);
    } else {
      counters_->failed.fetch_add(1);
    }
    absl::MutexLock lock(&counters_->mu);
    if (!ok && counters_->first_error.empty()) counters_->first_error = error;
    --counters_->in_progress;
    counters_->changed.SignalAll();
  }

  const int index_;
  Counters* const counters_;
  PushBoard* const board_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::GatewaySession::Stub> stub_;
  std::string gateway_id_;
  std::string device_id_;
  grpc::ClientContext context_;
  relay::v1::OpenSessionRequest request_;
  SessionEvent event_;
  relay::v1::ReportDevicesRequest report_;
  relay::v1::ReportDevicesResponse report_response_;
  std::unique_ptr<grpc::ClientContext> report_context_;
  std::atomic<bool> settled_{false};
  std::atomic<bool> established_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> report_pending_{false};
};

struct Checkpoint {
  int64_t target = 0;
  int64_t open = 0;
  double setup_seconds = 0;
  double sessions_per_second = 0;
  int64_t rss = 0;
  double bytes_per_session = 0;
  double idle_cpu_percent = 0;
  LatencyStats push;
  int64_t push_failures = 0;
  int64_t dropped = 0;
};

struct RunResult {
  std::vector<Checkpoint> checkpoints;
  int64_t rss_before = 0;
  std::string stop_reason;
};

// Drives one server (mgmt_server or the baseline) through the checkpoints.
RunResult Drive(pid_t server_pid, int port, const std::vector<int64_t>& targets,
                absl::Time deadline, const std::string& label) {
  RunResult result;
  const int per_address = std::max(1, absl::GetFlag(FLAGS_per_address));
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int pushes = absl::GetFlag(FLAGS_pushes);
  // Outlive this run: the fake gateways are never destroyed (see below).
  Counters& counters = *new Counters;
  PushBoard& board = *new PushBoard;
  std::vector<std::unique_ptr<FakeGateway>> gateways;
  gateways.reserve(targets.back());
  auto proc = ReadProc(server_pid);
  result.rss_before = proc.ok() ? proc->rss_bytes : 0;
  std::mt19937_64 random(42);

  auto access_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                            grpc::InsecureChannelCredentials());
  auto access = relay::v1::AccessRouter::NewStub(access_channel);

  for (int64_t target : targets) {
    Checkpoint cp;
    cp.target = target;
    Clock::time_point phase_start = Clock::now();
    int64_t started_before = static_cast<int64_t>(gateways.size());
    while (static_cast<int64_t>(gateways.size()) < target) {
      if (absl::Now() > deadline) {
        result.stop_reason = "time limit reached while opening sessions";
        break;
      }
      {
        absl::MutexLock lock(&counters.mu);
        while (counters.in_progress >= concurrency) {
          counters.changed.WaitWithTimeout(&counters.mu, absl::Seconds(1));
          if (absl::Now() > deadline) break;
        }
        if (counters.in_progress >= concurrency) continue;
        ++counters.in_progress;
      }
      int index = static_cast<int>(gateways.size());
      std::string address =
          absl::StrCat("127.0.0.", 1 + index / per_address, ":", port);
      gateways.push_back(std::make_unique<FakeGateway>(index, address, &counters, &board));
      gateways.back()->Start();
      if (counters.failed.load() > 100 && counters.failed.load() * 10 > index) {
        result.stop_reason = "more than 10% of the sessions failed";
        break;
      }
    }
    {
      absl::MutexLock lock(&counters.mu);
      absl::Time wait_until = std::min(deadline, absl::Now() + absl::Minutes(2));
      while (counters.in_progress > 0 && absl::Now() < wait_until) {
        counters.changed.WaitWithTimeout(&counters.mu, absl::Seconds(1));
      }
    }
    cp.setup_seconds = MsSince(phase_start) / 1000.0;
    cp.open = counters.established.load() - counters.dropped.load();
    int64_t added = static_cast<int64_t>(gateways.size()) - started_before;
    cp.sessions_per_second = cp.setup_seconds > 0 ? added / cp.setup_seconds : 0;
    {
      absl::MutexLock lock(&counters.mu);
      if (!counters.first_error.empty()) {
        std::cerr << label << ": first session error: " << counters.first_error << "\n";
      }
    }
    std::cerr << label << ": " << cp.open << " sessions open (" << counters.failed.load()
              << " failed) after " << cp.setup_seconds << " s\n";

    // Idle: let the server settle (device lists mirrored, logs written),
    // then watch its CPU.
    absl::SleepFor(std::min(absl::Seconds(2), absl::GetFlag(FLAGS_idle_window)));
    auto before = ReadProc(server_pid);
    Clock::time_point idle_start = Clock::now();
    absl::SleepFor(absl::GetFlag(FLAGS_idle_window));
    auto after = ReadProc(server_pid);
    if (!before.ok() || !after.ok()) {
      result.stop_reason = "the server process died";
      result.checkpoints.push_back(cp);
      break;
    }
    double idle_s = MsSince(idle_start) / 1000.0;
    cp.idle_cpu_percent =
        100.0 * (after->cpu_ticks - before->cpu_ticks) / CpuTicksPerSecond() / idle_s;
    cp.rss = after->rss_bytes;
    cp.bytes_per_session =
        cp.open > 0 ? static_cast<double>(after->rss_bytes - result.rss_before) / cp.open : 0;

    // Push latency with every session open, one push at a time.
    std::vector<double> samples;
    std::vector<int> candidates;
    for (int i = 0; i < static_cast<int>(gateways.size()); ++i) {
      if (!gateways[i]->device_id().empty()) candidates.push_back(i);
    }
    static int64_t push_serial = 0;
    for (int p = 0; p < pushes && !candidates.empty() && absl::Now() < deadline; ++p) {
      int k = candidates[random() % candidates.size()];
      int64_t serial = push_serial++;
      {
        absl::MutexLock lock(&board.mu);
        board.waiting_for = serial;
        board.done = false;
      }
      relay::v1::AccessRequest request;
      request.set_job_id(absl::StrCat("push-", serial));
      request.set_device_id(gateways[k]->device_id());
      request.set_direction(relay::v1::DIRECTION_PRINT);
      request.set_tunnel_token("bench-token");
      request.set_user_id("bench");
      request.set_document_name("bench.pdf");
      request.set_document_size(1);
      request.set_content_type("application/pdf");
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      relay::v1::AccessResponse response;
      Clock::time_point t0 = Clock::now();
      grpc::Status status = access->RequestAccess(&context, request, &response);
      bool arrived = false;
      Clock::time_point t1;
      {
        absl::MutexLock lock(&board.mu);
        board.mu.AwaitWithTimeout(absl::Condition(&board.done), absl::Seconds(5));
        arrived = board.done;
        t1 = board.arrived;
        board.waiting_for = -1;
      }
      if (!status.ok() || !arrived) {
        ++cp.push_failures;
        if (cp.push_failures == 1) {
          std::cerr << label << ": push failed: " << status.error_message() << "\n";
        }
        continue;
      }
      samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      // Pushes are spaced out, so each one measures an idle server.
      absl::SleepFor(absl::Milliseconds(2));
    }
    cp.push = Summarize(samples);
    cp.dropped = counters.dropped.load();
    result.checkpoints.push_back(cp);
    std::cerr << label << ": " << target << " checkpoint: rss=" << cp.rss
              << " per_session=" << cp.bytes_per_session << " idle_cpu=" << cp.idle_cpu_percent
              << "% push p50=" << cp.push.p50_ms << " p99=" << cp.push.p99_ms << "\n";
    if (!result.stop_reason.empty()) break;
    if (cp.open < target * 9 / 10) {
      result.stop_reason = absl::StrCat("only ", cp.open, " of ", target, " sessions opened");
      break;
    }
  }
  // Close every session and its channel, so the next run starts with this
  // process's descriptors free. A gateway whose OnDone has not come within
  // the bound is left alone (leaked) rather than destroyed under gRPC.
  for (auto& g : gateways) g->Cancel();
  absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (auto& g : gateways) {
    while (!g->done() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    if (g->done()) {
      g.reset();
    } else {
      g.release();
    }
  }
  return result;
}

absl::StatusOr<std::unique_ptr<integration::ChildProcess>> StartServer(
    const std::string& name, const std::string& binary, std::vector<std::string> args,
    const std::string& dir, int* port) {
  std::string ready = absl::StrCat(dir, "/", name, ".ready");
  args.push_back("--ready_file=" + ready);
  auto child = integration::ChildProcess::Start(binary, args, absl::StrCat(dir, "/", name, ".log"));
  if (!child.ok()) return child.status();
  auto fields = integration::AwaitReadyFile(ready, child->get(), absl::Seconds(30));
  if (!fields.ok()) return fields.status();
  if (!absl::SimpleAtoi((*fields)["grpc_port"], port)) {
    return absl::InternalError("no grpc_port in the ready file");
  }
  return child;
}

int RunGenerator() {
  bool smoke = absl::GetFlag(FLAGS_smoke);
  std::vector<int64_t> targets;
  if (smoke) {
    targets = {100, 200};
  } else {
    for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_sessions), ',')) {
      int64_t n;
      if (absl::SimpleAtoi(part, &n) && n > 0) targets.push_back(n);
    }
  }
  std::sort(targets.begin(), targets.end());
  if (targets.empty()) {
    std::cerr << "--sessions lists no session counts\n";
    return 2;
  }
  if (smoke) {
    absl::SetFlag(&FLAGS_pushes, 20);
    absl::SetFlag(&FLAGS_idle_window, absl::Seconds(1));
  }
  // Each session is one socket here and one in the server, plus slack.
  int64_t fds = RaiseFdLimit(targets.back() + 4096);
  std::string fd_note;
  if (fds < targets.back() + 4096) {
    // Each session is a socket here and in the server (which inherits the
    // limit); past it connections fail with EMFILE. Stop below it instead.
    int64_t cap = std::max<int64_t>(100, (fds - 2000) / 1000 * 1000);
    fd_note = absl::StrCat("stopped at ", cap, " sessions instead of ", targets.back(),
                           ": RLIMIT_NOFILE is ", fds,
                           " and this process may not raise its hard limit (no "
                           "CAP_SYS_RESOURCE); every session needs one descriptor in the "
                           "generator and one in the server");
    std::cerr << "warning: " << fd_note << "\n";
    for (int64_t& t : targets) t = std::min(t, cap);
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  }
  std::string dir = absl::GetFlag(FLAGS_work_dir);
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "relay-fanout-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return 2;
    dir = tmpl;
  }
  std::filesystem::create_directories(dir);
  absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_time_limit);

  // The stub cloud.
  StubMirror mirror;
  grpc::ServerBuilder builder;
  int mirror_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &mirror_port);
  builder.RegisterService(&mirror);
  auto mirror_server = builder.BuildAndStart();

  std::vector<std::string> mgmt_args = {
      "--listen=0.0.0.0:0", absl::StrCat("--cloud=127.0.0.1:", mirror_port),
      "--db=" + dir + "/mgmt.db"};
  if (TlsAvailable()) mgmt_args.push_back("--insecure");
  for (absl::string_view extra :
       absl::StrSplit(absl::GetFlag(FLAGS_mgmt_args), ' ', absl::SkipEmpty())) {
    mgmt_args.emplace_back(extra);
  }
  RunResult relay;
  if (absl::GetFlag(FLAGS_relay)) {
    int port = 0;
    auto mgmt = StartServer("mgmt", BinDir() + "/mgmt_server", mgmt_args, dir, &port);
    if (!mgmt.ok()) {
      std::cerr << "cannot start mgmt_server: " << mgmt.status() << "\n";
      return 1;
    }
    relay = Drive((*mgmt)->pid(), port, targets, deadline, "mgmt_server");
    (*mgmt)->Kill();  // SIGKILL: a clean stop would end every session in SQLite first.
  }

  RunResult bare;
  if (absl::GetFlag(FLAGS_baseline)) {
    // The generator re-runs itself as the baseline server.
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    int bare_port = 0;
    auto server = StartServer(
        "bare", self, {"--role=bare_server", "--bare_args=" + absl::GetFlag(FLAGS_bare_args)},
        dir, &bare_port);
    if (server.ok()) {
      absl::Time bare_deadline = std::max(deadline, absl::Now() + absl::Minutes(2));
      bare = Drive((*server)->pid(), bare_port, targets, bare_deadline, "bare_grpc");
      (*server)->Kill();
    } else {
      std::cerr << "cannot start the baseline server: " << server.status() << "\n";
    }
  }

  Table table("Session fan-out: mgmt_server vs a bare gRPC server (same generator, same run)",
              {"sessions", "server", "open", "setup/s", "RSS", "bytes/session",
               "idle CPU %", "push p50 ms", "push p99 ms", "push max ms", "failed pushes"});
  Table ratios("Session fan-out: mgmt_server / bare gRPC",
               {"sessions", "bytes/session ratio", "setup rate ratio", "push p50 ratio",
                "push p99 ratio", "bar: <=16 KiB/session", "bar: push p99 < 10 ms"});
  size_t rows = std::max(relay.checkpoints.size(), bare.checkpoints.size());
  for (size_t i = 0; i < rows; ++i) {
    auto row = [&](const Checkpoint& c, const std::string& who) {
      table.AddRow({absl::StrCat(c.target), who, absl::StrCat(c.open),
                    Fixed(c.sessions_per_second, 0), MiB(c.rss), Fixed(c.bytes_per_session, 0),
                    Fixed(c.idle_cpu_percent, 1), Fixed(c.push.p50_ms, 2),
                    Fixed(c.push.p99_ms, 2), Fixed(c.push.max_ms, 2),
                    absl::StrCat(c.push_failures)});
    };
    const Checkpoint* r = i < relay.checkpoints.size() ? &relay.checkpoints[i] : nullptr;
    const Checkpoint* b = i < bare.checkpoints.size() ? &bare.checkpoints[i] : nullptr;
    if (r != nullptr) row(*r, "mgmt_server");
    if (b != nullptr) row(*b, "bare gRPC");
    if (r == nullptr) continue;
    ratios.AddRow({absl::StrCat(r->target),
                   b ? Ratio(r->bytes_per_session, b->bytes_per_session) : "n/a",
                   b ? Ratio(r->sessions_per_second, b->sessions_per_second) : "n/a",
                   b ? Ratio(r->push.p50_ms, b->push.p50_ms) : "n/a",
                   b ? Ratio(r->push.p99_ms, b->push.p99_ms) : "n/a",
                   r->open > 0 && r->bytes_per_session <= 16384 ? "met" : "missed",
                   r->push.count > 0 && r->push.p99_ms < 10 ? "met" : "missed"});
  }
  table.Print();
  ratios.Print();
  std::vector<std::string> notes;
  notes.push_back(absl::StrCat(
      "bytes/session = (server RSS with the sessions open - RSS before the first) / open "
      "sessions; idle CPU is % of one core over ",
      absl::FormatDuration(absl::GetFlag(FLAGS_idle_window)),
      " with every session open (keepalive pings included); push = AccessRouter."
      "RequestAccess until the TunnelRequest reaches the fake gateway, one at a time."));
  notes.push_back(absl::StrCat("file-descriptor limit in force: ", fds,
                               "; sessions per loopback address: ",
                               absl::GetFlag(FLAGS_per_address)));
  if (!absl::GetFlag(FLAGS_mgmt_args).empty()) {
    notes.push_back("mgmt_server flags added: " + absl::GetFlag(FLAGS_mgmt_args));
  }
  if (!fd_note.empty()) notes.push_back(fd_note);
  if (!relay.stop_reason.empty()) notes.push_back("mgmt_server run stopped: " + relay.stop_reason);
  if (!bare.stop_reason.empty()) notes.push_back("baseline run stopped: " + bare.stop_reason);
  AppendToPerformanceDoc(absl::GetFlag(FLAGS_doc), "fanout_bench",
                         smoke ? "smoke" : "full", {table, ratios}, notes);
  std::cout << "work dir (logs): " << dir << "\n";
  const RunResult& checked = absl::GetFlag(FLAGS_relay) ? relay : bare;
  bool ok = !checked.checkpoints.empty() && checked.checkpoints.back().open > 0 &&
            checked.checkpoints.back().push.count > 0;
  std::cout.flush();
  // Tearing down tens of thousands of channels takes longer than the whole
  // measurement and tells nothing: leave.
  _exit(ok ? 0 : 1);
}

}  // namespace
}  // namespace relay::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("fanout_bench: gateway sessions held by one mgmt_server");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (absl::GetFlag(FLAGS_role) == "bare_server") return relay::bench::RunBareServer();
  return relay::bench::RunGenerator();
}
