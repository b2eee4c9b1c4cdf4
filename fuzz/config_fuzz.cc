// Fuzz target: the parsers of configuration and identity text: gateway flags
// (--static_devices, --probe_targets, host:port), user and gateway lists of
// `cloud_server users`, certificate identity URIs, bearer-token user names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "cloud_server/user_directory.h"
#include "common/tls_config.h"
#include "gateway/device_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto statics = relay::gateway::ParseStaticDevices(text);
  if (statics.ok()) {
    for (const auto& d : *statics) {
      if (d.device_id.empty() || !relay::gateway::ValidateHostPort(d.address).ok()) {
        std::abort();
      }
    }
  }
  auto targets = relay::gateway::ParseHostPortList(text);
  if (targets.ok()) {
    for (const auto& t : *targets) {
      if (!relay::gateway::ValidateHostPort(t).ok()) std::abort();
    }
  }
  relay::gateway::ValidateHostPort(text).IgnoreError();
  auto gateways = relay::cloud::ParseGatewayList(text);
  if (gateways.ok()) {
    for (const auto& g : *gateways) {
      if (g.empty() || absl::StrContains(g, ",")) std::abort();
    }
  }
  if (relay::cloud::ValidateUserName(text).ok() &&
      (text.empty() || absl::StrContains(text, "/") || absl::StrContains(text, " "))) {
    std::abort();
  }
  auto id = relay::ParseGatewayUri(text);
  if (id.ok() && (id->empty() || absl::StrContains(*id, "/"))) std::abort();
  relay::InspectCertificate(text).IgnoreError();
  return 0;
}
