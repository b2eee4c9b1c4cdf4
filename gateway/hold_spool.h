#ifndef RELAY_GATEWAY_HOLD_SPOOL_H_
#define RELAY_GATEWAY_HOLD_SPOOL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/device_driver.h"

namespace relay::gateway {

// The "device" a held print is received into (related design 3): a
// DeviceDriver whose print sink writes the document to
// `<dir>/<job_id>.held` while hashing it. Finish() fsyncs the file and then
// calls `commit` (which persists the hold) before it answers, so the cloud
// hears HELD only once the hold would survive a crash. Used for one job.
//
//   HoldSpoolDriver spool(dir, [&](const std::string& path,
//                                  const DevicePrintResult& r) { return holds->Add(...); });
//   tunnels->RunPrint(job_with_hold_reason, &spool, callbacks);
class HoldSpoolDriver : public DeviceDriver {
 public:
  using Commit =
      std::function<absl::Status(const std::string& path, const DevicePrintResult& result)>;
  HoldSpoolDriver(std::string dir, Commit commit)
      : dir_(std::move(dir)), commit_(std::move(commit)) {}

  // The path a job's document is spooled to.
  static std::string PathFor(const std::string& dir, const std::string& job_id);

  absl::StatusOr<relay::v1::DeviceInfo> GetStatus(
      const relay::v1::DeviceInfo& device) override {
    return device;
  }
  absl::StatusOr<std::unique_ptr<PrintSink>> StartPrint(
      const relay::v1::DeviceInfo& device, const relay::v1::PrintHeader& header) override;

 private:
  const std::string dir_;
  Commit commit_;
};

// Streams a spooled file into `sink` in chunks, then finishes it. Returns the
// device's answer. Blocking.
absl::StatusOr<DevicePrintResult> PrintFromFile(const std::string& path, PrintSink* sink);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_HOLD_SPOOL_H_
