#include "common/discovery_wire.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace relay {
namespace {

template <typename Message>
std::string Encode(const Message& message) {
  std::string datagram(kDiscoveryMagic);
  message.AppendToString(&datagram);
  return datagram;
}

template <typename Message>
absl::StatusOr<Message> Decode(absl::string_view datagram, absl::string_view what) {
  if (datagram.size() > kMaxDiscoveryDatagramBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("discovery ", what, " of ", datagram.size(),
                     " bytes exceeds the limit of ", kMaxDiscoveryDatagramBytes));
  }
  if (!absl::StartsWith(datagram, kDiscoveryMagic)) {
    return absl::InvalidArgumentError(
        absl::StrCat("discovery ", what, " lacks the \"RLY1\" prefix"));
  }
  datagram.remove_prefix(kDiscoveryMagic.size());
  Message message;
  if (!message.ParseFromArray(datagram.data(), static_cast<int>(datagram.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("discovery ", what, " does not parse"));
  }
  return message;
}

}  // namespace

std::string EncodeProbe(const relay::v1::DiscoveryProbe& probe) { return Encode(probe); }

std::string EncodeAnnouncement(const relay::v1::DiscoveryAnnouncement& announcement) {
  return Encode(announcement);
}

absl::StatusOr<relay::v1::DiscoveryProbe> DecodeProbe(absl::string_view datagram) {
  return Decode<relay::v1::DiscoveryProbe>(datagram, "probe");
}

absl::StatusOr<relay::v1::DiscoveryAnnouncement> DecodeAnnouncement(
    absl::string_view datagram) {
  return Decode<relay::v1::DiscoveryAnnouncement>(datagram, "announcement");
}

}  // namespace relay
