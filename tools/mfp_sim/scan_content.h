#ifndef RELAY_TOOLS_MFP_SIM_SCAN_CONTENT_H_
#define RELAY_TOOLS_MFP_SIM_SCAN_CONTENT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace relay::mfp_sim {

// The content of one simulated scanned page: `bytes` bytes, a function of
// (scan_id, page) only, so a test can recompute what a scan contained. Starts
// with a readable line ("SIMSCAN scan=<id> page=<n>\n") when it fits, then
// pseudo-random bytes.
std::string ScanPage(absl::string_view scan_id, int page, int64_t bytes);

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_SCAN_CONTENT_H_
