#include "gateway/lan_service.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "gateway/ids.h"

namespace relay::gateway {
namespace {

bool IsCleanContentType(const std::string& text) {
  if (text.size() > 100) return false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

}  // namespace

class LanService::ScanReactor
    : public grpc::ServerReadReactor<relay::v1::ScanUploadRequest> {
 public:
  ScanReactor(LanService* service, grpc::CallbackServerContext* context,
              relay::v1::ScanReceipt* receipt)
      : service_(service), context_(context), receipt_(receipt) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The device half-closed (or the call was cancelled: Complete checks).
      service_->io_.Post([this] { Complete(); });
      return;
    }
    if (!have_header_) {
      OnHeader();
      return;
    }
    if (!request_.has_data()) {
      Fail(absl::InvalidArgumentError("only data may follow the ScanHeader"));
      return;
    }
    received_ += static_cast<int64_t>(request_.data().size());
    if (received_ > service_->options_.max_scan_bytes) {
      Fail(absl::ResourceExhaustedError(absl::StrCat(
          "scan ", header_.scan_id(), " exceeds the gateway's limit of ",
          service_->options_.max_scan_bytes, " bytes")));
      return;
    }
    if (header_.size() > 0 && received_ > header_.size()) {
      Fail(absl::InvalidArgumentError(absl::StrCat("scan ", header_.scan_id(),
                                                   " sends more than the announced ",
                                                   header_.size(), " bytes")));
      return;
    }
    if (duplicate_sha_.has_value()) {
      StartRead(&request_);  // already stored once: read and drop
      return;
    }
    service_->io_.Post([this] { Append(); });
  }

  void OnCancel() override { cancelled_ = true; }

  void OnDone() override {
    if (claimed_) service_->Unclaim(header_.scan_id());
    delete this;
  }

 private:
  void OnHeader() {
    if (!request_.has_header()) {
      Fail(absl::InvalidArgumentError("the first message must be a ScanHeader"));
      return;
    }
    header_ = request_.header();
    have_header_ = true;
    if (!IsSafeId(header_.device_id(), 64)) {
      Fail(absl::InvalidArgumentError("ScanHeader.device_id is missing or malformed"));
      return;
    }
    if (!IsSafeId(header_.user_id(), 64)) {
      Fail(absl::InvalidArgumentError("ScanHeader.user_id is missing or malformed"));
      return;
    }
    if (header_.scan_id().empty()) header_.set_scan_id(absl::StrCat("scan-", RandomHex(8)));
    if (!IsSafeId(header_.scan_id())) {
      Fail(absl::InvalidArgumentError(
          "ScanHeader.scan_id is malformed: use 1-128 letters, digits, '.', '_', ':' or "
          "'-'"));
      return;
    }
    if (header_.content_type().empty()) header_.set_content_type("application/octet-stream");
    if (!IsCleanContentType(header_.content_type())) {
      Fail(absl::InvalidArgumentError("ScanHeader.content_type is malformed"));
      return;
    }
    if (header_.size() < 0) {
      Fail(absl::InvalidArgumentError("ScanHeader.size is negative"));
      return;
    }
    if (header_.size() > service_->options_.max_scan_bytes) {
      Fail(absl::ResourceExhaustedError(
          absl::StrCat("scan of ", header_.size(), " bytes exceeds the gateway's limit of ",
                       service_->options_.max_scan_bytes, " bytes")));
      return;
    }
    if (!service_->device_known_(header_.device_id())) {
      Fail(absl::NotFoundError(absl::StrCat("device ", header_.device_id(),
                                            " is not in the gateway's device list")));
      return;
    }
    if (!service_->Claim(header_.scan_id())) {
      Fail(absl::AbortedError(
          absl::StrCat("scan ", header_.scan_id(), " is being received already")));
      return;
    }
    claimed_ = true;
    service_->io_.Post([this] { Open(); });
  }

  // On the io executor from here on.

  void Open() {
    absl::StatusOr<std::optional<PendingScan>> pending =
        service_->store_->GetPendingScan(header_.scan_id());
    if (!pending.ok()) return FinishWith(pending.status());
    if (pending->has_value()) {
      duplicate_sha_ = (*pending)->sha256_hex;
    } else {
      absl::StatusOr<std::optional<std::string>> uploaded =
          service_->store_->UploadedScanSha(header_.scan_id());
      if (!uploaded.ok()) return FinishWith(uploaded.status());
      if (uploaded->has_value()) duplicate_sha_ = **uploaded;
    }
    if (!duplicate_sha_.has_value()) {
      absl::StatusOr<std::unique_ptr<SpoolWriter>> writer =
          service_->spool_->Create(header_.scan_id());
      if (!writer.ok()) return FinishWith(writer.status());
      writer_ = *std::move(writer);
    }
    StartRead(&request_);
  }

  void Append() {
    absl::Status status = writer_->Append(request_.data());
    if (!status.ok()) return FinishWith(status);
    request_.Clear();
    StartRead(&request_);
  }

  void Complete() {
    const std::string& scan_id = header_.scan_id();
    if (cancelled_ || context_->IsCancelled()) {
      return FinishWith(absl::CancelledError("the device cancelled the scan"));
    }
    if (!have_header_) {
      return FinishWith(absl::InvalidArgumentError("the stream carried no ScanHeader"));
    }
    if (header_.size() > 0 && received_ != header_.size()) {
      return FinishWith(absl::InvalidArgumentError(absl::StrCat(
          "scan ", scan_id, " announced ", header_.size(), " bytes but sent ", received_)));
    }
    if (duplicate_sha_.has_value()) {
      LogInfo("event=scan_duplicate job=%s gateway=%s device=%s", scan_id,
              service_->options_.gateway_id, header_.device_id());
      receipt_->set_scan_id(scan_id);
      receipt_->set_sha256_hex(*duplicate_sha_);
      return FinishWith(absl::OkStatus());
    }
    absl::StatusOr<std::string> path = writer_->Commit();
    if (!path.ok()) return FinishWith(path.status());
    PendingScan scan;
    scan.scan_id = scan_id;
    scan.device_id = header_.device_id();
    scan.user_id = header_.user_id();
    scan.content_type = header_.content_type();
    scan.size = writer_->size();
    scan.sha256_hex = writer_->sha256_hex();
    scan.spool_path = *path;
    scan.accepted = service_->clock_->Now();
    absl::Status added = service_->store_->AddPendingScan(scan);
    if (!added.ok()) {
      std::remove(path->c_str());
      return FinishWith(absl::Status(added.code(), absl::StrCat("cannot record scan ", scan_id,
                                                                ": ", added.message())));
    }
    LogInfo("event=scan_accepted job=%s gateway=%s device=%s user=%s size=%d sha256=%s",
            scan_id, service_->options_.gateway_id, scan.device_id, scan.user_id, scan.size,
            scan.sha256_hex);
    service_->on_accepted_(scan);
    receipt_->set_scan_id(scan_id);
    receipt_->set_sha256_hex(scan.sha256_hex);
    FinishWith(absl::OkStatus());
  }

  // Ends the call. Must be the last thing a task does: OnDone may delete
  // `this` as soon as Finish is called.
  void FinishWith(const absl::Status& status) {
    writer_.reset();  // an unfinished spool file is deleted
    // The outcome is settled (a stored scan has its row): a resubmission may
    // start now, before OnDone.
    if (claimed_) {
      claimed_ = false;
      service_->Unclaim(header_.scan_id());
    }
    if (!status.ok()) {
      LogWarning("event=scan_rejected job=%s gateway=%s device=%s error=\"%s\"",
                 IsSafeId(header_.scan_id()) ? header_.scan_id() : "<invalid>",
                 service_->options_.gateway_id,
                 IsSafeId(header_.device_id()) ? header_.device_id() : "<invalid>",
                 status.ToString());
    }
    Finish(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        std::string(status.message())));
  }

  // From a callback with no io task in flight: the writer cleanup goes to io.
  void Fail(absl::Status status) {
    service_->io_.Post([this, status] { FinishWith(status); });
  }

  LanService* const service_;
  grpc::CallbackServerContext* const context_;
  relay::v1::ScanReceipt* const receipt_;
  relay::v1::ScanUploadRequest request_;
  relay::v1::ScanHeader header_;
  bool have_header_ = false;
  bool claimed_ = false;
  int64_t received_ = 0;
  std::atomic<bool> cancelled_{false};
  std::optional<std::string> duplicate_sha_;
  std::unique_ptr<SpoolWriter> writer_;
};

LanService::LanService(Options options, ScanSpool* spool, GatewayStore* store,
                       const Clock* clock, DeviceKnown device_known,
                       ScanAccepted on_accepted)
    : options_(std::move(options)),
      spool_(spool),
      store_(store),
      clock_(clock),
      device_known_(std::move(device_known)),
      on_accepted_(std::move(on_accepted)) {}

grpc::ServerReadReactor<relay::v1::ScanUploadRequest>* LanService::SubmitScan(
    grpc::CallbackServerContext* context, relay::v1::ScanReceipt* receipt) {
  return new ScanReactor(this, context, receipt);
}

bool LanService::Claim(const std::string& scan_id) {
  absl::MutexLock lock(&mu_);
  return receiving_.insert(scan_id).second;
}

void LanService::Unclaim(const std::string& scan_id) {
  absl::MutexLock lock(&mu_);
  receiving_.erase(scan_id);
}

grpc::ServerUnaryReactor* LanService::SetBoxConditions(
    grpc::CallbackServerContext* context, const relay::v1::BoxAccessCondition* request,
    relay::v1::SetBoxConditionsResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!design_.set_box_conditions) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "this gateway does not keep box conditions"));
    return reactor;
  }
  // `request` lives until Finish.
  io_.Post([this, reactor, request] {
    const std::string& device = request->device_id();
    absl::Status status;
    if (!IsSafeId(device) || !device_known_(device)) {
      status = absl::NotFoundError(absl::StrCat(
          "device ", IsSafeId(device) ? device : "<invalid>",
          " is not in the gateway's device list; only its devices set box conditions"));
    } else {
      status = design_.set_box_conditions(*request);
    }
    if (status.ok()) {
      LogInfo("event=box_conditions_stored gateway=%s device=%s box=%s users=%d clients=%d "
              "operations=%d window=%d-%d expires_unix=%d max_accesses=%d",
              options_.gateway_id, device, request->box_id(), request->allowed_users_size(),
              request->allowed_clients_size(), request->operations_size(),
              request->window_start_minute(), request->window_end_minute(),
              request->expires_unix(), request->max_accesses());
    } else {
      LogWarning("event=box_conditions_refused gateway=%s device=%s error=\"%s\"",
                 options_.gateway_id, IsSafeId(device) ? device : "<invalid>",
                 status.ToString());
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* LanService::Sleep(grpc::CallbackServerContext* context,
                                            const relay::v1::SleepRequest* /*request*/,
                                            relay::v1::PowerStateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!design_.sleep) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "this gateway has no power-saving mode"));
    return reactor;
  }
  io_.Post([this, reactor, response] {
    absl::StatusOr<bool> sleeping = design_.sleep();
    if (sleeping.ok()) {
      response->set_gateway_id(options_.gateway_id);
      response->set_sleeping(*sleeping);
    }
    reactor->Finish(ToGrpcStatus(sleeping.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* LanService::ForwardTunnelRequest(
    grpc::CallbackServerContext* context,
    const relay::v1::ForwardTunnelRequestRequest* request,
    relay::v1::PowerStateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!design_.forward_tunnel_request) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "this gateway does not take forwarded requests"));
    return reactor;
  }
  io_.Post([this, reactor, request, response] {
    absl::Status status;
    if (request->target_gateway_id() != options_.gateway_id) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "forwarded to gateway ", options_.gateway_id, " but addressed to ",
          IsSafeId(request->target_gateway_id()) ? request->target_gateway_id()
                                                 : "<invalid>"));
    } else if (!IsSafeId(request->from_gateway_id())) {
      status = absl::InvalidArgumentError("from_gateway_id is missing or malformed");
    }
    if (status.ok()) {
      absl::StatusOr<bool> sleeping = design_.forward_tunnel_request(*request);
      if (sleeping.ok()) {
        response->set_gateway_id(options_.gateway_id);
        response->set_sleeping(*sleeping);
      }
      status = sleeping.status();
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace relay::gateway
