#include "tools/mfp_sim/mfp_device_service.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"

namespace relay::mfp_sim {
namespace {

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

// Releases the device and removes a partial file unless the job completed.
class JobGuard {
 public:
  JobGuard(SimDevice* device, std::string partial_path)
      : device_(device), partial_path_(std::move(partial_path)) {}
  ~JobGuard() {
    if (!partial_path_.empty()) std::remove(partial_path_.c_str());
    device_->EndJob();
  }
  void KeepFile() { partial_path_.clear(); }

 private:
  SimDevice* device_;
  std::string partial_path_;
};

}  // namespace

MfpDeviceService::MfpDeviceService(SimLan* lan, MfpDeviceOptions options)
    : lan_(lan), options_(std::move(options)) {}

grpc::Status MfpDeviceService::GetStatus(grpc::ServerContext* /*context*/,
                                         const relay::v1::DeviceRef* request,
                                         relay::v1::DeviceInfo* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) {
    return Error(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("device ", request->device_id(), " is not known"));
  }
  *response = device->Info();
  return grpc::Status::OK;
}

grpc::Status MfpDeviceService::Print(grpc::ServerContext* context,
                                     grpc::ServerReader<relay::v1::PrintRequest>* reader,
                                     relay::v1::PrintResult* response) {
  relay::v1::PrintRequest message;
  if (!reader->Read(&message)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "empty print stream");
  }
  if (!message.has_header()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 "the first message of a print must be its PrintHeader");
  }
  const relay::v1::PrintHeader header = message.header();
  SimDevice* device = lan_->Find(header.device_id());
  if (device == nullptr) {
    return Error(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("device ", header.device_id(), " is not known"));
  }
  absl::Status valid = ValidateSimId("job_id", header.job_id(), 128);
  if (!valid.ok()) return ToGrpcStatus(valid);
  if (header.size() < 0 || header.size() > options_.max_job_bytes) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("job size ", header.size(), " is out of range (0..",
                              options_.max_job_bytes, ")"));
  }

  absl::Time deadline = std::min(absl::FromChrono(context->deadline()),
                                 absl::Now() + options_.max_busy_wait);
  absl::StatusOr<PrintAdmission> admission =
      device->AdmitPrint(header.job_id(), deadline);
  if (!admission.ok()) {
    LogWarning("event=print_refused job=%s device=%s reason=\"%s\"", header.job_id(),
               header.device_id(), admission.status().ToString());
    return ToGrpcStatus(admission.status());
  }
  if (admission->duplicate) {
    // Drain what the client sends so it sees the answer, not a broken stream.
    while (reader->Read(&message)) {
    }
    response->set_duplicate(true);
    response->set_bytes_received(0);
    response->set_sha256_hex(admission->earlier.sha256_hex());
    LogInfo("event=print_duplicate job=%s device=%s", header.job_id(),
            header.device_id());
    return grpc::Status::OK;
  }

  std::filesystem::path dir =
      std::filesystem::path(options_.out_dir) / header.device_id();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  std::string final_path = (dir / absl::StrCat(header.job_id(), ".bin")).string();
  std::string partial_path = absl::StrCat(final_path, ".part");
  JobGuard guard(device, partial_path);
  std::ofstream out;
  if (options_.keep_printed) out.open(partial_path, std::ios::binary | std::ios::trunc);
  if (options_.keep_printed && (error || !out.good())) {
    return Error(grpc::StatusCode::INTERNAL, absl::StrCat("cannot write ", partial_path));
  }
  LogInfo("event=print_receiving job=%s device=%s size=%d", header.job_id(),
          header.device_id(), header.size());

  Sha256 hash;
  int64_t received = 0;
  int64_t first_byte_unix_us = 0;
  while (reader->Read(&message)) {
    if (!message.has_data() && message.has_header()) {
      return Error(grpc::StatusCode::INVALID_ARGUMENT, "a second PrintHeader");
    }
    const std::string& data = message.data();
    received += static_cast<int64_t>(data.size());
    if (received > options_.max_job_bytes ||
        (header.size() > 0 && received > header.size())) {
      return Error(grpc::StatusCode::INVALID_ARGUMENT,
                   absl::StrCat("more bytes than announced (", header.size(), ")"));
    }
    if (first_byte_unix_us == 0 && !data.empty()) {
      first_byte_unix_us = absl::ToUnixMicros(absl::Now());
    }
    hash.Update(data);
    if (options_.keep_printed) out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  const int64_t received_unix_us = absl::ToUnixMicros(absl::Now());
  if (context->IsCancelled()) {
    return Error(grpc::StatusCode::CANCELLED, "print cancelled; nothing printed");
  }
  if (header.size() > 0 && received != header.size()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("received ", received, " bytes of ", header.size(),
                              "; nothing printed"));
  }
  if (options_.keep_printed) {
    out.close();
    if (!out.good()) {
      return Error(grpc::StatusCode::INTERNAL, absl::StrCat("cannot write ", partial_path));
    }
    std::filesystem::rename(partial_path, final_path, error);
    if (error) {
      return Error(grpc::StatusCode::INTERNAL,
                   absl::StrCat("cannot rename ", partial_path, ": ", error.message()));
    }
    guard.KeepFile();
  }

  relay::v1::PrintedJob job;
  job.set_job_id(header.job_id());
  job.set_size(received);
  job.set_sha256_hex(hash.FinishHex());
  job.set_document_name(header.document_name());
  job.set_first_byte_unix_us(first_byte_unix_us);
  job.set_received_unix_us(received_unix_us);
  device->RecordPrinted(job);
  LogInfo("event=print_started job=%s device=%s bytes=%d sha256=%s", header.job_id(),
          header.device_id(), received, job.sha256_hex());
  // The paper is moving: the device stays BUSY for the print time.
  stopping_.WaitForNotificationWithTimeout(options_.print_time);
  device->FinishPrinted(header.job_id());
  LogInfo("event=print_done job=%s device=%s", header.job_id(), header.device_id());

  response->set_bytes_received(received);
  response->set_sha256_hex(job.sha256_hex());
  response->set_duplicate(false);
  return grpc::Status::OK;
}

}  // namespace relay::mfp_sim

namespace relay::mfp_sim {

grpc::Status MfpDeviceService::AccessBox(grpc::ServerContext* /*context*/,
                                         const relay::v1::DeviceBoxRequest* request,
                                         relay::v1::BoxResult* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) {
    return Error(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("device ", request->device_id(), " is not known"));
  }
  absl::StatusOr<relay::v1::BoxResult> result = device->AccessBox(request->request());
  LogInfo("event=box_access device=%s box=%s operation=%s document=%s client=%s user=%s "
          "result=\"%s\"",
          device->id(), request->request().box_id(),
          relay::v1::BoxOperation_Name(request->request().operation()),
          request->request().document_id(), request->request().client_id(),
          request->request().user_id(), result.ok() ? "ok" : result.status().ToString());
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace relay::mfp_sim
