// tunnel_bench: bulk throughput through the relay, against what carries the
// same bytes on the same machine in the same run.
//
// Relay (the real binaries, integration_tests/relay_stack.h, mfp_sim with
// print time 0):
//   print: a 1 GiB document cloud -> gateway -> device; MB/s between the
//          first and the last byte at the device, and from the job accepted
//          to DONE;
//   scan:  1 GiB device -> gateway (spooled durably) -> cloud (stored
//          durably); MB/s from the panel's StartScan to the scan listed in
//          the cloud.
//   The peak resident memory (VmHWM, reset before each transfer) of every
//   process.
// Baselines (same bytes, same machine, same run):
//   raw TCP:    a minimal socket copy over loopback (two threads, 256 KiB
//               buffers);
//   bare gRPC:  one bidi stream between this process and a child process,
//               256 KiB chunks, one write in flight (the relay's chunking);
//   ssh -R:     an OpenSSH reverse tunnel (private sshd on a loopback port,
//               cipher aes128-gcm@openssh.com) carrying the socket copy: what
//               an administrator would set up instead of the relay.
// TLS rows run the relay with --tls_dir once the binaries support it.
//
//   tunnel_bench [--bytes=1073741824] [--doc=docs/PERFORMANCE.md]
//   tunnel_bench --smoke                 # 8 MiB, no ssh

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
#include "integration_tests/relay_stack.h"
#include "relay/v1/cloud.grpc.pb.h"

ABSL_FLAG(bool, smoke, false, "a quick run (8 MiB, no ssh) that only checks the benchmark works");
ABSL_FLAG(int64_t, bytes, int64_t{1} << 30, "bytes per transfer");
ABSL_FLAG(int64_t, chunk_bytes, 256 * 1024, "chunk size of the baselines' copies");
ABSL_FLAG(bool, ssh, true, "measure the OpenSSH reverse tunnel (needs openssh-server)");
ABSL_FLAG(std::string, doc, "", "append the figures to this Markdown file");
ABSL_FLAG(std::string, role, "bench", "bench | grpc_sink (internal)");
ABSL_FLAG(std::string, ready_file, "", "grpc_sink: write grpc_port here once serving");

namespace relay::bench {
namespace {

using relay::integration::ChildProcess;
using relay::integration::RelayStack;

constexpr double kMB = 1e6;  // MB/s in decimal megabytes, like iperf3

// ---------------------------------------------------------------------------
// Minimal socket copy.

int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, int64_t bytes, size_t chunk) {
  std::vector<char> buffer(chunk, 'x');
  int64_t left = bytes;
  while (left > 0) {
    ssize_t n = send(fd, buffer.data(), std::min<int64_t>(left, chunk), MSG_NOSIGNAL);
    if (n <= 0) return false;
    left -= n;
  }
  return true;
}

int64_t ReadAll(int fd, int64_t bytes, size_t chunk) {
  std::vector<char> buffer(chunk);
  int64_t got = 0;
  while (got < bytes) {
    ssize_t n = recv(fd, buffer.data(), chunk, 0);
    if (n <= 0) break;
    got += n;
  }
  return got;
}

// Copies `bytes` from a writer to a reader; `connect_port` is where the
// writer (or, with reverse, the reader) connects, `listen_fd` where the
// other side accepts. Returns MB/s measured at the reader, or -1.
double SocketCopy(int listen_fd, int connect_port, int64_t bytes, bool connector_writes) {
  size_t chunk = static_cast<size_t>(absl::GetFlag(FLAGS_chunk_bytes));
  std::atomic<int64_t> received{0};
  absl::Time start, end;
  std::thread acceptor([&] {
    int fd = accept(listen_fd, nullptr, nullptr);
    if (fd < 0) return;
    if (connector_writes) {
      received = ReadAll(fd, bytes, chunk);
      end = absl::Now();
    } else {
      WriteAll(fd, bytes, chunk);
    }
    close(fd);
  });
  int fd = -1;
  for (int i = 0; i < 100 && fd < 0; ++i) {
    fd = Connect(connect_port);
    if (fd < 0) absl::SleepFor(absl::Milliseconds(50));
  }
  if (fd < 0) {
    shutdown(listen_fd, SHUT_RDWR);
    acceptor.join();
    return -1;
  }
  start = absl::Now();
  if (connector_writes) {
    WriteAll(fd, bytes, chunk);
    shutdown(fd, SHUT_WR);
    ReadAll(fd, 1, 1);  // until the reader closes
  } else {
    received = ReadAll(fd, bytes, chunk);
    end = absl::Now();
  }
  close(fd);
  acceptor.join();
  if (received.load() != bytes) return -1;
  return bytes / kMB / absl::ToDoubleSeconds(end - start);
}

// Writes `bytes` in 256 KiB chunks to a file in `dir` and fsyncs it: the disk's
// pace for what a scan must do twice (gateway spool, cloud store) before it is
// acknowledged. MB/s, or -1.
double DurableWrite(const std::string& dir, int64_t bytes) {
  const std::string path = dir + "/durable-write.bin";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  std::string chunk(256 * 1024, 'd');
  absl::Time start = absl::Now();
  int64_t written = 0;
  while (written < bytes) {
    size_t want = static_cast<size_t>(std::min<int64_t>(chunk.size(), bytes - written));
    ssize_t n = write(fd, chunk.data(), want);
    if (n <= 0) break;
    written += n;
  }
  bool synced = fsync(fd) == 0;
  absl::Time end = absl::Now();
  close(fd);
  std::remove(path.c_str());
  if (written != bytes || !synced) return -1;
  return bytes / kMB / absl::ToDoubleSeconds(end - start);
}

double RawTcp(int64_t bytes) {
  int port = 0;
  int listen_fd = Listen(&port);
  if (listen_fd < 0) return -1;
  double mbps = SocketCopy(listen_fd, port, bytes, true);
  close(listen_fd);
  return mbps;
}

// ---------------------------------------------------------------------------
// Bare gRPC: a sink process that reads one bidi stream of TunnelUp data
// frames and answers TunnelClosed at DataEnd.

class SinkReactor : public grpc::ServerBidiReactor<relay::v1::TunnelUp, relay::v1::TunnelDown> {
 public:
  SinkReactor() { StartRead(&up_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (up_.has_end()) {
      down_.mutable_closed()->set_stored_id(absl::StrCat(received_));
      StartWrite(&down_);
      return;
    }
    received_ += static_cast<int64_t>(up_.data().data().size());
    StartRead(&up_);
  }
  void OnWriteDone(bool) override { Finish(grpc::Status::OK); }
  void OnDone() override { delete this; }

 private:
  relay::v1::TunnelUp up_;
  relay::v1::TunnelDown down_;
  int64_t received_ = 0;
};

class SinkService : public relay::v1::CloudTunnel::CallbackService {
  grpc::ServerBidiReactor<relay::v1::TunnelUp, relay::v1::TunnelDown>* Tunnel(
      grpc::CallbackServerContext*) override {
    return new SinkReactor();
  }
};

int RunGrpcSink() {
  SinkService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(8 * 1024 * 1024);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (server == nullptr) return 2;
  if (!WriteReadyFile(absl::GetFlag(FLAGS_ready_file), {{"grpc_port", absl::StrCat(port)}}).ok()) {
    return 2;
  }
  pause();
  return 0;
}

double BareGrpc(const std::string& dir, int64_t bytes) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string ready = dir + "/grpc_sink.ready";
  auto child = ChildProcess::Start(self, {"--role=grpc_sink", "--ready_file=" + ready},
                                   dir + "/grpc_sink.log");
  if (!child.ok()) return -1;
  auto fields = relay::integration::AwaitReadyFile(ready, child->get(), absl::Seconds(20));
  if (!fields.ok()) return -1;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*fields)["grpc_port"]),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = relay::v1::CloudTunnel::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Tunnel(&context);
  const int64_t chunk = absl::GetFlag(FLAGS_chunk_bytes);
  std::string block(static_cast<size_t>(chunk), 'x');
  absl::Time start = absl::Now();
  relay::v1::TunnelUp frame;
  int64_t sent = 0;
  bool ok = true;
  while (ok && sent < bytes) {
    int64_t want = std::min(chunk, bytes - sent);
    frame.mutable_data()->set_offset(sent);
    frame.mutable_data()->mutable_data()->assign(block.data(), static_cast<size_t>(want));
    ok = stream->Write(frame);
    sent += want;
  }
  frame.mutable_end()->set_total_size(sent);
  ok = ok && stream->Write(frame);
  relay::v1::TunnelDown down;
  bool closed = stream->Read(&down) && down.has_closed();
  stream->WritesDone();
  stream->Finish();
  absl::Time end = absl::Now();
  (*child)->Kill();
  if (!ok || !closed || down.closed().stored_id() != absl::StrCat(bytes)) return -1;
  return bytes / kMB / absl::ToDoubleSeconds(end - start);
}

// ---------------------------------------------------------------------------
// OpenSSH reverse tunnel.

struct SshResult {
  double forward_mbps = -1;  // into the tunnel's remote end, out at the client side
  double reverse_mbps = -1;
  std::string note;
};

SshResult SshTunnel(const std::string& dir, int64_t bytes) {
  SshResult result;
  const std::string sshd = "/usr/sbin/sshd";
  if (!std::filesystem::exists(sshd) || std::system("command -v ssh >/dev/null 2>&1") != 0) {
    result.note = "n/a (openssh-server/openssh-client not installed: tools/bench.sh installs them)";
    return result;
  }
  std::string ssh_dir = dir + "/ssh";
  std::filesystem::create_directories(ssh_dir);
  std::filesystem::create_directories("/run/sshd");  // sshd's privilege-separation dir
  std::string keys = absl::StrCat(
      "ssh-keygen -q -t ed25519 -N '' -f ", ssh_dir, "/host_key && ssh-keygen -q -t ed25519 -N '' -f ",
      ssh_dir, "/client_key && cp ", ssh_dir, "/client_key.pub ", ssh_dir, "/authorized_keys");
  if (std::system(keys.c_str()) != 0) {
    result.note = "n/a (ssh-keygen failed)";
    return result;
  }
  int ssh_port = 0, sink_port = 0, forward_port = 0;
  {  // Pick free ports (the listeners are closed again at once).
    int a = Listen(&ssh_port), b = Listen(&forward_port);
    close(a);
    close(b);
  }
  int sink_fd = Listen(&sink_port);
  std::string config = ssh_dir + "/sshd_config";
  {
    std::ofstream out(config);
    out << "Port " << ssh_port << "\nListenAddress 127.0.0.1\nHostKey " << ssh_dir
        << "/host_key\nPidFile " << ssh_dir << "/sshd.pid\nAuthorizedKeysFile " << ssh_dir
        << "/authorized_keys\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        << "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nAllowTcpForwarding yes\n"
        << "GatewayPorts no\nCiphers aes128-gcm@openssh.com\nCompression no\n";
  }
  auto server = ChildProcess::Start(sshd, {"-D", "-e", "-f", config}, ssh_dir + "/sshd.log");
  if (!server.ok()) {
    result.note = "n/a (sshd did not start)";
    close(sink_fd);
    return result;
  }
  absl::SleepFor(absl::Milliseconds(300));
  const char* user = std::getenv("USER");
  std::string login = absl::StrCat(user != nullptr && *user ? user : "root", "@127.0.0.1");
  auto client = ChildProcess::Start(
      "/usr/bin/ssh",
      {"-N", "-T", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
       "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "Compression=no", "-i",
       ssh_dir + "/client_key", "-c", "aes128-gcm@openssh.com", "-p", absl::StrCat(ssh_port), "-R",
       absl::StrCat("127.0.0.1:", forward_port, ":127.0.0.1:", sink_port), login},
      ssh_dir + "/ssh.log");
  if (!client.ok()) {
    result.note = "n/a (ssh did not start)";
    close(sink_fd);
    return result;
  }
  // The forward is up once sshd accepts on forward_port.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    int probe = Connect(forward_port);
    if (probe >= 0) {
      up = true;
      close(probe);
      // The probe reached the sink through the tunnel: take it off.
      int accepted = accept(sink_fd, nullptr, nullptr);
      if (accepted >= 0) close(accepted);
    } else {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  if (!up) {
    result.note = "n/a (the reverse forward never came up; see " + ssh_dir + "/ssh.log)";
  } else {
    result.forward_mbps = SocketCopy(sink_fd, forward_port, bytes, true);
    result.reverse_mbps = SocketCopy(sink_fd, forward_port, bytes, false);
  }
  (*client)->Stop(absl::Seconds(3));
  (*server)->Stop(absl::Seconds(3));
  close(sink_fd);
  return result;
}

// ---------------------------------------------------------------------------
// The relay.

struct ProcPeaks {
  int64_t cloud = 0, gateway = 0, mfp_sim = 0, mgmt = 0;
  // CPU seconds used since the reset (for where the time goes).
  double cloud_cpu = 0, gateway_cpu = 0, mfp_sim_cpu = 0;
  int64_t cloud_ticks0 = 0, gateway_ticks0 = 0, mfp_sim_ticks0 = 0;
};

ProcPeaks StartPeaks(RelayStack& stack);

void ResetPeaks(RelayStack& stack) {
  for (const char* p : {"cloud", "gateway", "mfp_sim", "mgmt"}) ResetPeakRss(stack.pid(p));
}

int64_t Ticks(RelayStack& stack, const char* p) {
  auto s = ReadProc(stack.pid(p));
  return s.ok() ? s->cpu_ticks : 0;
}

ProcPeaks StartPeaks(RelayStack& stack) {
  ResetPeaks(stack);
  ProcPeaks start;
  start.cloud_ticks0 = Ticks(stack, "cloud");
  start.gateway_ticks0 = Ticks(stack, "gateway");
  start.mfp_sim_ticks0 = Ticks(stack, "mfp_sim");
  return start;
}

ProcPeaks ReadPeaks(RelayStack& stack, const ProcPeaks& start) {
  auto peak = [&](const char* p) {
    auto s = ReadProc(stack.pid(p));
    return s.ok() ? s->peak_rss_bytes : 0;
  };
  ProcPeaks p{peak("cloud"), peak("gateway"), peak("mfp_sim"), peak("mgmt")};
  p.cloud_cpu = (Ticks(stack, "cloud") - start.cloud_ticks0) / CpuTicksPerSecond();
  p.gateway_cpu = (Ticks(stack, "gateway") - start.gateway_ticks0) / CpuTicksPerSecond();
  p.mfp_sim_cpu = (Ticks(stack, "mfp_sim") - start.mfp_sim_ticks0) / CpuTicksPerSecond();
  return p;
}

struct RelayResult {
  double print_device_mbps = -1;  // first -> last byte at the device
  double print_e2e_mbps = -1;     // accepted -> DONE
  ProcPeaks print_peaks;
  double scan_e2e_mbps = -1;      // StartScan -> listed in the cloud
  double scan_spool_mbps = -1;    // device -> gateway spool (StartScan returns)
  double scan_upload_mbps = -1;   // spool -> cloud
  ProcPeaks scan_peaks;
  std::string error;
};

absl::StatusOr<std::string> UploadGenerated(RelayStack& stack, int64_t bytes) {
  // Through the harness, so its channel (TLS or not) and user token are used.
  std::string content = relay::integration::MakeDocument(static_cast<size_t>(std::min<int64_t>(bytes, 1 << 20)), 11);
  while (static_cast<int64_t>(content.size()) < bytes) {
    content.append(content, 0, static_cast<size_t>(std::min<int64_t>(content.size(), bytes - content.size())));
    content[content.size() - 1] ^= 0x5a;  // no two halves alike
  }
  auto document = stack.Upload(content, "big.pdf");
  if (!document.ok()) return document.status();
  return document->document_id();
}

RelayResult RunRelay(int64_t bytes, bool insecure) {
  RelayResult result;
  relay::integration::StackOptions options;
  options.insecure = insecure;
  options.devices = 2;
  options.nmax = 2;
  options.print_time = absl::ZeroDuration();
  // The device hashes and drops what it prints: its disk is not the relay's cost.
  options.sim_args = {"--keep_printed=false"};
  auto stack_or = RelayStack::Start(options);
  if (!stack_or.ok()) {
    result.error = stack_or.status().ToString();
    return result;
  }
  RelayStack& stack = **stack_or;
  absl::Status listed = stack.WaitForPrinters(
      [](const std::vector<relay::v1::Printer>& printers) {
        int registered = 0;
        for (const auto& p : printers) registered += p.device().registered() && p.gateway_online();
        return registered == 2;
      },
      absl::Seconds(30));
  if (!listed.ok()) {
    result.error = listed.ToString();
    return result;
  }
  const std::string device = "mfp-201";

  // Print.
  auto document_id = UploadGenerated(stack, bytes);
  if (!document_id.ok()) {
    result.error = document_id.status().ToString();
    return result;
  }
  ProcPeaks print_start = StartPeaks(stack);
  double accepted_us = 0, done_us = 0;
  auto job = stack.SubmitPrint(*document_id, device);
  accepted_us = static_cast<double>(absl::ToUnixMicros(absl::Now()));
  if (!job.ok()) {
    result.error = job.status().ToString();
    return result;
  }
  relay::v1::Job final_job;
  auto states = stack.WatchToEnd(job->job_id(), &final_job, absl::Minutes(10));
  done_us = static_cast<double>(absl::ToUnixMicros(absl::Now()));
  result.print_peaks = ReadPeaks(stack, print_start);
  if (!states.ok() || final_job.state() != relay::v1::JOB_STATE_DONE) {
    result.error = absl::StrCat("print did not complete: ", final_job.reason());
    return result;
  }
  auto printed = stack.Printed(device);
  if (printed.ok()) {
    for (const auto& p : *printed) {
      if (p.job_id() != job->job_id() || p.received_unix_us() <= p.first_byte_unix_us()) continue;
      result.print_device_mbps = bytes / kMB / ((p.received_unix_us() - p.first_byte_unix_us()) / 1e6);
    }
  }
  result.print_e2e_mbps = bytes / kMB / ((done_us - accepted_us) / 1e6);
  // The printed copy is not needed: keep the disk for the scan.
  std::error_code ignored;
  std::filesystem::remove_all(stack.dir() + "/printed", ignored);

  // Scan: 16 MiB pages (mfp_sim's largest).
  const int64_t page = std::min<int64_t>(bytes, 16 * 1024 * 1024);
  const int pages = static_cast<int>(bytes / page);
  const int64_t scan_bytes = page * pages;
  ProcPeaks scan_start = StartPeaks(stack);
  absl::Time t0 = absl::Now();
  auto scan = stack.StartScan(device, "alice", pages, page);
  absl::Time t1 = absl::Now();
  if (!scan.ok()) {
    result.error = scan.status().ToString();
    return result;
  }
  bool stored = false;
  absl::Time t2;
  absl::Time give_up = absl::Now() + absl::Minutes(10);
  while (!stored && absl::Now() < give_up) {
    auto scans = stack.Scans("alice");
    if (scans.ok()) {
      for (const auto& s : *scans) stored |= s.scan_id() == scan->scan_id() || s.sha256_hex() == scan->sha256_hex();
    }
    t2 = absl::Now();
    if (!stored) absl::SleepFor(absl::Milliseconds(20));
  }
  result.scan_peaks = ReadPeaks(stack, scan_start);
  if (!stored) {
    result.error = "the scan never reached the cloud";
    return result;
  }
  result.scan_e2e_mbps = scan_bytes / kMB / absl::ToDoubleSeconds(t2 - t0);
  result.scan_spool_mbps = scan_bytes / kMB / absl::ToDoubleSeconds(t1 - t0);
  result.scan_upload_mbps = scan_bytes / kMB / absl::ToDoubleSeconds(t2 - t1);
  return result;
}

std::string Mbps(double v) { return v > 0 ? Fixed(v, 0) : "failed"; }

int Run() {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  int64_t bytes = smoke ? 8 * 1024 * 1024 : absl::GetFlag(FLAGS_bytes);
  std::string tmpl = (std::filesystem::temp_directory_path() / "relay-tunnel-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 2;
  const std::string dir = tmpl;

  std::cerr << "raw TCP...\n";
  double raw = RawTcp(bytes);
  std::cerr << "bare gRPC...\n";
  double grpc_mbps = BareGrpc(dir, bytes);
  std::cerr << "durable disk write...\n";
  double disk_mbps = DurableWrite(dir, bytes);
  SshResult ssh;
  if (!smoke && absl::GetFlag(FLAGS_ssh)) {
    std::cerr << "ssh -R...\n";
    ssh = SshTunnel(dir, bytes);
  } else {
    ssh.note = "skipped (smoke)";
  }
  const bool tls = TlsAvailable();
  std::cerr << "relay (plaintext)...\n";
  RelayResult relay = RunRelay(bytes, /*insecure=*/tls);
  if (!relay.error.empty()) std::cerr << "relay: " << relay.error << "\n";
  RelayResult relay_tls;
  if (tls) {
    std::cerr << "relay (TLS)...\n";
    relay_tls = RunRelay(bytes, /*insecure=*/false);
    if (!relay_tls.error.empty()) std::cerr << "relay TLS: " << relay_tls.error << "\n";
  }

  std::string size = bytes >= (1 << 30) ? absl::StrCat(bytes >> 30, " GiB")
                                        : absl::StrCat(bytes >> 20, " MiB");
  Table table(absl::StrCat("Tunnel throughput, ", size, " per transfer (MB/s = 10^6 B/s)"),
              {"path", "MB/s", "vs raw TCP", "vs bare gRPC", "vs ssh -R", "peak RSS cloud",
               "peak RSS gateway", "peak RSS mfp_sim"});
  auto ssh_ref = [&](double v, bool reverse) {
    double base = reverse ? ssh.reverse_mbps : ssh.forward_mbps;
    return base > 0 && v > 0 ? Ratio(v, base) : "n/a";
  };
  auto ratio = [](double v, double base) { return v > 0 && base > 0 ? Ratio(v, base) : "n/a"; };
  table.AddRow({"raw loopback TCP (socket copy)", Mbps(raw), "1.00x", ratio(raw, grpc_mbps),
                ssh_ref(raw, false), "", "", ""});
  table.AddRow({"bare gRPC bidi stream, 256 KiB chunks", Mbps(grpc_mbps), ratio(grpc_mbps, raw),
                "1.00x", ssh_ref(grpc_mbps, false), "", "", ""});
  table.AddRow({"disk: write + fsync, same file system (a scan does it twice)",
                Mbps(disk_mbps), ratio(disk_mbps, raw), ratio(disk_mbps, grpc_mbps),
                ssh_ref(disk_mbps, true), "", "", ""});
  if (ssh.forward_mbps > 0) {
    table.AddRow({"ssh -R aes128-gcm, into the tunnel", Mbps(ssh.forward_mbps),
                  ratio(ssh.forward_mbps, raw), ratio(ssh.forward_mbps, grpc_mbps), "1.00x", "", "",
                  ""});
    table.AddRow({"ssh -R aes128-gcm, out of the tunnel", Mbps(ssh.reverse_mbps),
                  ratio(ssh.reverse_mbps, raw), ratio(ssh.reverse_mbps, grpc_mbps), "1.00x", "", "",
                  ""});
  } else {
    table.AddRow({"ssh -R aes128-gcm", ssh.note, "", "", "", "", "", ""});
  }
  auto peaks = [](const ProcPeaks& p) -> std::vector<std::string> {
    return {p.cloud ? MiB(p.cloud) : "", p.gateway ? MiB(p.gateway) : "",
            p.mfp_sim ? MiB(p.mfp_sim) : ""};
  };
  auto relay_row = [&](const std::string& name, double v, bool reverse, const ProcPeaks* p) {
    std::vector<std::string> row = {name, Mbps(v), ratio(v, raw), ratio(v, grpc_mbps),
                                    ssh_ref(v, reverse)};
    std::vector<std::string> extra = p ? peaks(*p) : std::vector<std::string>{"", "", ""};
    row.insert(row.end(), extra.begin(), extra.end());
    table.AddRow(row);
  };
  auto relay_rows = [&](const RelayResult& r, const std::string& mode) {
    relay_row("relay print, " + mode + ": device first->last byte", r.print_device_mbps, false,
              &r.print_peaks);
    relay_row("relay print, " + mode + ": accepted->DONE", r.print_e2e_mbps, false, nullptr);
    relay_row("relay scan, " + mode + ": panel->stored in cloud", r.scan_e2e_mbps, true,
              &r.scan_peaks);
    relay_row("  scan leg device->gateway spool (fsync)", r.scan_spool_mbps, true, nullptr);
    relay_row("  scan leg gateway spool->cloud (fsync)", r.scan_upload_mbps, true, nullptr);
  };
  relay_rows(relay, "plaintext");
  if (tls) {
    relay_rows(relay_tls, "TLS");
  } else {
    table.AddRow({"relay print/scan, TLS", "n/a (TLS not yet available)", "", "", "", "", "", ""});
  }

  Table bars("Tunnel throughput: the bar", {"criterion", "figure", "bar", "verdict"});
  double plain = relay.print_device_mbps;
  bars.AddRow({"relay print (plaintext) / raw TCP", ratio(plain, raw), ">= 0.50x",
               plain > 0 && raw > 0 && plain / raw >= 0.5 ? "met" : "missed"});
  bars.AddRow({"relay scan (plaintext, end to end) / raw TCP", ratio(relay.scan_e2e_mbps, raw),
               ">= 0.50x",
               relay.scan_e2e_mbps > 0 && raw > 0 && relay.scan_e2e_mbps / raw >= 0.5 ? "met"
                                                                                       : "missed"});
  if (tls) {
    double t = relay_tls.print_device_mbps, base = ssh.forward_mbps;
    bars.AddRow({"relay print with TLS / ssh -R (into the tunnel)", ratio(t, base), ">= 3x",
                 t > 0 && base > 0 && t / base >= 3 ? "met" : (base > 0 ? "missed" : "no ssh figure")});
    double u = relay_tls.scan_e2e_mbps, ubase = ssh.reverse_mbps;
    bars.AddRow({"relay scan with TLS / ssh -R (out of the tunnel)", ratio(u, ubase), ">= 3x",
                 u > 0 && ubase > 0 && u / ubase >= 3 ? "met" : (ubase > 0 ? "missed" : "no ssh figure")});
  } else {
    bars.AddRow({"relay with TLS / ssh -R", "n/a (TLS not yet available)", ">= 3x", "not measured"});
  }
  int64_t max_peak = std::max({relay.print_peaks.cloud, relay.print_peaks.gateway,
                               relay.scan_peaks.cloud, relay.scan_peaks.gateway,
                               relay_tls.print_peaks.cloud, relay_tls.print_peaks.gateway,
                               relay_tls.scan_peaks.cloud, relay_tls.scan_peaks.gateway});
  bars.AddRow({"peak RSS of gateway and cloud_server during a transfer", MiB(max_peak), "< 64 MiB",
               max_peak > 0 && max_peak < 64 * 1024 * 1024 ? "met" : "missed"});
  Table cpu("Tunnel: CPU seconds per process during each relay transfer (where the time goes)",
            {"transfer", "cloud_server", "gateway", "mfp_sim"});
  cpu.AddRow({"print", Fixed(relay.print_peaks.cloud_cpu, 2), Fixed(relay.print_peaks.gateway_cpu, 2),
              Fixed(relay.print_peaks.mfp_sim_cpu, 2)});
  cpu.AddRow({"scan", Fixed(relay.scan_peaks.cloud_cpu, 2), Fixed(relay.scan_peaks.gateway_cpu, 2),
              Fixed(relay.scan_peaks.mfp_sim_cpu, 2)});
  if (tls) {
    cpu.AddRow({"print (TLS)", Fixed(relay_tls.print_peaks.cloud_cpu, 2),
                Fixed(relay_tls.print_peaks.gateway_cpu, 2), Fixed(relay_tls.print_peaks.mfp_sim_cpu, 2)});
    cpu.AddRow({"scan (TLS)", Fixed(relay_tls.scan_peaks.cloud_cpu, 2),
                Fixed(relay_tls.scan_peaks.gateway_cpu, 2), Fixed(relay_tls.scan_peaks.mfp_sim_cpu, 2)});
  }
  table.Print();
  cpu.Print();
  bars.Print();
  std::vector<std::string> notes = {
      "Every row moves the same number of bytes on the same machine in the same run. Relay "
      "print MB/s is measured at the device (mfp_sim's first and last byte timestamps); the "
      "scan is end to end and includes two durable writes (gateway spool and cloud store, "
      "each fsync'd), which the baselines do not do.",
      "Peak RSS = VmHWM, reset (clear_refs 5) before each transfer."};
  if (!relay.error.empty()) notes.push_back("relay error: " + relay.error);
  if (!relay_tls.error.empty()) notes.push_back("relay TLS error: " + relay_tls.error);
  if (!ssh.note.empty() && ssh.forward_mbps <= 0) notes.push_back("ssh: " + ssh.note);
  AppendToPerformanceDoc(absl::GetFlag(FLAGS_doc), "tunnel_bench", smoke ? "smoke" : "full",
                         {table, cpu, bars}, notes);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return relay.error.empty() && relay_tls.error.empty() && raw > 0 && grpc_mbps > 0 ? 0 : 1;
}

}  // namespace
}  // namespace relay::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("tunnel_bench: bulk throughput of the relay against baselines");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (absl::GetFlag(FLAGS_role) == "grpc_sink") return relay::bench::RunGrpcSink();
  return relay::bench::Run();
}
