#include "mgmt_server/refresh_policy.h"

namespace relay::mgmt {

RefreshReason DecideRefresh(const std::optional<StoredDeviceInfo>& stored, absl::Time now,
                            absl::Duration max_age) {
  if (!stored.has_value()) return RefreshReason::kUnknownDevice;
  switch (stored->info.status()) {
    case relay::v1::DEVICE_STATUS_PAPER_OUT:
    case relay::v1::DEVICE_STATUS_TONER_EMPTY:
    case relay::v1::DEVICE_STATUS_OFFLINE:
      return RefreshReason::kLastStateFault;
    default:
      break;
  }
  if (max_age <= absl::ZeroDuration()) return RefreshReason::kStale;
  if (now - stored->fetched_at > max_age) return RefreshReason::kStale;
  return RefreshReason::kNone;
}

absl::string_view RefreshReasonName(RefreshReason reason) {
  switch (reason) {
    case RefreshReason::kNone:
      return "none";
    case RefreshReason::kUnknownDevice:
      return "unknown_device";
    case RefreshReason::kStale:
      return "stale";
    case RefreshReason::kLastStateFault:
      return "last_state_fault";
  }
  return "none";
}

}  // namespace relay::mgmt
