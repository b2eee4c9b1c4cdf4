#ifndef RELAY_COMMON_DISCOVERY_WIRE_H_
#define RELAY_COMMON_DISCOVERY_WIRE_H_

// The UDP discovery datagrams of the LAN (proto/relay/v1/lan.proto): the
// 4 bytes "RLY1" followed by a serialized DiscoveryProbe (gateway -> devices)
// or DiscoveryAnnouncement (device -> gateway). Shared by the gateway's
// discovery and mfp_sim's responder so both sides agree byte for byte.
//
//   std::string datagram = EncodeProbe(probe);
//   sendto(fd, datagram.data(), datagram.size(), ...);
//   ...
//   absl::StatusOr<DiscoveryAnnouncement> a = DecodeAnnouncement(received);
//   if (!a.ok()) { /* malformed: ignore */ }

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "relay/v1/lan.pb.h"

namespace relay {

inline constexpr absl::string_view kDiscoveryMagic = "RLY1";

// Largest datagram either side sends or accepts. Receivers should read into a
// buffer of kMaxDiscoveryDatagramBytes + 1 bytes so an oversized datagram is
// seen as such rather than silently truncated.
inline constexpr size_t kMaxDiscoveryDatagramBytes = 8192;

// Encoders never fail; a caller that put huge strings into the message
// checks the result against kMaxDiscoveryDatagramBytes before sending.
std::string EncodeProbe(const relay::v1::DiscoveryProbe& probe);
std::string EncodeAnnouncement(const relay::v1::DiscoveryAnnouncement& announcement);

// INVALID_ARGUMENT for a datagram that is too large, lacks the magic prefix
// or does not parse.
absl::StatusOr<relay::v1::DiscoveryProbe> DecodeProbe(absl::string_view datagram);
absl::StatusOr<relay::v1::DiscoveryAnnouncement> DecodeAnnouncement(
    absl::string_view datagram);

}  // namespace relay

#endif  // RELAY_COMMON_DISCOVERY_WIRE_H_
