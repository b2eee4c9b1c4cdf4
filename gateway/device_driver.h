#ifndef RELAY_GATEWAY_DEVICE_DRIVER_H_
#define RELAY_GATEWAY_DEVICE_DRIVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "relay/v1/common.pb.h"
#include "relay/v1/lan.pb.h"

namespace relay::gateway {

// What the device says when a print ends.
struct DevicePrintResult {
  int64_t bytes_received = 0;
  std::string sha256_hex;
  // The device had printed this job id before and printed nothing now.
  bool duplicate = false;
};

// One print on its way to a device. The document is streamed: Write() each
// chunk as it arrives (it blocks while the device's transport is full, which
// is the backpressure that keeps a 1 GiB document out of memory), then
// Finish(). Used from one thread.
class PrintSink {
 public:
  virtual ~PrintSink() = default;
  virtual absl::Status Write(absl::string_view data) = 0;
  // The same, taking the bytes: a driver that sends them in a message of its
  // own moves them in instead of copying (the print relay's hot path).
  virtual absl::Status WriteChunk(std::string&& data) { return Write(data); }
  // True if Finish() reports the SHA-256 of the bytes the device received.
  // The gateway then compares it with the cloud's instead of hashing the
  // stream a second time itself.
  virtual bool ReportsSha256() const { return false; }
  // No more data: waits for the device's answer.
  virtual absl::StatusOr<DevicePrintResult> Finish() = 0;
  // Abandons the print (the device discards it). Safe to call from another
  // thread, and after Finish().
  virtual void Cancel() = 0;
};

// How the gateway talks to one kind of device on the LAN (the simulator's
// MfpDevice protocol today; IPP later). Thread-safe; the calls block, so they
// run on worker threads, never in gRPC callbacks.
class DeviceDriver {
 public:
  virtual ~DeviceDriver() = default;
  // The device's current information (status: idle, busy, paper out...).
  virtual absl::StatusOr<relay::v1::DeviceInfo> GetStatus(
      const relay::v1::DeviceInfo& device) = 0;
  // Starts a print; `header` names the job (a device prints a job id once).
  virtual absl::StatusOr<std::unique_ptr<PrintSink>> StartPrint(
      const relay::v1::DeviceInfo& device, const relay::v1::PrintHeader& header) = 0;
  // A request to one of the device's storage boxes (related design 4), made
  // only after the gateway checked the box's access conditions.
  virtual absl::StatusOr<relay::v1::BoxResult> AccessBox(
      const relay::v1::DeviceInfo& device, const relay::v1::BoxRequest& request) {
    return absl::UnimplementedError(
        absl::StrCat("device ", device.device_id(), " has no storage boxes"));
  }
};

// Picks the driver for a device by its protocol ("mfp-sim", later "ipp").
class DriverRegistry {
 public:
  virtual ~DriverRegistry() = default;
  // nullptr if no driver speaks the device's protocol.
  virtual DeviceDriver* ForDevice(const relay::v1::DeviceInfo& device) = 0;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_DRIVER_H_
