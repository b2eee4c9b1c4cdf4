#ifndef RELAY_GATEWAY_TESTING_FAKE_TUNNEL_CLIENT_H_
#define RELAY_GATEWAY_TESTING_FAKE_TUNNEL_CLIENT_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "gateway/tunnel_client.h"

namespace relay::gateway::testing {

// A TunnelClient standing in for the cloud: RunPrint streams a document
// ("document of <job id>" unless set) to the driver in two chunks, the way
// the real client does; UploadScan records the scans it was given.
class FakeTunnelClient : public TunnelClient {
 public:
  PrintOutcome RunPrint(const PrintJob& job, DeviceDriver* driver,
                        const PrintCallbacks& callbacks) override {
    std::string document;
    bool already_done;
    {
      absl::MutexLock lock(&mu_);
      print_jobs_.push_back(job);
      already_done = already_done_.count(job.request.job_id()) > 0;
      auto it = documents_.find(job.request.job_id());
      document = it != documents_.end() ? it->second
                                        : absl::StrCat("document of ", job.request.job_id());
    }
    PrintOutcome outcome;
    if (already_done) {
      outcome.state = relay::v1::JOB_STATE_DONE;
      outcome.already_done = true;
      return outcome;
    }
    PrintTarget target{driver, ""};
    if (job.resolve_target) target = job.resolve_target();
    driver = target.driver;
    relay::v1::PrintHeader header;
    header.set_device_id(job.request.device_id());
    header.set_job_id(job.request.job_id());
    header.set_size(static_cast<int64_t>(document.size()));
    auto sink = driver->StartPrint(job.device, header);
    if (!sink.ok()) {
      outcome.reason = std::string(sink.status().message());
      return outcome;
    }
    size_t half = document.size() / 2;
    for (absl::string_view part : {absl::string_view(document).substr(0, half),
                                   absl::string_view(document).substr(half)}) {
      absl::Status written = (*sink)->Write(part);
      if (!written.ok()) {
        outcome.reason = absl::StrCat("device error: ", written.message());
        return outcome;
      }
      if (callbacks.on_printing && target.hold_reason.empty() && part.data() == document.data()) {
        callbacks.on_printing();
      }
    }
    auto result = (*sink)->Finish();
    if (!result.ok()) {
      outcome.reason = std::string(result.status().message());
      return outcome;
    }
    outcome.bytes_delivered = static_cast<int64_t>(document.size());
    outcome.sha256_hex = Sha256::HexOf(document);
    if (!target.hold_reason.empty()) {
      outcome.state = relay::v1::JOB_STATE_HELD;
      outcome.reason = target.hold_reason;
      return outcome;
    }
    if (callbacks.on_delivered) callbacks.on_delivered(*result);
    outcome.state = relay::v1::JOB_STATE_DONE;
    return outcome;
  }

  absl::StatusOr<std::string> UploadScan(const ScanUpload& scan) override {
    absl::MutexLock lock(&mu_);
    scan_attempts_.push_back(scan);
    if (scan_failures_left_ > 0) {
      --scan_failures_left_;
      return absl::UnavailableError("cloud unreachable (fake)");
    }
    uploaded_.push_back(scan);
    return absl::StrCat("stored-", scan.scan_id);
  }

  void CancelAll() override {}

  void SetDocument(const std::string& job_id, std::string document) {
    absl::MutexLock lock(&mu_);
    documents_[job_id] = std::move(document);
  }
  void MarkAlreadyDone(const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    already_done_.insert(job_id);
  }
  void FailScanUploads(int times) {
    absl::MutexLock lock(&mu_);
    scan_failures_left_ = times;
  }
  std::vector<PrintJob> print_jobs() const {
    absl::MutexLock lock(&mu_);
    return print_jobs_;
  }
  std::vector<ScanUpload> scan_attempts() const {
    absl::MutexLock lock(&mu_);
    return scan_attempts_;
  }
  std::vector<ScanUpload> uploaded() const {
    absl::MutexLock lock(&mu_);
    return uploaded_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> documents_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> already_done_ ABSL_GUARDED_BY(mu_);
  std::vector<PrintJob> print_jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<ScanUpload> scan_attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<ScanUpload> uploaded_ ABSL_GUARDED_BY(mu_);
  int scan_failures_left_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace relay::gateway::testing

#endif  // RELAY_GATEWAY_TESTING_FAKE_TUNNEL_CLIENT_H_
