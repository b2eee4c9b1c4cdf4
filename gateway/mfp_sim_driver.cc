#include "gateway/mfp_sim_driver.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/status_util.h"
#include "grpcpp/client_context.h"

namespace relay::gateway {
namespace {

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d);
}

class MfpSimPrintSink : public PrintSink {
 public:
  MfpSimPrintSink(relay::v1::MfpDevice::Stub* stub, absl::Duration deadline,
                  std::string device_id)
      : device_id_(std::move(device_id)) {
    context_.set_deadline(DeadlineIn(deadline));
    writer_ = stub->Print(&context_, &result_);
  }

  ~MfpSimPrintSink() override {
    if (!finished_) {
      context_.TryCancel();
      writer_->Finish().ok();
    }
  }

  absl::Status Send(const relay::v1::PrintRequest& request) {
    if (finished_) return absl::FailedPreconditionError("print already finished");
    if (!writer_->Write(request)) {
      // The stream broke; Finish() tells why.
      finished_ = true;
      grpc::Status status = writer_->Finish();
      return absl::UnavailableError(
          absl::StrCat("device ", device_id_, " stopped accepting data: ",
                       status.ok() ? "stream closed" : status.error_message()));
    }
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view data) override {
    return WriteChunk(std::string(data));
  }
  absl::Status WriteChunk(std::string&& data) override {
    relay::v1::PrintRequest request;
    request.set_data(std::move(data));
    return Send(request);
  }
  // PrintResult.sha256_hex: the simulator hashes what it received.
  bool ReportsSha256() const override { return true; }

  absl::StatusOr<DevicePrintResult> Finish() override {
    if (finished_) return absl::FailedPreconditionError("print already finished");
    finished_ = true;
    writer_->WritesDone();
    grpc::Status status = writer_->Finish();
    if (!status.ok()) {
      absl::Status s = ToAbslStatus(status);
      return absl::Status(s.code(), absl::StrCat("device ", device_id_, ": ", s.message()));
    }
    DevicePrintResult result;
    result.bytes_received = result_.bytes_received();
    result.sha256_hex = result_.sha256_hex();
    result.duplicate = result_.duplicate();
    return result;
  }

  void Cancel() override { context_.TryCancel(); }

 private:
  const std::string device_id_;
  grpc::ClientContext context_;
  relay::v1::PrintResult result_;
  std::unique_ptr<grpc::ClientWriter<relay::v1::PrintRequest>> writer_;
  bool finished_ = false;
};

}  // namespace

relay::v1::MfpDevice::Stub* MfpSimDriver::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    ChannelOptions options;
    options.dedicated = true;  // print data: keep it off the control channels
    stub = relay::v1::MfpDevice::NewStub(CreateRelayChannel(address, options));
  }
  return stub.get();
}

absl::StatusOr<relay::v1::DeviceInfo> MfpSimDriver::GetStatus(
    const relay::v1::DeviceInfo& device) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(options_.status_deadline));
  relay::v1::DeviceRef ref;
  ref.set_device_id(device.device_id());
  relay::v1::DeviceInfo info;
  grpc::Status status = StubFor(device.address())->GetStatus(&context, ref, &info);
  if (!status.ok()) return ToAbslStatus(status);
  return info;
}

absl::StatusOr<relay::v1::BoxResult> MfpSimDriver::AccessBox(
    const relay::v1::DeviceInfo& device, const relay::v1::BoxRequest& request) {
  if (device.address().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device.device_id(), " has no known address"));
  }
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(options_.status_deadline * 3));
  relay::v1::DeviceBoxRequest call;
  call.set_device_id(device.device_id());
  *call.mutable_request() = request;
  relay::v1::BoxResult result;
  grpc::Status status = StubFor(device.address())->AccessBox(&context, call, &result);
  if (!status.ok()) return ToAbslStatus(status);
  return result;
}

absl::StatusOr<std::unique_ptr<PrintSink>> MfpSimDriver::StartPrint(
    const relay::v1::DeviceInfo& device, const relay::v1::PrintHeader& header) {
  if (device.address().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device.device_id(), " has no known address"));
  }
  auto sink = std::make_unique<MfpSimPrintSink>(StubFor(device.address()),
                                                options_.print_deadline,
                                                device.device_id());
  relay::v1::PrintRequest first;
  *first.mutable_header() = header;
  absl::Status sent = sink->Send(first);
  if (!sent.ok()) return sent;
  return std::unique_ptr<PrintSink>(std::move(sink));
}

}  // namespace relay::gateway
