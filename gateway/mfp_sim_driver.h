#ifndef RELAY_GATEWAY_MFP_SIM_DRIVER_H_
#define RELAY_GATEWAY_MFP_SIM_DRIVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/device_driver.h"
#include "grpcpp/channel.h"
#include "relay/v1/lan.grpc.pb.h"

namespace relay::gateway {

// DeviceDriver for the simulator's protocol (MfpDevice in lan.proto): a gRPC
// client per device address (channels are cached), GetStatus as a unary call
// and Print as a client-streaming call (PrintHeader, then data chunks, each
// written as it arrives; gRPC flow control blocks Write() while the device is
// behind).
class MfpSimDriver : public DeviceDriver {
 public:
  struct Options {
    absl::Duration status_deadline = absl::Seconds(3);
    // A print must end within this time (the simulator prints in seconds).
    absl::Duration print_deadline = absl::Hours(1);
  };
  MfpSimDriver() : MfpSimDriver(Options()) {}
  explicit MfpSimDriver(Options options) : options_(options) {}

  absl::StatusOr<relay::v1::DeviceInfo> GetStatus(
      const relay::v1::DeviceInfo& device) override;
  absl::StatusOr<std::unique_ptr<PrintSink>> StartPrint(
      const relay::v1::DeviceInfo& device, const relay::v1::PrintHeader& header) override;
  absl::StatusOr<relay::v1::BoxResult> AccessBox(const relay::v1::DeviceInfo& device,
                                                 const relay::v1::BoxRequest& request) override;

 private:
  relay::v1::MfpDevice::Stub* StubFor(const std::string& address);

  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<relay::v1::MfpDevice::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

// The registry the gateway uses: "mfp-sim" devices go to the MfpSimDriver.
class DefaultDriverRegistry : public DriverRegistry {
 public:
  explicit DefaultDriverRegistry(DeviceDriver* mfp_sim) : mfp_sim_(mfp_sim) {}
  DeviceDriver* ForDevice(const relay::v1::DeviceInfo& device) override {
    if (device.protocol() == "mfp-sim" || device.protocol().empty()) return mfp_sim_;
    return nullptr;
  }

 private:
  DeviceDriver* const mfp_sim_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_MFP_SIM_DRIVER_H_
