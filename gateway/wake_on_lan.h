#ifndef RELAY_GATEWAY_WAKE_ON_LAN_H_
#define RELAY_GATEWAY_WAKE_ON_LAN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace relay::gateway {

// Wake-on-LAN (related design 1), pure functions: the magic packet is 6 bytes
// 0xFF then the target's MAC 16 times (102 bytes; a 4- or 6-byte SecureOn
// password may follow and is ignored).
//
//   ASSIGN_OR_RETURN(MacAddress mac, ParseMac("02:1a:2b:3c:4d:5e"));
//   std::string packet = EncodeMagicPacket(mac);
//   std::optional<MacAddress> target = ParseMagicPacket(received);
using MacAddress = std::array<uint8_t, 6>;

inline constexpr size_t kMagicPacketBytes = 102;

// "02:1a:2b:3c:4d:5e" or with '-' separators, either case.
absl::StatusOr<MacAddress> ParseMac(absl::string_view text);
// Lower case, ':' separated.
std::string FormatMac(const MacAddress& mac);
// A random locally administered unicast MAC (first byte: multicast bit
// clear, locally-administered bit set).
MacAddress RandomLocalMac();

std::string EncodeMagicPacket(const MacAddress& mac);
// The MAC a magic packet wakes, or nothing if `data` is not one.
std::optional<MacAddress> ParseMagicPacket(absl::string_view data);

// Where a substitute may send a magic packet or a forwarded request: only
// host:port on loopback (127.0.0.0/8) — the demo's and the tests' LAN. Any
// other address is refused: addresses come from the management server and
// must not turn a gateway into a packet cannon.
absl::Status CheckWakeTarget(absl::string_view host_port);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_WAKE_ON_LAN_H_
