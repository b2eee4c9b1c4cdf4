#include "tools/mfp_sim/sim_lan.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace relay::mfp_sim {

absl::Status ValidateSimId(absl::string_view what, absl::string_view id,
                           size_t max_size) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (id.size() > max_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", max_size, " characters"));
  }
  if (id[0] == '.') {
    return absl::InvalidArgumentError(absl::StrCat(what, " must not start with '.'"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " \"", id, "\" may only contain letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

std::vector<relay::v1::DeviceInfo> SimLan::DefaultFleet(int count, int id_base) {
  std::vector<relay::v1::DeviceInfo> fleet;
  for (int i = 0; i < count; ++i) {
    int n = id_base + i;
    relay::v1::DeviceInfo& device = fleet.emplace_back();
    device.set_device_id(absl::StrCat("mfp-", n));
    device.set_name(absl::StrCat("MFP ", n));
    device.set_protocol("mfp-sim");
    relay::v1::Capabilities* caps = device.mutable_capabilities();
    caps->set_print(true);
    caps->set_scan(true);
    caps->add_formats("application/pdf");
    caps->add_formats("application/octet-stream");
    if (i % 2 == 0) {
      device.set_model("SimMFP C300");
      caps->set_color(true);
      caps->set_duplex(true);
    } else {
      device.set_model("SimMFP M200");
      caps->set_color(false);
      // Every other mono device has a duplex unit.
      caps->set_duplex(i % 4 == 3);
    }
  }
  return fleet;
}

absl::StatusOr<SimDevice*> SimLan::Add(relay::v1::DeviceInfo info) {
  absl::Status valid = ValidateSimId("device_id", info.device_id(), 64);
  if (!valid.ok()) return valid;
  if (info.protocol().empty()) info.set_protocol("mfp-sim");
  absl::MutexLock lock(&mu_);
  if (by_id_.contains(info.device_id())) {
    return absl::AlreadyExistsError(
        absl::StrCat("device ", info.device_id(), " already exists"));
  }
  if (!address_.empty()) info.set_address(address_);
  auto device = std::make_unique<SimDevice>(std::move(info), clock_);
  SimDevice* raw = device.get();
  by_id_[raw->id()] = raw;
  devices_.push_back(std::move(device));
  return raw;
}

SimDevice* SimLan::Find(absl::string_view device_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(device_id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<SimDevice*> SimLan::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<SimDevice*> result;
  result.reserve(devices_.size());
  for (const auto& device : devices_) {
    if (by_id_.contains(device->id())) result.push_back(device.get());
  }
  return result;
}

absl::StatusOr<relay::v1::DeviceInfo> SimLan::Remove(absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(device_id);
  if (it == by_id_.end()) {
    return absl::NotFoundError(absl::StrCat("device ", device_id, " is not known"));
  }
  relay::v1::DeviceInfo info = it->second->Info();
  by_id_.erase(it);
  return info;
}

void SimLan::SetAddress(const std::string& address) {
  absl::MutexLock lock(&mu_);
  address_ = address;
  for (const auto& device : devices_) device->SetAddress(address);
}

}  // namespace relay::mfp_sim
