#ifndef RELAY_MGMT_SERVER_TESTING_FAKE_CLOUD_LINK_H_
#define RELAY_MGMT_SERVER_TESTING_FAKE_CLOUD_LINK_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mgmt_server/cloud_link.h"

namespace relay::mgmt::testing {

// A CloudLink that records what it is sent and answers at once (on the
// caller's thread). `SetUp(false)` makes every call fail with UNAVAILABLE,
// like a cloud server that is down.
class FakeCloudLink : public CloudLink {
 public:
  void SetUp(bool up) {
    absl::MutexLock lock(&mu_);
    up_ = up;
  }
  void SetUploadToken(std::string token) {
    absl::MutexLock lock(&mu_);
    token_ = std::move(token);
  }

  void UpdateDevices(const relay::v1::DeviceList& list,
                     std::function<void(absl::Status)> done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      ++update_devices_calls_;
      status = up_ ? absl::OkStatus() : absl::UnavailableError("cloud is down");
      if (status.ok()) device_lists_.push_back(list);
    }
    done(status);
  }

  void UpdateJobProgress(const relay::v1::JobProgress& progress,
                         std::function<void(absl::Status)> done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      status = up_ ? absl::OkStatus() : absl::UnavailableError("cloud is down");
      if (status.ok()) progress_.push_back(progress);
    }
    done(status);
  }

  void AuthorizeUpload(const relay::v1::AuthorizeUploadRequest& request,
                       std::function<void(absl::StatusOr<std::string>)> done) override {
    absl::StatusOr<std::string> result;
    {
      absl::MutexLock lock(&mu_);
      if (up_) {
        uploads_.push_back(request);
        result = token_;
      } else {
        result = absl::UnavailableError("cloud is down");
      }
    }
    done(std::move(result));
  }

  // Blocks until the cloud received a device list of `gateway_id` with at
  // least `version`; false after `timeout` (a safety net, not a sleep).
  bool WaitForDeviceList(const std::string& gateway_id, int64_t version,
                         absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    auto has = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& list : device_lists_) {
        if (list.gateway_id() == gateway_id && list.version() >= version) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&has), timeout);
  }

  bool WaitForUpdateDevicesCalls(int n, absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return update_devices_calls_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  std::vector<relay::v1::DeviceList> device_lists() const {
    absl::MutexLock lock(&mu_);
    return device_lists_;
  }
  std::vector<relay::v1::JobProgress> progress() const {
    absl::MutexLock lock(&mu_);
    return progress_;
  }
  std::vector<relay::v1::AuthorizeUploadRequest> uploads() const {
    absl::MutexLock lock(&mu_);
    return uploads_;
  }

 private:
  mutable absl::Mutex mu_;
  bool up_ ABSL_GUARDED_BY(mu_) = true;
  std::string token_ ABSL_GUARDED_BY(mu_) = "upload-token";
  int update_devices_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<relay::v1::DeviceList> device_lists_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::JobProgress> progress_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::AuthorizeUploadRequest> uploads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mgmt::testing

#endif  // RELAY_MGMT_SERVER_TESTING_FAKE_CLOUD_LINK_H_
