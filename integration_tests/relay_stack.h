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
};

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

  // Lines of a process's log containing `needle`.
  std::vector<std::string> LogLines(const std::string& process, const std::string& needle);
  const std::string& dir() const { return dir_; }
  std::string cloud_address() const { return "127.0.0.1:" + cloud_port_; }
  std::string mgmt_address() const { return "127.0.0.1:" + mgmt_port_; }
  std::string sim_address() const { return "127.0.0.1:" + sim_port_; }
  void KeepDirectory() { keep_dir_ = true; }

 private:
  explicit RelayStack(StackOptions options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
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
  std::unique_ptr<relay::v1::CloudApi::Stub> cloud_api_;
  std::unique_ptr<relay::v1::SimControl::Stub> sim_control_;
};

// A deterministic pseudo-random document of `size` bytes.
std::string MakeDocument(size_t size, uint32_t seed);

}  // namespace relay::integration

#endif  // RELAY_INTEGRATION_TESTS_RELAY_STACK_H_
