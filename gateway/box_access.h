#ifndef RELAY_GATEWAY_BOX_ACCESS_H_
#define RELAY_GATEWAY_BOX_ACCESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "relay/v1/common.pb.h"

namespace relay::gateway {

// The gateway's decision on one external request to a device's box.
struct BoxDecision {
  bool permitted = false;
  // Denied: which condition failed: "no_conditions", "party", "operation",
  // "time_window", "expiry", "max_accesses" (BoxResult.failed_condition).
  std::string failed_condition;
  // For the external party, e.g. "user mallory is not allowed on box scans".
  std::string message;
};

// Related design 4, the comparison of an access request with the access
// conditions the device's owner set. Pure: `now` and the number of accesses
// already permitted are given. Conditions are checked in this order, the
// first failing one is reported:
//   no_conditions  the owner set none for this box: nobody may use it;
//   expiry         now >= expires_unix (when set);
//   party          neither the client nor the user is listed;
//   operation      the operation is not listed;
//   time_window    the UTC minute of the day is outside [start, end)
//                  (end < start wraps past midnight; start == end: any time);
//   max_accesses   accesses_so_far >= max_accesses (when set).
BoxDecision EvaluateBoxAccess(const std::optional<relay::v1::BoxAccessCondition>& condition,
                              const relay::v1::BoxRequest& request, absl::Time now,
                              int64_t accesses_so_far);

// Checks a condition sent by a device: ids present, window minutes in
// 0..1439, max_accesses >= 0, known operations. "" if valid, else why not.
std::string ValidateBoxCondition(const relay::v1::BoxAccessCondition& condition);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_BOX_ACCESS_H_
