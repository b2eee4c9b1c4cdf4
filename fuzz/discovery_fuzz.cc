// Fuzz target: the UDP discovery datagrams of the LAN (untrusted: anyone on
// the LAN can send them) and the sanitizing of announced devices.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/discovery_wire.h"
#include "gateway/device_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view datagram(reinterpret_cast<const char*>(data), size);
  relay::DecodeProbe(datagram).IgnoreError();
  auto announcement = relay::DecodeAnnouncement(datagram);
  if (!announcement.ok()) return 0;
  auto device = relay::gateway::SanitizeAnnouncedDevice(
      announcement->device(), "10.0.0.5", absl::FromUnixSeconds(1'700'000'000));
  if (device.ok()) {
    // What passed must be what the gateway is willing to list.
    if (device->device_id().empty() || device->registered() || device->job_in_flight()) {
      std::abort();
    }
    relay::gateway::DeviceTable table({}, 3);
    table.EndRound({*device}, absl::FromUnixSeconds(1'700'000'001));
    if (table.Devices().size() != 1) std::abort();
  }
  return 0;
}
