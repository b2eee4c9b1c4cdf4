#include "integration_tests/relay_stack.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_util.h"
#include "common/tls_config.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

#ifndef RELAY_BIN_DIR
#error "RELAY_BIN_DIR must name the build's binary folder"
#endif
#ifndef RELAY_SOURCE_DIR
#error "RELAY_SOURCE_DIR must name the repository"
#endif

namespace relay::integration {
namespace {

using relay::v1::Job;
using relay::v1::JobState;

std::string Bin(const std::string& name) {
  return absl::StrCat(RELAY_BIN_DIR, "/", name);
}

std::string DurationFlag(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Milliseconds(d), "ms");
}

// A TCP port that is free now. Used only where two processes must know each
// other's address before either starts (the simulator sends scans to the
// gateway; the gateway probes the simulator).
std::string FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return std::to_string(ntohs(addr.sin_port));
}

// The channel of the API helpers: TLS, the stack's CA.
std::shared_ptr<grpc::Channel> SecureChannel(const std::string& address,
                                             const std::string& tls_dir) {
  absl::StatusOr<std::shared_ptr<const TlsConfig>> tls = TlsConfig::Load(tls_dir, "");
  return grpc::CreateChannel(address, tls.ok() ? (*tls)->ChannelCredentials()
                                               : grpc::InsecureChannelCredentials());
}

std::string ShellQuote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

bool IsTerminal(JobState state) {
  return state == relay::v1::JOB_STATE_DONE || state == relay::v1::JOB_STATE_FAILED;
}

}  // namespace

std::string MakeDocument(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(random() & 0xff);
  return data;
}

absl::StatusOr<std::unique_ptr<RelayStack>> RelayStack::Start(
    const StackOptions& options) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "relay-it-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  std::unique_ptr<RelayStack> stack(new RelayStack(options, tmpl));
  // The management server and the cloud server call each other; so do the
  // gateway and the simulator. Those two listeners get their ports up front.
  stack->cloud_port_ = FreePort();
  stack->gateway_lan_port_ = FreePort();
  RETURN_IF_ERROR(stack->MakeCertificates({"gw-test-1"}));
  RETURN_IF_ERROR(stack->ApproveGateway("gw-test-1"));
  for (const char* user : {"alice", "bob", "mallory"}) {
    RETURN_IF_ERROR(stack->AddUser(user, "*").status());
  }
  RETURN_IF_ERROR(stack->StartMgmt());
  RETURN_IF_ERROR(stack->StartCloud());
  RETURN_IF_ERROR(stack->StartSim());
  RETURN_IF_ERROR(stack->StartGateway());
  return stack;
}

RelayStack::~RelayStack() {
  cloud_api_.reset();
  sim_control_.reset();
  for (auto& extra : extra_gateways_) extra->Stop();
  for (auto* child : {&gateway_, &sim_, &cloud_, &mgmt_}) {
    if (*child != nullptr) (*child)->Stop();
  }
  if (!keep_dir_ && std::getenv("RELAY_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  } else {
    std::fprintf(stderr, "test logs kept in %s\n", dir_.c_str());
  }
}

absl::StatusOr<std::map<std::string, std::string>> RelayStack::Launch(
    const std::string& name, const std::string& binary,
    const std::vector<std::string>& args, std::unique_ptr<ChildProcess>* child) {
  std::string ready = absl::StrCat(dir_, "/", name, ".ready");
  std::filesystem::remove(ready);
  std::vector<std::string> all_args = args;
  all_args.push_back("--ready_file=" + ready);
  ASSIGN_OR_RETURN(*child, ChildProcess::Start(binary, all_args,
                                               absl::StrCat(dir_, "/", name, ".log")));
  return AwaitReadyFile(ready, child->get(), absl::Seconds(30));
}

absl::Status RelayStack::StartMgmt() {
  std::vector<std::string> args = {"--listen=127.0.0.1:" + mgmt_port_,
                                   "--cloud=127.0.0.1:" + cloud_port_,
                                   "--db=" + dir_ + "/mgmt.db",
                                   "--tls_dir=" + tls_dir()};
  if (options_.insecure) args.push_back("--insecure");
  for (const std::string& arg : options_.mgmt_args) args.push_back(arg);
  ASSIGN_OR_RETURN(auto ready, Launch("mgmt", Bin("mgmt_server"), args, &mgmt_));
  mgmt_port_ = ready["grpc_port"];
  return absl::OkStatus();
}

absl::Status RelayStack::StartCloud() {
  std::vector<std::string> args = {"--listen=127.0.0.1:" + cloud_port_,
                                   "--mgmt=127.0.0.1:" + mgmt_port_,
                                   "--data_dir=" + dir_ + "/cloud",
                                   "--tls_dir=" + tls_dir()};
  if (options_.insecure) args.push_back("--insecure");
  for (const std::string& arg : options_.cloud_args) args.push_back(arg);
  ASSIGN_OR_RETURN(auto ready, Launch("cloud", Bin("cloud_server"), args, &cloud_));
  cloud_port_ = ready["grpc_port"];
  if (cloud_api_ == nullptr) {
    cloud_api_ = relay::v1::CloudApi::NewStub(
        options_.insecure
            ? grpc::CreateChannel(cloud_address(), grpc::InsecureChannelCredentials())
            : SecureChannel(cloud_address(), tls_dir()));
  }
  return absl::OkStatus();
}

absl::Status RelayStack::StartSim() {
  std::vector<std::string> args = {
      "serve", "--listen=127.0.0.1:" + sim_port_,
      "--discovery_listen=127.0.0.1:" + (discovery_port_.empty() ? "0" : discovery_port_),
      "--gateway_lan=127.0.0.1:" + gateway_lan_port_,
      absl::StrCat("--devices=", options_.devices),
      absl::StrCat("--id_base=", options_.id_base),
      "--print_time=" + DurationFlag(options_.print_time),
      "--out_dir=" + dir_ + "/printed"};
  args.insert(args.end(), options_.sim_args.begin(), options_.sim_args.end());
  ASSIGN_OR_RETURN(auto ready, Launch("mfp_sim", Bin("mfp_sim"), args, &sim_));
  sim_port_ = ready["grpc_port"];
  discovery_port_ = ready["discovery_port"];
  if (sim_control_ == nullptr) {
    sim_control_ = relay::v1::SimControl::NewStub(
        grpc::CreateChannel(sim_address(), grpc::InsecureChannelCredentials()));
  }
  return absl::OkStatus();
}

absl::Status RelayStack::StartGateway() {
  std::vector<std::string> args = {
      "--mgmt=" + mgmt_address(),
      "--cloud=" + cloud_address(),
      "--lan_listen=127.0.0.1:" + gateway_lan_port_,
      "--probe_targets=127.0.0.1:" + discovery_port_,
      "--state_dir=" + dir_ + "/gateway",
      "--gateway_id=gw-test-1",
      "--tls_dir=" + tls_dir(),
      absl::StrCat("--nmax=", options_.nmax),
      "--mode=" + options_.mode,
      absl::StrCat("--margin=", options_.margin),
      "--after_job=" + options_.after_job,
      "--wait_timeout=" + DurationFlag(options_.wait_timeout),
      "--discovery_interval=" + DurationFlag(options_.discovery_interval),
      "--keepalive_time=2s",
      // Two gateways (and parallel tests) must not share the default port.
      "--wol_listen=127.0.0.1:0",
  };
  if (!options_.user_after_job.empty()) {
    args.push_back("--user_after_job=" + options_.user_after_job);
  }
  if (!options_.self_device.empty()) args.push_back("--self_device=" + options_.self_device);
  if (options_.insecure) args.push_back("--insecure");
  for (const std::string& arg : options_.gateway_args) args.push_back(arg);
  ASSIGN_OR_RETURN(auto ready, Launch("gateway", Bin("gateway"), args, &gateway_));
  return absl::OkStatus();
}

absl::Status RelayStack::StartExtraGateway(const std::string& name,
                                           const std::string& gateway_id,
                                           const std::vector<std::string>& args) {
  RETURN_IF_ERROR(MakeCertificates({gateway_id}));
  RETURN_IF_ERROR(ApproveGateway(gateway_id));
  std::vector<std::string> all = {
      "--mgmt=" + mgmt_address(),
      "--cloud=" + cloud_address(),
      "--lan_listen=127.0.0.1:0",
      "--wol_listen=127.0.0.1:0",
      "--probe_targets=",
      "--state_dir=" + dir_ + "/" + name,
      "--gateway_id=" + gateway_id,
      "--tls_dir=" + tls_dir(),
      "--keepalive_time=2s",
  };
  if (options_.insecure) all.push_back("--insecure");
  for (const std::string& arg : args) all.push_back(arg);
  std::unique_ptr<ChildProcess> child;
  ASSIGN_OR_RETURN(auto ready, Launch(name, Bin("gateway"), all, &child));
  extra_gateways_.push_back(std::move(child));
  return absl::OkStatus();
}

absl::StatusOr<relay::v1::Document> RelayStack::Upload(const std::string& content,
                                                       const std::string& name,
                                                       const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user, absl::Seconds(120));
  relay::v1::Document document;
  auto writer = cloud_api_->UploadDocument(&context, &document);
  relay::v1::UploadDocumentRequest request;
  request.mutable_metadata()->set_name(name);
  request.mutable_metadata()->set_content_type("application/pdf");
  writer->Write(request);
  constexpr size_t kChunk = 256 * 1024;
  for (size_t offset = 0; offset < content.size(); offset += kChunk) {
    request.set_data(content.substr(offset, kChunk));
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  RETURN_IF_ERROR(ToAbslStatus(writer->Finish()));
  return document;
}

absl::StatusOr<Job> RelayStack::SubmitPrint(const std::string& document_id,
                                            const std::string& device_id,
                                            const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  relay::v1::SubmitPrintRequest request;
  request.set_document_id(document_id);
  request.set_device_id(device_id);
  Job job;
  RETURN_IF_ERROR(ToAbslStatus(cloud_api_->SubmitPrint(&context, request, &job)));
  return job;
}

absl::StatusOr<Job> RelayStack::GetJob(const std::string& job_id,
                                       const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  relay::v1::GetJobRequest request;
  request.set_job_id(job_id);
  Job job;
  RETURN_IF_ERROR(ToAbslStatus(cloud_api_->GetJob(&context, request, &job)));
  return job;
}

absl::StatusOr<std::vector<JobState>> RelayStack::WatchToEnd(const std::string& job_id,
                                                             Job* final_job,
                                                             absl::Duration timeout,
                                                             const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user, timeout);
  relay::v1::GetJobRequest request;
  request.set_job_id(job_id);
  auto reader = cloud_api_->WatchJob(&context, request);
  std::vector<JobState> states;
  Job job;
  while (reader->Read(&job)) {
    if (states.empty() || states.back() != job.state()) states.push_back(job.state());
    *final_job = job;
    if (IsTerminal(job.state())) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (states.empty() || !IsTerminal(states.back())) {
    return absl::DeadlineExceededError(absl::StrCat(
        "job ", job_id, " did not end: ", status.error_message(), "; last state ",
        states.empty() ? "none" : relay::v1::JobState_Name(states.back())));
  }
  return states;
}

absl::StatusOr<Job> RelayStack::WaitForState(const std::string& job_id, JobState state,
                                             absl::Duration timeout,
                                             const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user, timeout);
  relay::v1::GetJobRequest request;
  request.set_job_id(job_id);
  auto reader = cloud_api_->WatchJob(&context, request);
  Job job;
  bool reached = false;
  while (reader->Read(&job)) {
    if (job.state() == state) {
      reached = true;
      context.TryCancel();
      break;
    }
    if (IsTerminal(job.state())) break;
  }
  reader->Finish();
  if (!reached) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " never reached ", relay::v1::JobState_Name(state),
                     "; last ", relay::v1::JobState_Name(job.state()), " ", job.reason()));
  }
  return job;
}

absl::StatusOr<std::vector<relay::v1::Printer>> RelayStack::Printers(
    const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  relay::v1::ListPrintersResponse response;
  RETURN_IF_ERROR(ToAbslStatus(
      cloud_api_->ListPrinters(&context, relay::v1::ListPrintersRequest(), &response)));
  return std::vector<relay::v1::Printer>(response.printers().begin(),
                                         response.printers().end());
}

absl::Status RelayStack::WaitForPrinters(
    const std::function<bool(const std::vector<relay::v1::Printer>&)>& predicate,
    absl::Duration timeout) {
  std::vector<relay::v1::Printer> last;
  bool ok = WaitUntil(
      [&] {
        auto printers = Printers();
        if (!printers.ok()) return false;
        last = *printers;
        return predicate(last);
      },
      timeout);
  if (ok) return absl::OkStatus();
  std::string seen;
  for (const auto& p : last) {
    absl::StrAppend(&seen, p.device().device_id(), p.device().registered() ? "(R) " : " ");
  }
  return absl::DeadlineExceededError(absl::StrCat("printer list never matched; last: ", seen));
}

absl::StatusOr<std::vector<std::string>> RelayStack::RegisteredDevices() {
  ASSIGN_OR_RETURN(auto printers, Printers());
  std::vector<std::string> ids;
  for (const auto& p : printers) {
    if (p.device().registered()) ids.push_back(p.device().device_id());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<std::vector<relay::v1::Scan>> RelayStack::Scans(const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  relay::v1::ListScansResponse response;
  RETURN_IF_ERROR(ToAbslStatus(
      cloud_api_->ListScans(&context, relay::v1::ListScansRequest(), &response)));
  return std::vector<relay::v1::Scan>(response.scans().begin(), response.scans().end());
}

absl::StatusOr<std::string> RelayStack::DownloadScan(const std::string& scan_id,
                                                     const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  relay::v1::DownloadScanRequest request;
  request.set_scan_id(scan_id);
  auto reader = cloud_api_->DownloadScan(&context, request);
  std::string data;
  relay::v1::DataChunk chunk;
  while (reader->Read(&chunk)) data += chunk.data();
  RETURN_IF_ERROR(ToAbslStatus(reader->Finish()));
  return data;
}

absl::StatusOr<relay::v1::StartScanResponse> RelayStack::StartScan(
    const std::string& device_id, const std::string& user, int pages,
    int64_t page_bytes) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  relay::v1::StartScanRequest request;
  request.set_device_id(device_id);
  request.set_user_id(user);
  request.set_pages(pages);
  request.set_page_bytes(page_bytes);
  relay::v1::StartScanResponse response;
  RETURN_IF_ERROR(ToAbslStatus(sim_control_->StartScan(&context, request, &response)));
  return response;
}

absl::StatusOr<std::vector<relay::v1::PrintedJob>> RelayStack::Printed(
    const std::string& device_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::DeviceRef request;
  request.set_device_id(device_id);
  relay::v1::ListPrintedResponse response;
  RETURN_IF_ERROR(ToAbslStatus(sim_control_->ListPrinted(&context, request, &response)));
  return std::vector<relay::v1::PrintedJob>(response.jobs().begin(), response.jobs().end());
}

absl::Status RelayStack::AddDevice(const std::string& device_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::AddSimDeviceRequest request;
  request.set_device_id(device_id);
  request.set_name("New " + device_id);
  request.set_model("SimMFP C300");
  request.mutable_capabilities()->set_print(true);
  request.mutable_capabilities()->set_scan(true);
  relay::v1::DeviceInfo info;
  return ToAbslStatus(sim_control_->AddDevice(&context, request, &info));
}

std::vector<std::string> RelayStack::LogLines(const std::string& process,
                                              const std::string& needle) {
  std::vector<std::string> lines;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(absl::StrCat(dir_, "/", process, ".log")), '\n')) {
    if (absl::StrContains(line, needle)) lines.emplace_back(line);
  }
  return lines;
}

}  // namespace relay::integration

namespace relay::integration {

absl::StatusOr<relay::v1::Document> RelayStack::UploadAs(const std::string& content,
                                                         const std::string& name,
                                                         const std::string& content_type,
                                                         const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user, absl::Seconds(120));
  relay::v1::Document document;
  auto writer = cloud_api_->UploadDocument(&context, &document);
  relay::v1::UploadDocumentRequest request;
  request.mutable_metadata()->set_name(name);
  request.mutable_metadata()->set_content_type(content_type);
  writer->Write(request);
  constexpr size_t kChunk = 256 * 1024;
  for (size_t offset = 0; offset < content.size(); offset += kChunk) {
    request.set_data(content.substr(offset, kChunk));
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  RETURN_IF_ERROR(ToAbslStatus(writer->Finish()));
  return document;
}

absl::StatusOr<Job> RelayStack::SubmitPrintRequest(
    const relay::v1::SubmitPrintRequest& request, const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user);
  Job job;
  RETURN_IF_ERROR(ToAbslStatus(cloud_api_->SubmitPrint(&context, request, &job)));
  return job;
}

absl::Status RelayStack::RemoveDevice(const std::string& device_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::DeviceRef request;
  request.set_device_id(device_id);
  relay::v1::DeviceInfo info;
  return ToAbslStatus(sim_control_->RemoveDevice(&context, request, &info));
}

absl::Status RelayStack::SetDeviceState(const std::string& device_id,
                                        relay::v1::DeviceStatus status) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::SetDeviceStateRequest request;
  request.set_device_id(device_id);
  request.set_status(status);
  relay::v1::DeviceInfo info;
  return ToAbslStatus(sim_control_->SetDeviceState(&context, request, &info));
}

absl::StatusOr<relay::v1::BoxDocument> RelayStack::PutBoxDocument(
    const std::string& device_id, const std::string& box_id, const std::string& name,
    const std::string& content) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::PutBoxDocumentRequest request;
  request.set_device_id(device_id);
  request.set_box_id(box_id);
  request.set_name(name);
  request.set_content(content);
  relay::v1::BoxDocument document;
  RETURN_IF_ERROR(
      ToAbslStatus(sim_control_->PutBoxDocument(&context, request, &document)));
  return document;
}

absl::Status RelayStack::SetBoxConditions(const relay::v1::BoxAccessCondition& condition) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::SetBoxConditionsResponse response;
  return ToAbslStatus(sim_control_->SetBoxConditions(&context, condition, &response));
}

absl::StatusOr<std::vector<relay::v1::BoxRequest>> RelayStack::BoxAccesses(
    const std::string& device_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  relay::v1::DeviceRef request;
  request.set_device_id(device_id);
  relay::v1::ListBoxAccessesResponse response;
  RETURN_IF_ERROR(ToAbslStatus(sim_control_->ListBoxAccesses(&context, request, &response)));
  return std::vector<relay::v1::BoxRequest>(response.requests().begin(),
                                            response.requests().end());
}

absl::StatusOr<relay::v1::BoxResult> RelayStack::AccessBox(
    const relay::v1::BoxAccessRequest& request, const std::string& user) {
  grpc::ClientContext context;
  SetUser(&context, user, absl::Seconds(60));
  relay::v1::BoxResult result;
  RETURN_IF_ERROR(ToAbslStatus(cloud_api_->AccessBox(&context, request, &result)));
  return result;
}

}  // namespace relay::integration

namespace relay::integration {

void RelayStack::SetUser(grpc::ClientContext* context, const std::string& user,
                         absl::Duration timeout) const {
  std::string token = UserToken(user);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(timeout));
}

int RelayStack::RunTool(const std::string& binary, const std::vector<std::string>& args,
                        std::string* output) {
  std::string command = ShellQuote(binary.find('/') == std::string::npos ? Bin(binary)
                                                                         : binary);
  for (const std::string& arg : args) absl::StrAppend(&command, " ", ShellQuote(arg));
  std::string out_file = absl::StrCat(dir_, "/tool.out");
  absl::StrAppend(&command, " >", ShellQuote(out_file), " 2>>",
                  ShellQuote(dir_ + "/tools.log"));
  int status = std::system(command.c_str());
  if (output != nullptr) *output = ReadFileOrEmpty(out_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

absl::Status RelayStack::MakeCertificates(const std::vector<std::string>& gateway_ids) {
  std::vector<std::string> args = {absl::StrCat(RELAY_SOURCE_DIR, "/tools/make_dev_certs.sh"),
                                   tls_dir()};
  args.insert(args.end(), gateway_ids.begin(), gateway_ids.end());
  if (RunTool("/bin/bash", args) != 0) {
    return absl::InternalError(absl::StrCat("make_dev_certs.sh failed; see ", dir_,
                                            "/tools.log"));
  }
  return absl::OkStatus();
}

absl::Status RelayStack::ApproveGateway(const std::string& gateway_id) {
  if (RunTool("mgmt_server", {"gateways", "approve", gateway_id, "--db=" + dir_ + "/mgmt.db"}) !=
      0) {
    return absl::InternalError(absl::StrCat("cannot approve ", gateway_id));
  }
  return absl::OkStatus();
}

absl::Status RelayStack::RevokeGateway(const std::string& gateway_id) {
  if (RunTool("mgmt_server", {"gateways", "revoke", gateway_id, "--db=" + dir_ + "/mgmt.db"}) !=
      0) {
    return absl::InternalError(absl::StrCat("cannot revoke ", gateway_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RelayStack::AddUser(const std::string& name,
                                                const std::string& gateways) {
  std::string token;
  if (RunTool("cloud_server", {"users", "add", name, "--gateways=" + gateways,
                               "--data_dir=" + dir_ + "/cloud"},
              &token) != 0) {
    return absl::InternalError(absl::StrCat("cannot add user ", name, "; see ", dir_,
                                            "/tools.log"));
  }
  token = std::string(absl::StripAsciiWhitespace(token));
  user_tokens_[name] = token;
  return token;
}

std::string RelayStack::UserToken(const std::string& user) const {
  auto it = user_tokens_.find(user);
  return it == user_tokens_.end() ? "" : it->second;
}

}  // namespace relay::integration
