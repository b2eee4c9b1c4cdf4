#include "gateway/wake_on_lan.h"

#include <arpa/inet.h>

#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace relay::gateway {

absl::StatusOr<MacAddress> ParseMac(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::ByAnyChar(":-"));
  MacAddress mac{};
  if (parts.size() != mac.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a MAC address (6 hex bytes, e.g. 02:1a:2b:3c:4d:5e)"));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    uint32_t value = 0;
    if (parts[i].size() != 2 || !absl::ascii_isxdigit(parts[i][0]) ||
        !absl::ascii_isxdigit(parts[i][1]) || !absl::SimpleHexAtoi(parts[i], &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not a MAC address (6 hex bytes, e.g. 02:1a:2b:3c:4d:5e)"));
    }
    mac[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

std::string FormatMac(const MacAddress& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                         mac[4], mac[5]);
}

MacAddress RandomLocalMac() {
  std::random_device random;
  MacAddress mac{};
  for (uint8_t& byte : mac) byte = static_cast<uint8_t>(random() & 0xff);
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfc) | 0x02);  // unicast, locally administered
  return mac;
}

std::string EncodeMagicPacket(const MacAddress& mac) {
  std::string packet(6, '\xff');
  packet.reserve(kMagicPacketBytes);
  for (int i = 0; i < 16; ++i) packet.append(reinterpret_cast<const char*>(mac.data()), 6);
  return packet;
}

std::optional<MacAddress> ParseMagicPacket(absl::string_view data) {
  if (data.size() != kMagicPacketBytes && data.size() != kMagicPacketBytes + 4 &&
      data.size() != kMagicPacketBytes + 6) {
    return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) {
    if (static_cast<uint8_t>(data[i]) != 0xff) return std::nullopt;
  }
  MacAddress mac{};
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(data[6 + i]);
  for (int rep = 1; rep < 16; ++rep) {
    for (int i = 0; i < 6; ++i) {
      if (static_cast<uint8_t>(data[6 + rep * 6 + i]) != mac[i]) return std::nullopt;
    }
  }
  return mac;
}

absl::Status CheckWakeTarget(absl::string_view host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("wake target \"", host_port, "\" is not host:port"));
  }
  std::string host(host_port.substr(0, colon));
  int port = 0;
  if (!absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("wake target \"", host_port, "\" has no valid port"));
  }
  in_addr addr{};
  if (host == "localhost") return absl::OkStatus();
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127) {
    return absl::PermissionDeniedError(
        absl::StrCat("wake target \"", host_port,
                     "\" refused: only loopback (127.0.0.0/8) LAN addresses are allowed"));
  }
  return absl::OkStatus();
}

}  // namespace relay::gateway
