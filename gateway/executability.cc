#include "gateway/executability.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace relay::gateway {

std::string CheckExecutable(const relay::v1::DeviceInfo& device,
                            const JobRequirements& requirements) {
  const std::string& id = device.device_id();
  switch (device.status()) {
    case relay::v1::DEVICE_STATUS_OFFLINE:
      return absl::StrCat("device ", id, " is offline");
    case relay::v1::DEVICE_STATUS_PAPER_OUT:
      return absl::StrCat("device ", id, " is out of paper");
    case relay::v1::DEVICE_STATUS_TONER_EMPTY:
      return absl::StrCat("device ", id, " is out of toner");
    case relay::v1::DEVICE_STATUS_BUSY:
      if (!device.capabilities().accepts_queued_jobs()) {
        return absl::StrCat("device ", id,
                            " is busy with a job it cannot queue another behind");
      }
      break;
    default:
      break;
  }
  const relay::v1::Capabilities& caps = device.capabilities();
  if (!requirements.content_type.empty() && caps.formats_size() > 0) {
    std::string wanted = absl::AsciiStrToLower(requirements.content_type);
    bool supported = std::any_of(caps.formats().begin(), caps.formats().end(),
                                 [&](const std::string& format) {
                                   return absl::AsciiStrToLower(format) == wanted;
                                 });
    if (!supported) {
      return absl::StrCat("device ", id, " does not print the format ",
                          requirements.content_type);
    }
  }
  if (requirements.options.color() && !caps.color()) {
    return absl::StrCat("the job asks for colour; device ", id, " prints mono only");
  }
  if (requirements.options.duplex() && !caps.duplex()) {
    return absl::StrCat("the job asks for duplex; device ", id,
                        " has no duplex unit");
  }
  return "";
}

}  // namespace relay::gateway
