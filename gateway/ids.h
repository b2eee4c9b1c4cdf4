#ifndef RELAY_GATEWAY_IDS_H_
#define RELAY_GATEWAY_IDS_H_

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace relay::gateway {

// Ids that come from outside (device ids in announcements, scan ids from a
// device, job ids from the cloud) end up in logs, SQL parameters and file
// names (the scan spool), so they are restricted to a safe alphabet:
// letters, digits, '.', '_', ':', '-', not starting with '.', at most
// `max_length` characters.
inline bool IsSafeId(absl::string_view id, size_t max_length = 128) {
  if (id.empty() || id.size() > max_length || id.front() == '.') return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_IDS_H_
