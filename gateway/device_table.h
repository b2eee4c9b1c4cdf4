#ifndef RELAY_GATEWAY_DEVICE_TABLE_H_
#define RELAY_GATEWAY_DEVICE_TABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "relay/v1/common.pb.h"

namespace relay::gateway {

// The pure half of discovery: parsing the configured targets, validating what
// devices announce (untrusted LAN input) and merging probe rounds into the
// list of devices in discovery order. The socket half is discovery.h.

// A device listed with --static_devices ("id=host:port").
struct StaticDevice {
  std::string device_id;
  std::string address;
};

// "id=host:port,id2=host:port" -> entries in order. Empty input -> none.
// INVALID_ARGUMENT naming the bad entry (bad id, bad address, duplicate id).
absl::StatusOr<std::vector<StaticDevice>> ParseStaticDevices(absl::string_view text);

// "host:port,host:port" (probe targets) -> entries in order; at least one.
absl::StatusOr<std::vector<std::string>> ParseHostPortList(absl::string_view text);

// OK if `address` is "host:port" (or "[v6]:port") with a port in 1..65535.
absl::Status ValidateHostPort(absl::string_view address);

// Checks and cleans a DeviceInfo announced by a device. Returns the device as
// the gateway will list it: the gateway's own marks (registered,
// is_gateway_host, job_in_flight) cleared, discovered_by "probe",
// last_seen_unix `now`, an unknown status mapped to UNSPECIFIED, and a
// wildcard host in the address ("0.0.0.0:50081") replaced by `source_ip`, the
// address the announcement came from. INVALID_ARGUMENT for anything malformed:
// bad id, bad address, unsupported protocol, oversized or control characters
// in text fields, too many formats.
absl::StatusOr<relay::v1::DeviceInfo> SanitizeAnnouncedDevice(
    const relay::v1::DeviceInfo& device, absl::string_view source_ip, absl::Time now);

// The devices discovery knows, in discovery order (static devices first, in
// configuration order, then probed devices in the order first seen). A probed
// device missing from `max_missed_rounds` consecutive probe rounds is dropped;
// if it comes back it goes to the end. Static devices never drop. Not
// thread-safe.
//
//   DeviceTable table(statics, /*max_missed_rounds=*/3);
//   table.EndRound(announced_this_round, clock->Now());
//   for (const DeviceInfo& d : table.Devices()) ...
class DeviceTable {
 public:
  DeviceTable(const std::vector<StaticDevice>& static_devices, int max_missed_rounds);

  // A probe round ended; `announced` are the sanitized answers (a device may
  // appear more than once: the last answer wins). Returns true if the set or
  // the order of devices, or any device's information, changed.
  bool EndRound(const std::vector<relay::v1::DeviceInfo>& announced, absl::Time now);

  // Replaces what is known about a static device (from its GetStatus), keeping
  // its configured id and address. Returns true if it changed anything.
  bool UpdateStatic(const relay::v1::DeviceInfo& info, absl::Time now);

  std::vector<relay::v1::DeviceInfo> Devices() const;
  std::vector<std::string> DeviceIds() const;

 private:
  struct Entry {
    relay::v1::DeviceInfo info;
    bool is_static = false;
    int missed_rounds = 0;
  };
  const int max_missed_rounds_;
  std::vector<Entry> entries_;  // discovery order
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_DEVICE_TABLE_H_
