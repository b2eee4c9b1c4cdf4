#ifndef RELAY_GATEWAY_TESTING_FAKE_MGMT_CLIENT_H_
#define RELAY_GATEWAY_TESTING_FAKE_MGMT_CLIENT_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/mgmt_client.h"

namespace relay::gateway::testing {

// MgmtClient that records what the gateway reports. Tests wait on reports
// with WaitForProgress / WaitForDeviceReports instead of sleeping.
class FakeMgmtClient : public MgmtClient {
 public:
  absl::Status ReportDevices(const relay::v1::DeviceList& list) override {
    absl::MutexLock lock(&mu_);
    if (!devices_error_.ok()) return devices_error_;
    device_reports_.push_back(list);
    return absl::OkStatus();
  }
  absl::Status ReportJobProgress(const relay::v1::JobProgress& progress) override {
    absl::MutexLock lock(&mu_);
    progress_.push_back(progress);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> RequestUpload(
      const relay::v1::UploadAccessRequest& request) override {
    absl::MutexLock lock(&mu_);
    upload_requests_.push_back(request);
    if (!upload_error_.ok()) return upload_error_;
    return absl::StrCat("token-", request.scan_id());
  }

  void FailUploads(absl::Status error) {
    absl::MutexLock lock(&mu_);
    upload_error_ = std::move(error);
  }
  void FailDeviceReports(absl::Status error) {
    absl::MutexLock lock(&mu_);
    devices_error_ = std::move(error);
  }

  // Waits until a progress report for `job_id` in `state` arrived; returns it.
  relay::v1::JobProgress WaitForProgress(const std::string& job_id,
                                         relay::v1::JobState state) {
    absl::MutexLock lock(&mu_);
    const relay::v1::JobProgress* found = nullptr;
    auto has = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& p : progress_) {
        if (p.job_id() == job_id && p.state() == state) {
          found = &p;
          return true;
        }
      }
      return false;
    };
    mu_.Await(absl::Condition(&has));
    return *found;
  }
  // Waits until at least `n` device reports arrived; returns the last one.
  relay::v1::DeviceList WaitForDeviceReports(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return device_reports_.size() >= n;
    };
    mu_.Await(absl::Condition(&enough));
    return device_reports_.back();
  }

  std::vector<relay::v1::JobProgress> progress() const {
    absl::MutexLock lock(&mu_);
    return progress_;
  }
  std::vector<relay::v1::JobProgress> ProgressFor(const std::string& job_id) const {
    absl::MutexLock lock(&mu_);
    std::vector<relay::v1::JobProgress> result;
    for (const auto& p : progress_) {
      if (p.job_id() == job_id) result.push_back(p);
    }
    return result;
  }
  std::vector<relay::v1::DeviceList> device_reports() const {
    absl::MutexLock lock(&mu_);
    return device_reports_;
  }
  size_t upload_request_count() const {
    absl::MutexLock lock(&mu_);
    return upload_requests_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<relay::v1::DeviceList> device_reports_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::JobProgress> progress_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::UploadAccessRequest> upload_requests_ ABSL_GUARDED_BY(mu_);
  absl::Status upload_error_ ABSL_GUARDED_BY(mu_);
  absl::Status devices_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway::testing

#endif  // RELAY_GATEWAY_TESTING_FAKE_MGMT_CLIENT_H_
