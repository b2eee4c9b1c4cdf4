#include "tools/mfp_sim/sim_control_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "grpcpp/client_context.h"
#include "tools/mfp_sim/scan_content.h"

namespace relay::mfp_sim {
namespace {

grpc::Status NotFound(absl::string_view device_id) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat("device ", device_id, " is not known"));
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

}  // namespace

SimControlService::SimControlService(SimLan* lan,
                                     std::shared_ptr<grpc::Channel> gateway_lan,
                                     SimControlOptions options)
    : lan_(lan),
      gateway_(relay::v1::GatewayLan::NewStub(std::move(gateway_lan))),
      options_(options) {}

grpc::Status SimControlService::ListDevices(grpc::ServerContext* /*context*/,
                                            const relay::v1::ListSimDevicesRequest*,
                                            relay::v1::ListSimDevicesResponse* response) {
  for (SimDevice* device : lan_->List()) *response->add_devices() = device->Info();
  return grpc::Status::OK;
}

grpc::Status SimControlService::AddDevice(grpc::ServerContext* /*context*/,
                                          const relay::v1::AddSimDeviceRequest* request,
                                          relay::v1::DeviceInfo* response) {
  relay::v1::DeviceInfo info;
  info.set_device_id(request->device_id());
  info.set_name(request->name().empty() ? request->device_id() : request->name());
  info.set_model(request->model().empty() ? "SimMFP M200" : request->model());
  info.set_protocol("mfp-sim");
  if (request->has_capabilities()) {
    *info.mutable_capabilities() = request->capabilities();
  } else {
    info.mutable_capabilities()->set_print(true);
    info.mutable_capabilities()->set_scan(true);
    info.mutable_capabilities()->add_formats("application/pdf");
  }
  absl::StatusOr<SimDevice*> device = lan_->Add(std::move(info));
  if (!device.ok()) return ToGrpcStatus(device.status());
  *response = (*device)->Info();
  LogInfo("event=device_added device=%s model=%s", response->device_id(),
          response->model());
  return grpc::Status::OK;
}

grpc::Status SimControlService::StartScan(grpc::ServerContext* context,
                                          const relay::v1::StartScanRequest* request,
                                          relay::v1::StartScanResponse* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  if (!device->Info().capabilities().scan()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("device ", request->device_id(), " cannot scan"));
  }
  if (request->user_id().empty()) return Invalid("user_id is empty");
  int pages = request->pages() == 0 ? 1 : request->pages();
  if (pages < 0 || pages > options_.max_pages) {
    return Invalid(absl::StrCat("pages must be 1..", options_.max_pages));
  }
  int64_t page_bytes =
      request->page_bytes() == 0 ? options_.default_page_bytes : request->page_bytes();
  if (page_bytes < 0 || page_bytes > options_.max_page_bytes) {
    return Invalid(absl::StrCat("page_bytes must be 1..", options_.max_page_bytes));
  }
  int64_t size = page_bytes * pages;
  if (size > options_.max_scan_bytes) {
    return Invalid(absl::StrCat("a scan of ", size, " bytes exceeds the limit of ",
                                options_.max_scan_bytes));
  }

  std::string scan_id = absl::StrCat("scan-", RandomHex(8));
  absl::Time busy_deadline = std::min(absl::FromChrono(context->deadline()),
                                      absl::Now() + options_.max_busy_wait);
  absl::Status begun = device->BeginScan(scan_id, busy_deadline);
  if (!begun.ok()) return ToGrpcStatus(begun);
  struct EndJob {
    SimDevice* device;
    ~EndJob() { device->EndJob(); }
  } end_job{device};

  LogInfo("event=scan_start job=%s device=%s user=%s pages=%d bytes=%d", scan_id,
          device->id(), request->user_id(), pages, size);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + options_.scan_timeout));
  relay::v1::ScanReceipt receipt;
  std::unique_ptr<grpc::ClientWriter<relay::v1::ScanUploadRequest>> writer =
      gateway_->SubmitScan(&call, &receipt);
  relay::v1::ScanUploadRequest message;
  relay::v1::ScanHeader* header = message.mutable_header();
  header->set_device_id(device->id());
  header->set_user_id(request->user_id());
  header->set_scan_id(scan_id);
  header->set_content_type("application/octet-stream");
  header->set_size(size);
  bool writing = writer->Write(message);
  Sha256 hash;
  for (int page = 0; page < pages && writing; ++page) {
    std::string content = ScanPage(scan_id, page, page_bytes);
    hash.Update(content);
    for (size_t offset = 0; offset < content.size() && writing;
         offset += options_.chunk_bytes) {
      message.Clear();
      message.set_data(content.substr(offset, options_.chunk_bytes));
      writing = writer->Write(message);
    }
  }
  if (writing) writer->WritesDone();
  grpc::Status status = writer->Finish();
  std::string sha256 = hash.FinishHex();
  if (!status.ok()) {
    LogWarning("event=scan_failed job=%s device=%s reason=\"%s\"", scan_id, device->id(),
               status.error_message());
    return grpc::Status(
        status.error_code(),
        absl::StrCat("gateway refused scan ", scan_id, ": ", status.error_message()));
  }
  if (!receipt.sha256_hex().empty() && receipt.sha256_hex() != sha256) {
    return grpc::Status(grpc::StatusCode::DATA_LOSS,
                        absl::StrCat("gateway stored scan ", scan_id, " with sha256 ",
                                     receipt.sha256_hex(), ", sent ", sha256));
  }
  response->set_scan_id(receipt.scan_id().empty() ? scan_id : receipt.scan_id());
  response->set_size(size);
  response->set_sha256_hex(sha256);
  LogInfo("event=scan_sent job=%s device=%s bytes=%d sha256=%s", response->scan_id(),
          device->id(), size, sha256);
  return grpc::Status::OK;
}

grpc::Status SimControlService::ListPrinted(grpc::ServerContext* /*context*/,
                                            const relay::v1::DeviceRef* request,
                                            relay::v1::ListPrintedResponse* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  for (relay::v1::PrintedJob& job : device->Printed())
    *response->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

}  // namespace relay::mfp_sim

namespace relay::mfp_sim {

grpc::Status SimControlService::SetDeviceState(grpc::ServerContext* /*context*/,
                                               const relay::v1::SetDeviceStateRequest* request,
                                               relay::v1::DeviceInfo* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  switch (request->status()) {
    case relay::v1::DEVICE_STATUS_IDLE:
    case relay::v1::DEVICE_STATUS_BUSY:
    case relay::v1::DEVICE_STATUS_PAPER_OUT:
    case relay::v1::DEVICE_STATUS_TONER_EMPTY:
    case relay::v1::DEVICE_STATUS_OFFLINE:
      break;
    default:
      return Invalid("status must be IDLE, BUSY, PAPER_OUT, TONER_EMPTY or OFFLINE");
  }
  device->SetFault(request->status());
  *response = device->Info();
  LogInfo("event=device_state device=%s status=%s", device->id(),
          relay::v1::DeviceStatus_Name(request->status()));
  return grpc::Status::OK;
}

grpc::Status SimControlService::PutBoxDocument(grpc::ServerContext* /*context*/,
                                               const relay::v1::PutBoxDocumentRequest* request,
                                               relay::v1::BoxDocument* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  absl::Status valid = ValidateSimId("box_id", request->box_id(), 64);
  if (!valid.ok()) return ToGrpcStatus(valid);
  *response = device->PutBoxDocument(request->box_id(), request->name(),
                                     request->content_type(), request->content());
  LogInfo("event=box_document_stored device=%s box=%s document=%s bytes=%d", device->id(),
          request->box_id(), response->document_id(), response->size());
  return grpc::Status::OK;
}

grpc::Status SimControlService::SetBoxConditions(
    grpc::ServerContext* /*context*/, const relay::v1::BoxAccessCondition* request,
    relay::v1::SetBoxConditionsResponse* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status status = gateway_->SetBoxConditions(&call, *request, response);
  LogInfo("event=box_conditions_sent device=%s box=%s result=\"%s\"", device->id(),
          request->box_id(), status.ok() ? "ok" : status.error_message());
  return status;
}

grpc::Status SimControlService::ListBoxAccesses(grpc::ServerContext* /*context*/,
                                                const relay::v1::DeviceRef* request,
                                                relay::v1::ListBoxAccessesResponse* response) {
  SimDevice* device = lan_->Find(request->device_id());
  if (device == nullptr) return NotFound(request->device_id());
  for (relay::v1::BoxRequest& r : device->BoxAccesses()) *response->add_requests() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status SimControlService::RemoveDevice(grpc::ServerContext* /*context*/,
                                             const relay::v1::DeviceRef* request,
                                             relay::v1::DeviceInfo* response) {
  absl::StatusOr<relay::v1::DeviceInfo> removed = lan_->Remove(request->device_id());
  if (!removed.ok()) return ToGrpcStatus(removed.status());
  *response = *removed;
  LogInfo("event=device_removed device=%s", request->device_id());
  return grpc::Status::OK;
}

}  // namespace relay::mfp_sim
