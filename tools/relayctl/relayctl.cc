// relayctl: the command line of the cloud relay's user API (CloudApi).
//
//   relayctl upload report.pdf
//   relayctl printers
//   relayctl print doc-1a2b mfp-207 --wait

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "common/tls_flags.h"
#include "grpcpp/client_context.h"
#include "relay/v1/cloud.grpc.pb.h"
#include "tools/relayctl/table.h"

ABSL_FLAG(std::string, cloud, "127.0.0.1:50061", "address (host:port) of the cloud server");
ABSL_FLAG(std::string, user, "alice",
          "the user to act for: without --token, --token_file or $RELAY_TOKEN, the token "
          "is read from ./demo-data/<user>.token (the demo writes alice's and bob's)");
ABSL_FLAG(std::string, token, "",
          "the user's bearer token (from `cloud_server users add`); beware: visible in "
          "the process list, prefer --token_file or $RELAY_TOKEN");
ABSL_FLAG(std::string, token_file, "", "file holding the user's bearer token");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "deadline of each call (not of `watch` and `print --wait`, which follow a "
          "job until it ends)");
ABSL_FLAG(std::string, name, "", "upload: the document's name (default: the file's name)");
ABSL_FLAG(std::string, content_type, "",
          "upload: the MIME type (default: guessed from the file's extension)");
ABSL_FLAG(bool, wait, false,
          "print: follow the job until it ends; exit 0 if it is DONE, 1 otherwise");
ABSL_FLAG(std::string, client_request_id, "",
          "print: idempotency key; submitting twice with the same key returns the "
          "same job");

ABSL_FLAG(std::string, client_id, "relayctl",
          "box: the external client this request comes from, as the box's access "
          "conditions name clients");

namespace relay::relayctl {
namespace {

// absl's --help prints "relayctl: " before this text.
constexpr char kUsage[] = R"(the command line of the cloud relay's cloud server.

Usage: relayctl [flags] COMMAND [ARGS]

Commands:
  upload FILE [--name N] [--content_type T]   upload a document
  documents                                   list your documents
  printers                                    list every device of every LAN
  print DOCUMENT_ID DEVICE_ID [--wait] [--client_request_id X]
                                              print a document on a device
  jobs                                        list your print jobs
  job JOB_ID                                  show a job and its history
  watch JOB_ID                                follow a job until it ends
  scans                                       list your scans
  download SCAN_ID OUTPUT_FILE                save a scan to a file
  box list DEVICE_ID BOX_ID                   list the documents of a device's box
  box get DEVICE_ID BOX_ID DOC_ID OUTPUT_FILE save a document of a device's box
  box delete DEVICE_ID BOX_ID DOC_ID          delete a document of a device's box
                                              (only as the box's access conditions
                                              allow: --client_id, default relayctl)
  help                                        show this text

Credentials: --token=T, --token_file=F, $RELAY_TOKEN, or else the file
./demo-data/<user>.token (--user, default alice). TLS: the server's certificate
must be signed by --tls_dir/ca.pem (default ./demo-data/certs); --insecure for
a plaintext development server.

Flags: --cloud (default 127.0.0.1:50061), --user, --token, --token_file,
--tls_dir, --insecure, --timeout, and the per-command flags above.
`relayctl --help` lists every flag.
)";

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr size_t kChunkBytes = 256 * 1024;

int Usage(const std::string& problem, bool full = false) {
  std::cerr << "relayctl: " << problem << "\n";
  if (full) {
    std::cerr << "\nrelayctl: " << kUsage;
  } else {
    std::cerr << "Run `relayctl help` for the list of commands.\n";
  }
  return kExitUsage;
}

std::string StateName(relay::v1::JobState state) {
  return std::string(absl::StripPrefix(relay::v1::JobState_Name(state), "JOB_STATE_"));
}

std::string DeviceStatusName(relay::v1::DeviceStatus status) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(relay::v1::DeviceStatus_Name(status), "DEVICE_STATUS_"));
}

std::string FormatUnix(int64_t seconds) {
  if (seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(seconds),
                          absl::LocalTimeZone());
}

std::string FormatMillis(int64_t millis) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixMillis(millis),
                          absl::LocalTimeZone());
}

std::string FormatSize(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  if (bytes < int64_t{1024} * 1024 * 1024) {
    return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024));
  }
  return absl::StrFormat("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
}

std::string GuessContentType(const std::string& path) {
  static const auto* types = new std::map<std::string, std::string>{
      {".pdf", "application/pdf"},  {".ps", "application/postscript"},
      {".txt", "text/plain"},       {".png", "image/png"},
      {".jpg", "image/jpeg"},       {".jpeg", "image/jpeg"},
      {".pwg", "image/pwg-raster"}, {".urf", "image/urf"}};
  std::string ext = absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  auto it = types->find(ext);
  return it != types->end() ? it->second : "application/octet-stream";
}

// Runs commands against one cloud server, as one user.
class Client {
 public:
  Client(std::string address, std::string user, std::string token,
         absl::Duration timeout, std::shared_ptr<const TlsConfig> tls)
      : address_(std::move(address)),
        user_(std::move(user)),
        token_(std::move(token)),
        timeout_(timeout),
        stub_(relay::v1::CloudApi::NewStub(CreateRelayChannel(address_, [&] {
          ChannelOptions options;
          options.tls = std::move(tls);
          return options;
        }()))) {}

  int Upload(const std::string& path);
  int Documents();
  int Printers();
  int Print(const std::string& document_id, const std::string& device_id);
  int Jobs();
  int ShowJob(const std::string& job_id);
  int Watch(const std::string& job_id);
  int Scans();
  int Download(const std::string& scan_id, const std::string& output);
  int Box(const std::vector<std::string>& args);

 private:
  std::unique_ptr<grpc::ClientContext> Context(bool with_deadline = true) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token_);
    if (with_deadline) ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    return ctx;
  }

  // Prints why a call failed; returns the exit code.
  int Fail(absl::string_view what, const grpc::Status& status) {
    switch (status.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
        std::cerr << "relayctl: cannot reach the cloud server at " << address_ << ": "
                  << status.error_message() << "\n";
        break;
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        std::cerr << "relayctl: " << what << ": the cloud server at " << address_
                  << " did not answer within " << absl::FormatDuration(timeout_)
                  << " (see --timeout)\n";
        break;
      case grpc::StatusCode::UNAUTHENTICATED:
        std::cerr << "relayctl: " << what << ": not authenticated: "
                  << status.error_message() << " (see --token, --token_file, $RELAY_TOKEN)\n";
        break;
      default:
        std::cerr << "relayctl: " << what << ": " << status.error_message() << "\n";
    }
    return kExitFailed;
  }

  // Streams a job's changes, printing each history event once. Returns the
  // exit code: 0 if the job ends DONE.
  int Follow(const std::string& job_id, int already_printed);

  std::string address_;
  std::string user_;
  std::string token_;
  absl::Duration timeout_;
  std::unique_ptr<relay::v1::CloudApi::Stub> stub_;
};

int Client::Upload(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open() || std::filesystem::is_directory(path)) {
    std::cerr << "relayctl: cannot read " << path << ": "
              << (std::filesystem::is_directory(path) ? "is a directory"
                                                      : std::strerror(errno))
              << "\n";
    return kExitFailed;
  }
  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) name = std::filesystem::path(path).filename().string();
  std::string type = absl::GetFlag(FLAGS_content_type);
  if (type.empty()) type = GuessContentType(path);

  auto ctx = Context(/*with_deadline=*/false);  // Large files take their time.
  relay::v1::Document document;
  auto writer = stub_->UploadDocument(ctx.get(), &document);
  relay::v1::UploadDocumentRequest metadata;
  metadata.mutable_metadata()->set_name(name);
  metadata.mutable_metadata()->set_content_type(type);
  bool streaming = writer->Write(metadata);
  Sha256 hash;
  std::string buffer(kChunkBytes, '\0');
  while (streaming && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    relay::v1::UploadDocumentRequest part;
    part.set_data(buffer.data(), static_cast<size_t>(got));
    hash.Update(part.data());
    streaming = writer->Write(part);
  }
  if (in.bad()) {
    ctx->TryCancel();
    writer->Finish();
    std::cerr << "relayctl: error while reading " << path << "\n";
    return kExitFailed;
  }
  if (streaming) writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return Fail("upload", status);
  if (streaming && document.sha256_hex() != hash.FinishHex()) {
    std::cerr << "relayctl: upload: the server stored a different checksum than sent\n";
    return kExitFailed;
  }
  std::cout << "uploaded " << document.document_id() << "  " << document.name() << "  "
            << FormatSize(document.size()) << "  sha256 " << document.sha256_hex() << "\n";
  return kExitOk;
}

int Client::Documents() {
  auto ctx = Context();
  relay::v1::ListDocumentsResponse response;
  grpc::Status status = stub_->ListDocuments(ctx.get(), {}, &response);
  if (!status.ok()) return Fail("documents", status);
  if (response.documents().empty()) {
    std::cout << "no documents (upload one with `relayctl upload FILE`)\n";
    return kExitOk;
  }
  Table table({"DOCUMENT", "NAME", "TYPE", "SIZE", "CREATED"});
  for (const auto& d : response.documents()) {
    table.AddRow({d.document_id(), d.name(), d.content_type(), FormatSize(d.size()),
                  FormatUnix(d.created_unix())});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Client::Printers() {
  auto ctx = Context();
  relay::v1::ListPrintersResponse response;
  grpc::Status status = stub_->ListPrinters(ctx.get(), {}, &response);
  if (!status.ok()) return Fail("printers", status);
  if (response.printers().empty()) {
    std::cout << "no printers: no gateway has reported its devices yet\n";
    return kExitOk;
  }
  Table table({"DEVICE", "NAME", "MODEL", "REGISTERED", "GATEWAY", "GATEWAY STATE",
               "STATE", "RELAYING"});
  for (const auto& p : response.printers()) {
    const relay::v1::DeviceInfo& d = p.device();
    table.AddRow({d.device_id(), d.name(), d.model(), d.registered() ? "yes" : "no",
                  p.gateway_id(), p.gateway_online() ? "online" : "offline",
                  DeviceStatusName(d.status()), d.job_in_flight() ? "job" : "-"});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Client::Print(const std::string& document_id, const std::string& device_id) {
  auto ctx = Context();
  relay::v1::SubmitPrintRequest request;
  request.set_document_id(document_id);
  request.set_device_id(device_id);
  request.set_client_request_id(absl::GetFlag(FLAGS_client_request_id));
  relay::v1::Job job;
  grpc::Status status = stub_->SubmitPrint(ctx.get(), request, &job);
  if (!status.ok()) return Fail("print", status);
  std::cout << "job " << job.job_id() << " " << StateName(job.state()) << ": "
            << job.document_name() << " on " << job.device_id() << " via gateway "
            << job.gateway_id() << "\n";
  if (!absl::GetFlag(FLAGS_wait)) return kExitOk;
  return Follow(job.job_id(), 0);
}

int Client::Jobs() {
  auto ctx = Context();
  relay::v1::ListJobsResponse response;
  grpc::Status status = stub_->ListJobs(ctx.get(), {}, &response);
  if (!status.ok()) return Fail("jobs", status);
  if (response.jobs().empty()) {
    std::cout << "no jobs\n";
    return kExitOk;
  }
  Table table({"JOB", "DOCUMENT", "DEVICE", "GATEWAY", "STATE", "UPDATED", "REASON"});
  for (const auto& j : response.jobs()) {
    table.AddRow({j.job_id(), j.document_name(), j.device_id(), j.gateway_id(),
                  StateName(j.state()), FormatUnix(j.updated_unix()), j.reason()});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Client::ShowJob(const std::string& job_id) {
  auto ctx = Context();
  relay::v1::GetJobRequest request;
  request.set_job_id(job_id);
  relay::v1::Job job;
  grpc::Status status = stub_->GetJob(ctx.get(), request, &job);
  if (!status.ok()) return Fail("job", status);
  Table fields({"FIELD", "VALUE"});
  fields.AddRow({"job", job.job_id()});
  fields.AddRow({"state", StateName(job.state())});
  if (!job.reason().empty()) fields.AddRow({"reason", job.reason()});
  fields.AddRow({"document", absl::StrCat(job.document_name(), " (", job.document_id(), ")")});
  fields.AddRow({"device", job.device_id()});
  fields.AddRow({"gateway", job.gateway_id()});
  fields.AddRow({"created", FormatUnix(job.created_unix())});
  fields.AddRow({"updated", FormatUnix(job.updated_unix())});
  fields.Print(std::cout);
  std::cout << "\n";
  Table history({"TIME", "STATE", "DETAIL"});
  for (const auto& e : job.history()) {
    history.AddRow({FormatMillis(e.time_unix_ms()), StateName(e.state()), e.detail()});
  }
  history.Print(std::cout);
  return kExitOk;
}

int Client::Watch(const std::string& job_id) { return Follow(job_id, 0); }

int Client::Follow(const std::string& job_id, int already_printed) {
  auto ctx = Context(/*with_deadline=*/false);
  relay::v1::GetJobRequest request;
  request.set_job_id(job_id);
  auto reader = stub_->WatchJob(ctx.get(), request);
  relay::v1::Job job;
  int printed = already_printed;
  bool seen = false;
  while (reader->Read(&job)) {
    seen = true;
    for (int i = printed; i < job.history_size(); ++i) {
      const relay::v1::JobEvent& e = job.history(i);
      std::cout << FormatMillis(e.time_unix_ms()) << "  " << job.job_id() << "  "
                << StateName(e.state()) << "  " << e.detail() << "\n";
    }
    std::cout.flush();
    printed = std::max(printed, job.history_size());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail("watch", status);
  if (!seen) {
    std::cerr << "relayctl: watch: the server sent nothing about job " << job_id << "\n";
    return kExitFailed;
  }
  if (job.state() == relay::v1::JOB_STATE_DONE) {
    std::cout << "job " << job.job_id() << " DONE\n";
    return kExitOk;
  }
  std::cout << "job " << job.job_id() << " " << StateName(job.state())
            << (job.reason().empty() ? "" : ": ") << job.reason() << "\n";
  return kExitFailed;
}

int Client::Scans() {
  auto ctx = Context();
  relay::v1::ListScansResponse response;
  grpc::Status status = stub_->ListScans(ctx.get(), {}, &response);
  if (!status.ok()) return Fail("scans", status);
  if (response.scans().empty()) {
    std::cout << "no scans\n";
    return kExitOk;
  }
  Table table({"SCAN", "DEVICE", "GATEWAY", "TYPE", "SIZE", "CREATED"});
  for (const auto& s : response.scans()) {
    table.AddRow({s.scan_id(), s.device_id(), s.gateway_id(), s.content_type(),
                  FormatSize(s.size()), FormatUnix(s.created_unix())});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Client::Download(const std::string& scan_id, const std::string& output) {
  // The scan's checksum, to verify what arrives.
  std::string want_sha;
  {
    auto ctx = Context();
    relay::v1::ListScansResponse response;
    grpc::Status status = stub_->ListScans(ctx.get(), {}, &response);
    if (!status.ok()) return Fail("download", status);
    for (const auto& s : response.scans()) {
      if (s.scan_id() == scan_id) want_sha = s.sha256_hex();
    }
  }
  std::string temp = output + ".part";
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out.is_open()) {
    std::cerr << "relayctl: cannot write " << temp << ": " << std::strerror(errno) << "\n";
    return kExitFailed;
  }
  auto ctx = Context(/*with_deadline=*/false);
  relay::v1::DownloadScanRequest request;
  request.set_scan_id(scan_id);
  auto reader = stub_->DownloadScan(ctx.get(), request);
  relay::v1::DataChunk chunk;
  int64_t received = 0;
  Sha256 hash;
  bool ok = true;
  while (reader->Read(&chunk)) {
    if (chunk.offset() != received) {
      ok = false;
      ctx->TryCancel();
      break;
    }
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    hash.Update(chunk.data());
    received += static_cast<int64_t>(chunk.data().size());
  }
  grpc::Status status = reader->Finish();
  out.close();
  auto fail = [&](const std::string& message) {
    std::remove(temp.c_str());
    std::cerr << "relayctl: download: " << message << "\n";
    return kExitFailed;
  };
  if (!ok) return fail("the server sent chunks out of order");
  if (!status.ok()) {
    std::remove(temp.c_str());
    return Fail("download", status);
  }
  if (!out) return fail(absl::StrCat("cannot write ", temp));
  std::string sha = hash.FinishHex();
  if (want_sha.empty() || sha != want_sha) {
    return fail(absl::StrCat("the data received has sha256 ", sha,
                             ", the scan has ", want_sha));
  }
  if (std::rename(temp.c_str(), output.c_str()) != 0) {
    return fail(absl::StrCat("cannot rename ", temp, " to ", output, ": ",
                             std::strerror(errno)));
  }
  std::cout << "saved " << scan_id << " to " << output << "  " << FormatSize(received)
            << "  sha256 " << sha << "\n";
  return kExitOk;
}

int Client::Box(const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  relay::v1::BoxAccessRequest request;
  std::string output;
  if (verb == "list" && args.size() == 3) {
    request.set_operation(relay::v1::BOX_OPERATION_LIST);
  } else if (verb == "get" && args.size() == 5) {
    request.set_operation(relay::v1::BOX_OPERATION_READ);
    request.set_document_id(args[3]);
    output = args[4];
  } else if (verb == "delete" && args.size() == 4) {
    request.set_operation(relay::v1::BOX_OPERATION_DELETE);
    request.set_document_id(args[3]);
  } else {
    return Usage("usage: relayctl box list DEVICE_ID BOX_ID | box get DEVICE_ID BOX_ID "
                 "DOC_ID OUTPUT_FILE | box delete DEVICE_ID BOX_ID DOC_ID");
  }
  request.set_device_id(args[1]);
  request.set_box_id(args[2]);
  request.set_client_id(absl::GetFlag(FLAGS_client_id));
  auto ctx = Context();
  relay::v1::BoxResult result;
  grpc::Status status = stub_->AccessBox(ctx.get(), request, &result);
  if (!status.ok()) return Fail(absl::StrCat("box ", verb), status);
  if (!result.permitted()) {
    std::cerr << "relayctl: box " << verb << ": denied by the gateway"
              << (result.failed_condition().empty()
                      ? ""
                      : absl::StrCat(" (condition: ", result.failed_condition(), ")"))
              << ": " << result.message() << "\n";
    return kExitFailed;
  }
  if (!result.message().empty()) {
    std::cerr << "relayctl: box " << verb << ": permitted, but the device answered: "
              << result.message() << "\n";
    return kExitFailed;
  }
  if (verb == "list") {
    Table table({"DOCUMENT", "NAME", "TYPE", "SIZE", "CREATED", "SHA256"});
    for (const auto& d : result.documents()) {
      table.AddRow({d.document_id(), d.name(), d.content_type(), FormatSize(d.size()),
                    FormatUnix(d.created_unix()), d.sha256_hex().substr(0, 16)});
    }
    table.Print(std::cout);
    return kExitOk;
  }
  if (verb == "delete") {
    std::cout << "deleted " << result.document().document_id() << " ("
              << result.document().name() << ") from box " << args[2] << " of "
              << args[1] << "\n";
    return kExitOk;
  }
  Sha256 hash;
  hash.Update(result.content());
  std::string sha = hash.FinishHex();
  if (!result.document().sha256_hex().empty() && result.document().sha256_hex() != sha) {
    std::cerr << "relayctl: box get: the data received has sha256 " << sha
              << ", the device says " << result.document().sha256_hex() << "\n";
    return kExitFailed;
  }
  std::string temp = output + ".part";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(result.content().data(), static_cast<std::streamsize>(result.content().size()));
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      std::cerr << "relayctl: cannot write " << temp << "\n";
      return kExitFailed;
    }
  }
  if (std::rename(temp.c_str(), output.c_str()) != 0) {
    std::cerr << "relayctl: cannot rename " << temp << " to " << output << "\n";
    return kExitFailed;
  }
  std::cout << "saved " << result.document().document_id() << " ("
            << result.document().name() << ") to " << output << "  "
            << FormatSize(static_cast<int64_t>(result.content().size())) << "  sha256 " << sha
            << "\n";
  return kExitOk;
}

// The bearer token: --token, --token_file, $RELAY_TOKEN, $RELAY_TOKEN_FILE,
// then ./demo-data/<user>.token.
absl::StatusOr<std::string> ResolveToken(const std::string& user) {
  if (!absl::GetFlag(FLAGS_token).empty()) return absl::GetFlag(FLAGS_token);
  std::string file = absl::GetFlag(FLAGS_token_file);
  if (file.empty()) {
    const char* env = std::getenv("RELAY_TOKEN");
    if (env != nullptr && *env != '\0') return std::string(env);
    const char* env_file = std::getenv("RELAY_TOKEN_FILE");
    file = env_file != nullptr && *env_file != '\0'
               ? std::string(env_file)
               : absl::StrCat("./demo-data/", user, ".token");
  }
  std::ifstream in(file);
  std::string token;
  if (!in.is_open() || !std::getline(in, token)) {
    return absl::NotFoundError(absl::StrCat(
        "no token for user ", user, ": cannot read ", file,
        " (give --token, --token_file or $RELAY_TOKEN; an administrator creates tokens "
        "with `cloud_server users add`)"));
  }
  return std::string(absl::StripAsciiWhitespace(token));
}

struct Command {
  int args;
  const char* synopsis;
  std::function<int(Client&, const std::vector<std::string>&)> run;
};

int Main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return !absl::StrContains(file, "absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(rest.begin() + 1, rest.end());
  if (args.empty()) return Usage("no command given", /*full=*/true);
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << "relayctl: " << kUsage;
    return kExitOk;
  }

  const std::map<std::string, Command> commands = {
      {"upload", {1, "upload FILE", [](Client& c, const auto& a) { return c.Upload(a[0]); }}},
      {"documents", {0, "documents", [](Client& c, const auto&) { return c.Documents(); }}},
      {"printers", {0, "printers", [](Client& c, const auto&) { return c.Printers(); }}},
      {"print",
       {2, "print DOCUMENT_ID DEVICE_ID",
        [](Client& c, const auto& a) { return c.Print(a[0], a[1]); }}},
      {"jobs", {0, "jobs", [](Client& c, const auto&) { return c.Jobs(); }}},
      {"job", {1, "job JOB_ID", [](Client& c, const auto& a) { return c.ShowJob(a[0]); }}},
      {"watch", {1, "watch JOB_ID", [](Client& c, const auto& a) { return c.Watch(a[0]); }}},
      {"scans", {0, "scans", [](Client& c, const auto&) { return c.Scans(); }}},
      {"download",
       {2, "download SCAN_ID OUTPUT_FILE",
        [](Client& c, const auto& a) { return c.Download(a[0], a[1]); }}},
      {"box",
       {-1, "box list|get|delete DEVICE_ID BOX_ID [DOC_ID [OUTPUT_FILE]]",
        [](Client& c, const auto& a) { return c.Box(a); }}},
  };
  auto it = commands.find(command);
  if (it == commands.end()) return Usage(absl::StrCat("unknown command \"", command, "\""));
  if (it->second.args >= 0 && static_cast<int>(args.size()) != it->second.args) {
    return Usage(absl::StrCat("usage: relayctl ", it->second.synopsis));
  }
  std::string user = absl::GetFlag(FLAGS_user);
  if (user.empty()) return Usage("--user must not be empty");
  if (absl::GetFlag(FLAGS_timeout) <= absl::ZeroDuration()) {
    return Usage("--timeout must be positive");
  }
  absl::StatusOr<std::string> token = ResolveToken(user);
  if (!token.ok()) return Usage(std::string(token.status().message()));
  absl::StatusOr<std::shared_ptr<const TlsConfig>> tls = TlsFromFlags("");
  if (!tls.ok()) return Usage(std::string(tls.status().message()));
  Client client(absl::GetFlag(FLAGS_cloud), user, *token, absl::GetFlag(FLAGS_timeout),
                *tls);
  return it->second.run(client, args);
}

}  // namespace
}  // namespace relay::relayctl

int main(int argc, char** argv) { return relay::relayctl::Main(argc, argv); }
