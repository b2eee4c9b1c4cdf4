#include "gateway/device_table.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/ids.h"

namespace relay::gateway {
namespace {

using relay::v1::DeviceInfo;

constexpr size_t kMaxTextField = 128;
constexpr int kMaxFormats = 32;
constexpr size_t kMaxFormatLength = 100;

bool IsCleanText(absl::string_view text, size_t max_length) {
  if (text.size() > max_length) return false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;  // control characters (log injection)
  }
  return true;
}

// Splits "host:port" / "[v6]:port"; the host without brackets.
bool SplitHostPort(absl::string_view address, absl::string_view* host, int* port) {
  absl::string_view port_text;
  if (absl::ConsumePrefix(&address, "[")) {
    size_t close = address.find("]:");
    if (close == absl::string_view::npos) return false;
    *host = address.substr(0, close);
    port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return false;
    *host = address.substr(0, colon);
    if (absl::StrContains(*host, ':')) return false;  // unbracketed IPv6
    port_text = address.substr(colon + 1);
  }
  if (host->empty() || host->size() > 253) return false;
  for (char c : *host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' &&
        c != ':' && c != '_' && c != '%') {
      return false;
    }
  }
  return absl::SimpleAtoi(port_text, port) && *port >= 1 && *port <= 65535 &&
         port_text.size() <= 5;
}

// Equality for change detection: last_seen_unix moves every round and must
// not make the list "change" (and be re-reported) every probe.
bool SameDevice(const DeviceInfo& a, const DeviceInfo& b) {
  DeviceInfo x = a;
  DeviceInfo y = b;
  x.clear_last_seen_unix();
  y.clear_last_seen_unix();
  return x.SerializeAsString() == y.SerializeAsString();
}

}  // namespace

absl::Status ValidateHostPort(absl::string_view address) {
  absl::string_view host;
  int port = 0;
  if (!SplitHostPort(address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", absl::CHexEscape(address.substr(0, 80)),
        "\" is not host:port with a port in 1..65535"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StaticDevice>> ParseStaticDevices(absl::string_view text) {
  std::vector<StaticDevice> devices;
  std::set<std::string> seen;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, '=');
    if (!IsSafeId(kv.first, 64)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "static device \"", entry,
          "\": expected id=host:port with an id of 1-64 letters, digits, '.', '_', "
          "':' or '-'"));
    }
    absl::Status address = ValidateHostPort(kv.second);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("static device \"", entry, "\": ", address.message()));
    }
    if (!seen.insert(std::string(kv.first)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("static device id \"", kv.first, "\" is listed twice"));
    }
    devices.push_back({std::string(kv.first), std::string(kv.second)});
  }
  return devices;
}

absl::StatusOr<std::vector<std::string>> ParseHostPortList(absl::string_view text) {
  std::vector<std::string> targets;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    absl::Status status = ValidateHostPort(entry);
    if (!status.ok()) return status;
    targets.emplace_back(entry);
  }
  return targets;
}

absl::StatusOr<DeviceInfo> SanitizeAnnouncedDevice(const DeviceInfo& device,
                                                   absl::string_view source_ip,
                                                   absl::Time now) {
  if (!IsSafeId(device.device_id(), 64)) {
    return absl::InvalidArgumentError("announced device id is missing or malformed");
  }
  if (device.protocol() != "mfp-sim") {
    return absl::InvalidArgumentError(absl::StrCat(
        "device ", device.device_id(), " announces an unsupported protocol \"",
        absl::CHexEscape(device.protocol().substr(0, 32)), "\""));
  }
  absl::string_view host;
  int port = 0;
  if (!SplitHostPort(device.address(), &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("device ", device.device_id(), " announces a malformed address"));
  }
  if (!IsCleanText(device.name(), kMaxTextField) ||
      !IsCleanText(device.model(), kMaxTextField)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device ", device.device_id(), " announces an oversized or binary name/model"));
  }
  if (device.capabilities().formats_size() > kMaxFormats) {
    return absl::InvalidArgumentError(
        absl::StrCat("device ", device.device_id(), " announces too many formats"));
  }
  for (const std::string& format : device.capabilities().formats()) {
    if (format.empty() || !IsCleanText(format, kMaxFormatLength)) {
      return absl::InvalidArgumentError(
          absl::StrCat("device ", device.device_id(), " announces a malformed format"));
    }
  }
  DeviceInfo clean;
  clean.set_device_id(device.device_id());
  clean.set_name(device.name().empty() ? device.device_id() : device.name());
  clean.set_model(device.model());
  if (host == "0.0.0.0" || host == "::") {
    if (source_ip.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "device ", device.device_id(), " announces a wildcard address"));
    }
    clean.set_address(absl::StrContains(source_ip, ':')
                          ? absl::StrCat("[", source_ip, "]:", port)
                          : absl::StrCat(source_ip, ":", port));
  } else {
    clean.set_address(device.address());
  }
  clean.set_protocol(device.protocol());
  *clean.mutable_capabilities() = device.capabilities();
  clean.set_status(relay::v1::DeviceStatus_IsValid(device.status())
                       ? device.status()
                       : relay::v1::DEVICE_STATUS_UNSPECIFIED);
  clean.set_discovered_by("probe");
  clean.set_last_seen_unix(absl::ToUnixSeconds(now));
  return clean;
}

DeviceTable::DeviceTable(const std::vector<StaticDevice>& static_devices,
                         int max_missed_rounds)
    : max_missed_rounds_(std::max(1, max_missed_rounds)) {
  for (const StaticDevice& s : static_devices) {
    Entry entry;
    entry.is_static = true;
    entry.info.set_device_id(s.device_id);
    entry.info.set_name(s.device_id);
    entry.info.set_address(s.address);
    entry.info.set_protocol("mfp-sim");
    entry.info.mutable_capabilities()->set_print(true);
    entry.info.set_discovered_by("static");
    entries_.push_back(std::move(entry));
  }
}

bool DeviceTable::EndRound(const std::vector<DeviceInfo>& announced, absl::Time now) {
  bool changed = false;
  std::map<std::string, const DeviceInfo*> latest;
  std::vector<std::string> order;  // new devices in the order first announced
  for (const DeviceInfo& d : announced) {
    if (latest.emplace(d.device_id(), &d).second) order.push_back(d.device_id());
    latest[d.device_id()] = &d;
  }
  std::set<std::string> known;
  std::vector<Entry> kept;
  for (Entry& entry : entries_) {
    known.insert(entry.info.device_id());
    auto it = latest.find(entry.info.device_id());
    if (entry.is_static) {
      kept.push_back(std::move(entry));  // announcements never override config
      continue;
    }
    if (it != latest.end()) {
      DeviceInfo info = *it->second;
      info.set_last_seen_unix(absl::ToUnixSeconds(now));
      if (!SameDevice(info, entry.info)) changed = true;
      entry.info = std::move(info);
      entry.missed_rounds = 0;
      kept.push_back(std::move(entry));
    } else if (++entry.missed_rounds < max_missed_rounds_) {
      kept.push_back(std::move(entry));
    } else {
      changed = true;  // dropped
    }
  }
  for (const std::string& id : order) {
    if (known.count(id) > 0) continue;
    Entry entry;
    entry.info = *latest[id];
    entry.info.set_last_seen_unix(absl::ToUnixSeconds(now));
    kept.push_back(std::move(entry));
    changed = true;
  }
  entries_ = std::move(kept);
  return changed;
}

bool DeviceTable::UpdateStatic(const DeviceInfo& info, absl::Time now) {
  for (Entry& entry : entries_) {
    if (!entry.is_static || entry.info.device_id() != info.device_id()) continue;
    DeviceInfo merged = info;
    merged.set_device_id(entry.info.device_id());
    merged.set_address(entry.info.address());
    merged.set_protocol("mfp-sim");
    // The device's answer is LAN input like an announcement: the same checks
    // (text sizes, control characters, formats); a malformed one is ignored.
    if (!SanitizeAnnouncedDevice(merged, "", now).ok()) return false;
    if (!relay::v1::DeviceStatus_IsValid(merged.status())) {
      merged.set_status(relay::v1::DEVICE_STATUS_UNSPECIFIED);
    }
    merged.set_discovered_by("static");
    merged.clear_registered();
    merged.clear_is_gateway_host();
    merged.clear_job_in_flight();
    if (merged.name().empty()) merged.set_name(entry.info.device_id());
    merged.set_last_seen_unix(absl::ToUnixSeconds(now));
    bool changed = !SameDevice(merged, entry.info);
    entry.info = std::move(merged);
    return changed;
  }
  return false;
}

std::vector<DeviceInfo> DeviceTable::Devices() const {
  std::vector<DeviceInfo> devices;
  devices.reserve(entries_.size());
  for (const Entry& entry : entries_) devices.push_back(entry.info);
  return devices;
}

std::vector<std::string> DeviceTable::DeviceIds() const {
  std::vector<std::string> ids;
  ids.reserve(entries_.size());
  for (const Entry& entry : entries_) ids.push_back(entry.info.device_id());
  return ids;
}

}  // namespace relay::gateway
