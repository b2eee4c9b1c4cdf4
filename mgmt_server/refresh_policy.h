#ifndef RELAY_MGMT_SERVER_REFRESH_POLICY_H_
#define RELAY_MGMT_SERVER_REFRESH_POLICY_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mgmt_server/management_store.h"

namespace relay::mgmt {

// Why the device information must be fetched again before an access is
// routed (related design 2, the "update determining portion").
enum class RefreshReason {
  kNone,            // fresh enough: route at once
  kUnknownDevice,   // nothing was ever fetched for the device
  kStale,           // fetched longer ago than the configured maximum age
  kLastStateFault,  // last known state was a fault (paper, toner, offline)
};

// The rule, pure: unknown first, then a fault state, then the age. The
// information is stale when now - fetched_at > max_age (exactly max_age old is
// still fresh); max_age == 0 refreshes before every access.
RefreshReason DecideRefresh(const std::optional<StoredDeviceInfo>& stored, absl::Time now,
                            absl::Duration max_age);

// "unknown_device", "stale", "last_state_fault", "none" (for logs).
absl::string_view RefreshReasonName(RefreshReason reason);

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_REFRESH_POLICY_H_
