#ifndef RELAY_TOOLS_MFP_SIM_SIM_LAN_H_
#define RELAY_TOOLS_MFP_SIM_SIM_LAN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "tools/mfp_sim/sim_device.h"

namespace relay::mfp_sim {

// A device id usable as a file name: 1..64 of [A-Za-z0-9._-], not starting
// with '.'. Job and scan ids follow the same rule (max 128).
absl::Status ValidateSimId(absl::string_view what, absl::string_view id, size_t max_size);

// Every simulated device of the LAN, in the order they appeared. Devices are
// never removed, so SimDevice pointers stay valid for the LAN's lifetime.
class SimLan {
 public:
  explicit SimLan(Clock* clock) : clock_(clock) {}

  // The default fleet: `count` devices "mfp-<id_base + i>", named
  // "MFP <n>", alternating a colour duplex model and a mono model; all scan.
  static std::vector<relay::v1::DeviceInfo> DefaultFleet(int count, int id_base);

  // ALREADY_EXISTS if the id is taken, INVALID_ARGUMENT for a bad id.
  absl::StatusOr<SimDevice*> Add(relay::v1::DeviceInfo info);
  // nullptr if unknown.
  SimDevice* Find(absl::string_view device_id) const;
  std::vector<SimDevice*> List() const;
  // The device leaves the LAN: Find and List no longer return it (the object
  // stays alive for calls in progress). NOT_FOUND if unknown.
  absl::StatusOr<relay::v1::DeviceInfo> Remove(absl::string_view device_id);

  // Where the devices' MfpDevice service listens ("host:port"); applied to
  // every device, present and future.
  void SetAddress(const std::string& address);

 private:
  Clock* const clock_;
  mutable absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<SimDevice>> devices_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, SimDevice*> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_SIM_LAN_H_
