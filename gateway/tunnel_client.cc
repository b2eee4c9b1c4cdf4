#include "gateway/tunnel_client.h"

#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "gateway/tunnel_frames.h"

namespace relay::gateway {
namespace {

using relay::v1::TunnelDown;
using relay::v1::TunnelUp;
using Stream = grpc::ClientReaderWriter<TunnelUp, TunnelDown>;

// Ends our side and reads until the cloud closes (TunnelClosed or end of
// stream), discarding data frames. Returns the TunnelClosed frame if one came,
// and the stream's final status.
struct CloseResult {
  bool got_closed = false;
  relay::v1::TunnelClosed closed;
  grpc::Status status;
};

CloseResult CloseAndDrain(Stream* stream) {
  CloseResult result;
  stream->WritesDone();
  TunnelDown frame;
  while (stream->Read(&frame)) {
    if (frame.has_closed()) {
      result.got_closed = true;
      result.closed = frame.closed();
    }
  }
  result.status = stream->Finish();
  return result;
}

std::string DescribeStreamEnd(const grpc::Status& status) {
  if (status.ok()) return "the cloud closed the tunnel";
  return absl::StrCat("tunnel error ", status.error_code(), ": ", status.error_message());
}

}  // namespace

GrpcTunnelClient::GrpcTunnelClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(relay::v1::CloudTunnel::NewStub(channel)) {}

bool GrpcTunnelClient::Track(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  active_.insert(context);
  return true;
}

void GrpcTunnelClient::Untrack(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  active_.erase(context);
}

void GrpcTunnelClient::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : active_) context->TryCancel();
}

PrintOutcome GrpcTunnelClient::RunPrint(const PrintJob& job, DeviceDriver* driver,
                                        const PrintCallbacks& callbacks) {
  const relay::v1::TunnelRequest& req = job.request;
  const std::string& job_id = req.job_id();
  const std::string& device_id = req.device_id();
  PrintOutcome outcome;
  auto fail = [&](std::string reason) {
    outcome.state = relay::v1::JOB_STATE_FAILED;
    outcome.reason = std::move(reason);
    return outcome;
  };

  grpc::ClientContext context;
  if (!Track(&context)) return fail("the gateway is shutting down");
  struct Untracker {
    GrpcTunnelClient* self;
    grpc::ClientContext* context;
    ~Untracker() { self->Untrack(context); }
  } untracker{this, &context};

  std::unique_ptr<Stream> stream = stub_->Tunnel(&context);
  TunnelUp open_frame;
  relay::v1::TunnelOpen* open = open_frame.mutable_open();
  open->set_tunnel_token(req.tunnel_token());
  open->set_gateway_id(job.gateway_id);
  open->set_device_id(device_id);
  open->set_direction(relay::v1::DIRECTION_PRINT);
  open->set_job_id(job_id);
  LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=print", job_id,
          job.gateway_id, device_id);
  TunnelDown frame;
  if (!stream->Write(open_frame) || !stream->Read(&frame)) {
    grpc::Status status = stream->Finish();
    return fail(absl::StrCat("cannot open the tunnel to the cloud: ",
                             DescribeStreamEnd(status)));
  }
  PrintFrameValidator validator;
  absl::Status valid = validator.Check(frame);
  if (valid.ok() && !frame.has_accepted()) {
    valid = absl::InvalidArgumentError("the cloud's first frame is not TunnelAccepted");
  }
  if (!valid.ok()) {
    context.TryCancel();
    stream->Finish();
    return fail(absl::StrCat("tunnel protocol error: ", valid.message()));
  }
  const relay::v1::TunnelAccepted accepted = frame.accepted();
  if (accepted.already_done()) {
    LogInfo("event=tunnel_already_done job=%s gateway=%s device=%s", job_id,
            job.gateway_id, device_id);
    CloseAndDrain(stream.get());
    outcome.state = relay::v1::JOB_STATE_DONE;
    outcome.already_done = true;
    outcome.reason = "the cloud reports the job as already done; not printed again";
    return outcome;
  }

  // From here on, a failure is reported to the cloud in a TunnelResult.
  auto send_result = [&](relay::v1::JobState state, const std::string& reason) {
    TunnelUp result_frame;
    relay::v1::TunnelResult* result = result_frame.mutable_result();
    result->set_state(state);
    result->set_reason(reason);
    result->set_bytes_delivered(outcome.bytes_delivered);
    result->set_sha256_hex(outcome.sha256_hex);
    stream->Write(result_frame);
    CloseResult closed = CloseAndDrain(stream.get());
    if (!closed.got_closed) {
      LogWarning("event=tunnel_closed_without_ack job=%s gateway=%s device=%s detail=\"%s\"",
                 job_id, job.gateway_id, device_id, DescribeStreamEnd(closed.status));
    }
    LogInfo("event=tunnel_closed job=%s gateway=%s device=%s state=%s bytes=%d", job_id,
            job.gateway_id, device_id, relay::v1::JobState_Name(state),
            outcome.bytes_delivered);
  };
  auto fail_with_result = [&](std::string reason) {
    send_result(relay::v1::JOB_STATE_FAILED, reason);
    return fail(std::move(reason));
  };

  PrintTarget target{driver, ""};
  if (job.resolve_target) target = job.resolve_target();
  relay::v1::PrintHeader header;
  header.set_device_id(device_id);
  header.set_job_id(job_id);
  header.set_size(accepted.size());
  header.set_content_type(!accepted.content_type().empty() ? accepted.content_type()
                                                            : req.content_type());
  header.set_document_name(!accepted.document_name().empty() ? accepted.document_name()
                                                              : req.document_name());
  absl::StatusOr<std::unique_ptr<PrintSink>> sink =
      target.driver->StartPrint(job.device, header);
  // The device's own SHA-256 is checked against the cloud's at the end.
  const bool device_hashes = sink.ok() && (*sink)->ReportsSha256();
  if (device_hashes) validator.SkipHashing();
  if (!sink.ok()) {
    return fail_with_result(
        absl::StrCat("cannot start printing on ", device_id, ": ", sink.status().message()));
  }

  bool printing_reported = false;
  const bool hold = !target.hold_reason.empty();
  auto report_printing = [&] {
    if (printing_reported || hold) return;
    printing_reported = true;
    TunnelUp progress_frame;
    relay::v1::JobProgress* progress = progress_frame.mutable_progress();
    progress->set_job_id(job_id);
    progress->set_gateway_id(job.gateway_id);
    progress->set_device_id(device_id);
    progress->set_state(relay::v1::JOB_STATE_PRINTING);
    progress->set_registration_change(job.registration_change);
    stream->Write(progress_frame);
    if (callbacks.on_printing) callbacks.on_printing();
  };

  while (!validator.ended()) {
    if (!stream->Read(&frame)) {
      (*sink)->Cancel();
      grpc::Status status = stream->Finish();
      return fail(absl::StrCat("the tunnel ended after ", validator.received(), " of ",
                               validator.announced_size(),
                               " bytes: ", DescribeStreamEnd(status)));
    }
    absl::Status check = validator.Check(frame);
    if (!check.ok()) {
      (*sink)->Cancel();
      return fail_with_result(absl::StrCat("tunnel protocol error: ", check.message()));
    }
    if (frame.has_closed()) {
      (*sink)->Cancel();
      CloseAndDrain(stream.get());
      return fail("the cloud closed the tunnel before the end of the document");
    }
    if (frame.has_data() && !frame.data().data().empty()) {
      absl::Status written = (*sink)->WriteChunk(std::move(*frame.mutable_data()->mutable_data()));
      if (!written.ok()) {
        (*sink)->Cancel();
        return fail_with_result(absl::StrCat("device error: ", written.message()));
      }
      report_printing();
    }
  }
  report_printing();  // an empty document still goes to the device
  absl::StatusOr<DevicePrintResult> printed = (*sink)->Finish();
  if (!printed.ok()) {
    return fail_with_result(absl::StrCat("device error: ", printed.status().message()));
  }
  outcome.bytes_delivered = validator.received();
  outcome.sha256_hex = validator.sha256_hex();
  if (outcome.sha256_hex.empty() && !printed->duplicate) {
    // DataEnd named no checksum: the cloud compares the device's with the document's.
    outcome.sha256_hex = absl::AsciiStrToLower(printed->sha256_hex);
  }
  if (!printed->duplicate) {
    if (printed->bytes_received != validator.received()) {
      return fail_with_result(absl::StrCat("the device received ", printed->bytes_received,
                                           " bytes of ", validator.received()));
    }
    if (device_hashes && printed->sha256_hex.empty()) {
      return fail_with_result("the device did not report the sha256 of what it received");
    }
    if (!printed->sha256_hex.empty() && !validator.sha256_hex().empty() &&
        absl::AsciiStrToLower(printed->sha256_hex) != validator.sha256_hex()) {
      return fail_with_result("the device's sha256 differs from the document's");
    }
  }
  if (hold) {
    send_result(relay::v1::JOB_STATE_HELD, target.hold_reason);
    outcome.state = relay::v1::JOB_STATE_HELD;
    outcome.reason = target.hold_reason;
    return outcome;
  }
  if (callbacks.on_delivered) callbacks.on_delivered(*printed);
  send_result(relay::v1::JOB_STATE_DONE,
              printed->duplicate ? "the device had printed this job before" : "");
  outcome.state = relay::v1::JOB_STATE_DONE;
  if (printed->duplicate) outcome.reason = "the device had printed this job before";
  return outcome;
}

absl::StatusOr<std::string> GrpcTunnelClient::UploadScan(const ScanUpload& scan) {
  std::ifstream file(scan.spool_path, std::ios::binary);
  if (!file.good()) {
    return absl::DataLossError(
        absl::StrCat("spool file ", scan.spool_path, " of scan ", scan.scan_id, " is gone"));
  }
  grpc::ClientContext context;
  if (!Track(&context)) return absl::UnavailableError("the gateway is shutting down");
  struct Untracker {
    GrpcTunnelClient* self;
    grpc::ClientContext* context;
    ~Untracker() { self->Untrack(context); }
  } untracker{this, &context};

  std::unique_ptr<Stream> stream = stub_->Tunnel(&context);
  TunnelUp open_frame;
  relay::v1::TunnelOpen* open = open_frame.mutable_open();
  open->set_tunnel_token(scan.tunnel_token);
  open->set_gateway_id(scan.gateway_id);
  open->set_device_id(scan.device_id);
  open->set_direction(relay::v1::DIRECTION_SCAN);
  open->set_job_id(scan.scan_id);
  open->set_user_id(scan.user_id);
  open->set_size(scan.size);
  open->set_content_type(scan.content_type);
  open->set_sha256_hex(scan.sha256_hex);
  LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=scan size=%d",
          scan.scan_id, scan.gateway_id, scan.device_id, scan.size);
  TunnelDown frame;
  if (!stream->Write(open_frame) || !stream->Read(&frame)) {
    grpc::Status status = stream->Finish();
    absl::Status s = ToAbslStatus(status);
    return absl::Status(status.ok() ? absl::StatusCode::kUnavailable : s.code(),
                        absl::StrCat("cannot open the scan tunnel: ",
                                     DescribeStreamEnd(status)));
  }
  if (!frame.has_accepted()) {
    context.TryCancel();
    stream->Finish();
    return absl::InternalError("the cloud's first frame is not TunnelAccepted");
  }

  std::vector<char> buffer(kScanChunkBytes);
  int64_t offset = 0;
  while (offset < scan.size) {
    int64_t want = std::min<int64_t>(kScanChunkBytes, scan.size - offset);
    file.read(buffer.data(), want);
    if (file.gcount() != want) {
      context.TryCancel();
      stream->Finish();
      return absl::DataLossError(absl::StrCat("spool file ", scan.spool_path,
                                              " is shorter than ", scan.size, " bytes"));
    }
    TunnelUp data_frame;
    data_frame.mutable_data()->set_offset(offset);
    data_frame.mutable_data()->set_data(buffer.data(), static_cast<size_t>(want));
    if (!stream->Write(data_frame)) break;  // the stream broke: Finish says why
    offset += want;
  }
  if (offset == scan.size) {
    TunnelUp end_frame;
    end_frame.mutable_end()->set_total_size(scan.size);
    end_frame.mutable_end()->set_sha256_hex(scan.sha256_hex);
    stream->Write(end_frame);
  }
  CloseResult closed = CloseAndDrain(stream.get());
  if (!closed.got_closed) {
    absl::Status s = ToAbslStatus(closed.status);
    return absl::Status(closed.status.ok() ? absl::StatusCode::kUnavailable : s.code(),
                        absl::StrCat("scan upload not confirmed after ", offset, " of ",
                                     scan.size, " bytes: ", DescribeStreamEnd(closed.status)));
  }
  LogInfo("event=tunnel_closed job=%s gateway=%s device=%s direction=scan stored_id=%s",
          scan.scan_id, scan.gateway_id, scan.device_id, closed.closed.stored_id());
  return closed.closed.stored_id().empty() ? scan.scan_id : closed.closed.stored_id();
}

absl::StatusOr<relay::v1::BoxResult> GrpcTunnelClient::RunBox(const BoxJob& job,
                                                              const BoxExecutor& execute) {
  const relay::v1::TunnelRequest& req = job.request;
  grpc::ClientContext context;
  if (!Track(&context)) return absl::UnavailableError("the gateway is shutting down");
  struct Untracker {
    GrpcTunnelClient* self;
    grpc::ClientContext* context;
    ~Untracker() { self->Untrack(context); }
  } untracker{this, &context};

  std::unique_ptr<Stream> stream = stub_->Tunnel(&context);
  TunnelUp open_frame;
  relay::v1::TunnelOpen* open = open_frame.mutable_open();
  open->set_tunnel_token(req.tunnel_token());
  open->set_gateway_id(job.gateway_id);
  open->set_device_id(req.device_id());
  open->set_direction(relay::v1::DIRECTION_BOX);
  open->set_job_id(req.job_id());
  open->set_user_id(req.box().user_id());
  LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=box", req.job_id(),
          job.gateway_id, req.device_id());
  TunnelDown frame;
  if (!stream->Write(open_frame) || !stream->Read(&frame)) {
    grpc::Status status = stream->Finish();
    absl::Status s = ToAbslStatus(status);
    return absl::Status(status.ok() ? absl::StatusCode::kUnavailable : s.code(),
                        absl::StrCat("cannot open the box tunnel: ", DescribeStreamEnd(status)));
  }
  if (!frame.has_accepted() || !frame.accepted().has_box()) {
    context.TryCancel();
    stream->Finish();
    return absl::InternalError("the cloud's first frame is not TunnelAccepted with a box request");
  }
  // The cloud's copy of the request is the one checked and executed.
  relay::v1::BoxResult result = execute(frame.accepted().box());
  if (result.permitted() && frame.accepted().box().operation() == relay::v1::BOX_OPERATION_READ &&
      result.message().empty()) {
    std::string content = std::move(*result.mutable_content());
    result.clear_content();
    Sha256 hash;
    hash.Update(content);
    int64_t offset = 0;
    const int64_t size = static_cast<int64_t>(content.size());
    while (offset < size) {
      int64_t want = std::min<int64_t>(kScanChunkBytes, size - offset);
      TunnelUp data_frame;
      data_frame.mutable_data()->set_offset(offset);
      data_frame.mutable_data()->set_data(content.data() + offset, static_cast<size_t>(want));
      if (!stream->Write(data_frame)) break;
      offset += want;
    }
    TunnelUp end_frame;
    end_frame.mutable_end()->set_total_size(size);
    end_frame.mutable_end()->set_sha256_hex(hash.FinishHex());
    stream->Write(end_frame);
  } else {
    result.clear_content();
  }
  TunnelUp result_frame;
  *result_frame.mutable_box_result() = result;
  stream->Write(result_frame);
  CloseResult closed = CloseAndDrain(stream.get());
  if (!closed.got_closed) {
    absl::Status s = ToAbslStatus(closed.status);
    return absl::Status(closed.status.ok() ? absl::StatusCode::kUnavailable : s.code(),
                        absl::StrCat("box result not confirmed: ",
                                     DescribeStreamEnd(closed.status)));
  }
  LogInfo("event=tunnel_closed job=%s gateway=%s device=%s direction=box permitted=%d",
          req.job_id(), job.gateway_id, req.device_id(), result.permitted() ? 1 : 0);
  return result;
}

}  // namespace relay::gateway
