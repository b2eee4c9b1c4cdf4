#ifndef RELAY_INTEGRATION_TESTS_RELAY_STACK_H_
#define RELAY_INTEGRATION_TESTS_RELAY_STACK_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "integration_tests/child_process.h"
#include "relay/v1/cloud.grpc.pb.h"
#include "relay/v1/lan.grpc.pb.h"

namespace grpc {
class ClientContext;
}

namespace relay::integration {

struct StackOptions {
  int devices = 7;
  int id_base = 201;
  int nmax = 5;
  std::string mode = "swap";  // swap | margin
  int margin = 2;
  std::string after_job = "revert";  // revert | keep
  std::string user_after_job;        // e.g. "bob=keep"
  absl::Duration print_time = absl::Milliseconds(200);
  absl::Duration wait_timeout = absl::Seconds(60);
  absl::Duration discovery_interval = absl::Seconds(1);
  std::string self_device;
  // Extra flags for the gateway (e.g. "--hold_timeout=3s").
  std::vector<std::string> gateway_args;
  // Extra flags for the management server (e.g. "--device_info_max_age=1s").
  std::vector<std::string> mgmt_args;
  // Extra flags for the cloud server (e.g. "--max_document_bytes=1048576").
  std::vector<std::string> cloud_args;
  // Extra flags for mfp_sim serve (e.g. "--keep_printed=false").
  std::vector<std::string> sim_args;
  // Plaintext everywhere (--insecure on every service, plaintext API
  // channel): benchmarks compare it with TLS.
  bool insecure = false;
};

// TLS is on, as in production: Start() creates a CA and certificates in
// <dir>/certs (tools/make_dev_certs.sh), approves the gateway gw-test-1
// (`mgmt_server gateways approve`) and creates the users alice, bob and
// mallory (`cloud_server users add`, every gateway) whose bearer tokens the
// API helpers send.

// The whole topology on loopback, every process real and started on port 0:
// mgmt_server, cloud_server, mfp_sim (a LAN of simulated MFPs) and one
// gateway. Each process logs to <dir>/<name>.log; the directory is kept when
// a test fails (its path is printed) and removed otherwise.
class RelayStack {
 public:
  static absl::StatusOr<std::unique_ptr<RelayStack>> Start(const StackOptions& options);
  ~RelayStack();

  absl::Status StartMgmt();
  absl::Status StartCloud();
  absl::Status StartSim();
  absl::Status StartGateway();
  // SIGTERM and wait.
  void StopMgmt() { mgmt_->Stop(); }
  void StopGateway() { gateway_->Stop(); }
  void StopCloud() { cloud_->Stop(); }
  void KillGateway() { gateway_->Kill(); }
  void KillCloud() { cloud_->Kill(); }

  // --- Cloud API, acting for `user`. ---
  absl::StatusOr<relay::v1::Document> Upload(const std::string& content,
                                             const std::string& name = "doc.pdf",
                                             const std::string& user = "alice");
  absl::StatusOr<relay::v1::Job> SubmitPrint(const std::string& document_id,
                                             const std::string& device_id,
                                             const std::string& user = "alice");
  absl::StatusOr<relay::v1::Job> GetJob(const std::string& job_id,
                                        const std::string& user = "alice");
  // Follows WatchJob until the job is DONE or FAILED; returns every state seen
  // in order (the final job is in *final_job).
  absl::StatusOr<std::vector<relay::v1::JobState>> WatchToEnd(
      const std::string& job_id, relay::v1::Job* final_job,
      absl::Duration timeout = absl::Seconds(60), const std::string& user = "alice");
  // Follows WatchJob until the job reaches `state` (or ends).
  absl::StatusOr<relay::v1::Job> WaitForState(const std::string& job_id,
                                              relay::v1::JobState state,
                                              absl::Duration timeout = absl::Seconds(60),
                                              const std::string& user = "alice");
  absl::StatusOr<std::vector<relay::v1::Printer>> Printers(const std::string& user = "alice");
  // Waits until the cloud's printer list satisfies `predicate`.
  absl::Status WaitForPrinters(
      const std::function<bool(const std::vector<relay::v1::Printer>&)>& predicate,
      absl::Duration timeout = absl::Seconds(30));
  // Registered device ids in the cloud's copy of the device list, sorted.
  absl::StatusOr<std::vector<std::string>> RegisteredDevices();
  absl::StatusOr<std::vector<relay::v1::Scan>> Scans(const std::string& user = "alice");
  absl::StatusOr<std::string> DownloadScan(const std::string& scan_id,
                                           const std::string& user = "alice");

  // --- The simulator's panel. ---
  absl::StatusOr<relay::v1::StartScanResponse> StartScan(const std::string& device_id,
                                                         const std::string& user,
                                                         int pages, int64_t page_bytes);
  absl::StatusOr<std::vector<relay::v1::PrintedJob>> Printed(const std::string& device_id);
  absl::Status AddDevice(const std::string& device_id);

  // --- Related designs (issue 3). ---
  // Upload with a chosen MIME type.
  absl::StatusOr<relay::v1::Document> UploadAs(const std::string& content,
                                               const std::string& name,
                                               const std::string& content_type,
                                               const std::string& user = "alice");
  // SubmitPrint with every field of the request (options...).
  absl::StatusOr<relay::v1::Job> SubmitPrintRequest(
      const relay::v1::SubmitPrintRequest& request, const std::string& user = "alice");
  // The device leaves the simulated LAN.
  absl::Status RemoveDevice(const std::string& device_id);
  // The simulator's SetDeviceState: PAPER_OUT, TONER_EMPTY, OFFLINE, BUSY, IDLE.
  absl::Status SetDeviceState(const std::string& device_id, relay::v1::DeviceStatus status);
  // Boxes at the simulator's panel.
  absl::StatusOr<relay::v1::BoxDocument> PutBoxDocument(const std::string& device_id,
                                                        const std::string& box_id,
                                                        const std::string& name,
                                                        const std::string& content);
  absl::Status SetBoxConditions(const relay::v1::BoxAccessCondition& condition);
  absl::StatusOr<std::vector<relay::v1::BoxRequest>> BoxAccesses(
      const std::string& device_id);
  // Related design 1: the main gateway's LAN address (GatewayLan), and a
  // further gateway of the same LAN (lan-default) logging to <dir>/<name>.log:
  // its certificate is made and approved first; `args` are added to the
  // common ones (--mgmt, --cloud, --tls_dir, --state_dir=<dir>/<name>,
  // --lan_listen/--wol_listen on port 0, no probing unless given).
  std::string gateway_lan_address() const { return "127.0.0.1:" + gateway_lan_port_; }
  absl::Status StartExtraGateway(const std::string& name, const std::string& gateway_id,
                                 const std::vector<std::string>& args);
  // CloudApi.AccessBox acting for `user`.
  absl::StatusOr<relay::v1::BoxResult> AccessBox(const relay::v1::BoxAccessRequest& request,
                                                 const std::string& user = "alice");

  // Lines of a process's log containing `needle`.
  std::vector<std::string> LogLines(const std::string& process, const std::string& needle);
  const std::string& dir() const { return dir_; }
  std::string cloud_address() const { return "127.0.0.1:" + cloud_port_; }
  std::string mgmt_address() const { return "127.0.0.1:" + mgmt_port_; }
  std::string sim_address() const { return "127.0.0.1:" + sim_port_; }
  void KeepDirectory() { keep_dir_ = true; }

  // --- Security (TLS, enrolment, users). ---
  std::string tls_dir() const { return dir_ + "/certs"; }
  // Runs a program of the build (bin/<binary>) to completion; returns its
  // exit code, and its stdout in *output if given.
  int RunTool(const std::string& binary, const std::vector<std::string>& args,
              std::string* output = nullptr);
  // tools/make_dev_certs.sh into tls_dir() (keeps what exists).
  absl::Status MakeCertificates(const std::vector<std::string>& gateway_ids);
  // `mgmt_server gateways approve|revoke ID` on this stack's management db.
  absl::Status ApproveGateway(const std::string& gateway_id);
  absl::Status RevokeGateway(const std::string& gateway_id);
  // `cloud_server users add NAME --gateways=...`; remembers the token.
  absl::StatusOr<std::string> AddUser(const std::string& name, const std::string& gateways);
  // The bearer token of a user made by AddUser ("" if none).
  std::string UserToken(const std::string& user) const;
  // Process id of "mgmt", "cloud", "mfp_sim" or "gateway" (0 if not running),
  // for benchmarks that read /proc.
  pid_t pid(const std::string& process) const {
    const ChildProcess* child = process == "mgmt"      ? mgmt_.get()
                                : process == "cloud"   ? cloud_.get()
                                : process == "mfp_sim" ? sim_.get()
                                : process == "gateway" ? gateway_.get()
                                                       : nullptr;
    return child != nullptr ? child->pid() : 0;
  }

 private:
  explicit RelayStack(StackOptions options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  // Deadline plus "authorization: Bearer <token of user>" (none for a user
  // without a token).
  void SetUser(grpc::ClientContext* context, const std::string& user,
               absl::Duration timeout = absl::Seconds(30)) const;
  absl::StatusOr<std::map<std::string, std::string>> Launch(
      const std::string& name, const std::string& binary,
      const std::vector<std::string>& args, std::unique_ptr<ChildProcess>* child);

  StackOptions options_;
  std::string dir_;
  bool keep_dir_ = false;
  std::string mgmt_port_ = "0";
  std::string cloud_port_ = "0";
  std::string sim_port_ = "0";
  std::string discovery_port_;
  std::string gateway_lan_port_ = "0";
  std::unique_ptr<ChildProcess> mgmt_, cloud_, sim_, gateway_;
  std::vector<std::unique_ptr<ChildProcess>> extra_gateways_;
  std::map<std::string, std::string> user_tokens_;
  std::unique_ptr<relay::v1::CloudApi::Stub> cloud_api_;
  std::unique_ptr<relay::v1::SimControl::Stub> sim_control_;
};

// A deterministic pseudo-random document of `size` bytes.
std::string MakeDocument(size_t size, uint32_t seed);

}  // namespace relay::integration

#endif  // RELAY_INTEGRATION_TESTS_RELAY_STACK_H_
