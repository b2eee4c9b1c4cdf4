#ifndef RELAY_GATEWAY_TESTING_FAKE_DEVICE_DRIVER_H_
#define RELAY_GATEWAY_TESTING_FAKE_DEVICE_DRIVER_H_

#include <map>
#include <set>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "gateway/device_driver.h"

namespace relay::gateway::testing {

// A DeviceDriver that "prints" into memory. Prints can be made to fail, or to
// block in Finish() until released (to keep a device busy in a test).
class FakeDeviceDriver : public DeviceDriver, public DriverRegistry {
 public:
  struct Printed {
    std::string device_id;
    std::string data;
    bool finished = false;
    bool cancelled = false;
  };

  // DriverRegistry: every device uses this driver.
  DeviceDriver* ForDevice(const relay::v1::DeviceInfo&) override { return this; }

  absl::StatusOr<relay::v1::DeviceInfo> GetStatus(
      const relay::v1::DeviceInfo& device) override {
    relay::v1::DeviceInfo info = device;
    info.set_status(relay::v1::DEVICE_STATUS_IDLE);
    return info;
  }

  absl::StatusOr<std::unique_ptr<PrintSink>> StartPrint(
      const relay::v1::DeviceInfo& device, const relay::v1::PrintHeader& header) override {
    absl::MutexLock lock(&mu_);
    if (!start_error_.ok()) return start_error_;
    prints_[header.job_id()] = Printed{device.device_id(), "", false, false};
    return std::unique_ptr<PrintSink>(new Sink(this, header.job_id()));
  }

  void FailStart(absl::Status error) {
    absl::MutexLock lock(&mu_);
    start_error_ = std::move(error);
  }
  void FailWrites(absl::Status error) {
    absl::MutexLock lock(&mu_);
    write_error_ = std::move(error);
  }
  // Finish() of prints for `job_id` blocks until ReleasePrint(job_id).
  void HoldPrint(const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    held_[job_id] = true;
  }
  void ReleasePrint(const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    held_[job_id] = false;
  }
  // Waits until the print of `job_id` reached Finish() (and is held there).
  void WaitUntilFinishing(const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    auto finishing = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return finishing_.count(job_id) > 0;
    };
    mu_.Await(absl::Condition(&finishing));
  }

  std::map<std::string, Printed> prints() const {
    absl::MutexLock lock(&mu_);
    return prints_;
  }

 private:
  class Sink : public PrintSink {
   public:
    Sink(FakeDeviceDriver* driver, std::string job_id)
        : driver_(driver), job_id_(std::move(job_id)) {}
    absl::Status Write(absl::string_view data) override {
      absl::MutexLock lock(&driver_->mu_);
      if (!driver_->write_error_.ok()) return driver_->write_error_;
      driver_->prints_[job_id_].data.append(data.data(), data.size());
      return absl::OkStatus();
    }
    absl::StatusOr<DevicePrintResult> Finish() override {
      absl::MutexLock lock(&driver_->mu_);
      driver_->finishing_.insert(job_id_);
      auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(driver_->mu_) {
        return !driver_->held_[job_id_];
      };
      driver_->mu_.Await(absl::Condition(&released));
      Printed& printed = driver_->prints_[job_id_];
      printed.finished = true;
      DevicePrintResult result;
      result.bytes_received = static_cast<int64_t>(printed.data.size());
      result.sha256_hex = Sha256::HexOf(printed.data);
      return result;
    }
    void Cancel() override {
      absl::MutexLock lock(&driver_->mu_);
      driver_->prints_[job_id_].cancelled = true;
    }

   private:
    FakeDeviceDriver* const driver_;
    const std::string job_id_;
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Printed> prints_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> held_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> finishing_ ABSL_GUARDED_BY(mu_);
  absl::Status start_error_ ABSL_GUARDED_BY(mu_);
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway::testing

#endif  // RELAY_GATEWAY_TESTING_FAKE_DEVICE_DRIVER_H_
