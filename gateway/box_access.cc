#include "gateway/box_access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace relay::gateway {
namespace {

constexpr int kMinutesPerDay = 24 * 60;

BoxDecision Deny(std::string condition, std::string message) {
  return BoxDecision{false, std::move(condition), std::move(message)};
}

std::string Hhmm(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

}  // namespace

BoxDecision EvaluateBoxAccess(const std::optional<relay::v1::BoxAccessCondition>& condition,
                              const relay::v1::BoxRequest& request, absl::Time now,
                              int64_t accesses_so_far) {
  const std::string box = request.box_id();
  if (!condition.has_value()) {
    return Deny("no_conditions", absl::StrCat("the owner of box ", box,
                                              " has set no access conditions: no "
                                              "external access"));
  }
  const relay::v1::BoxAccessCondition& c = *condition;
  if (c.expires_unix() != 0 && absl::ToUnixSeconds(now) >= c.expires_unix()) {
    return Deny("expiry",
                absl::StrCat("the access conditions of box ", box, " expired at ",
                             absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                              absl::FromUnixSeconds(c.expires_unix()),
                                              absl::UTCTimeZone())));
  }
  auto listed = [](const auto& list, const std::string& value) {
    return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
  };
  if (!listed(c.allowed_clients(), request.client_id()) &&
      !listed(c.allowed_users(), request.user_id())) {
    return Deny("party", absl::StrCat("neither client \"", request.client_id(),
                                      "\" nor user \"", request.user_id(),
                                      "\" is allowed on box ", box));
  }
  if (std::find(c.operations().begin(), c.operations().end(), request.operation()) ==
      c.operations().end()) {
    return Deny("operation",
                absl::StrCat("operation ", relay::v1::BoxOperation_Name(request.operation()),
                             " is not allowed on box ", box));
  }
  int start = c.window_start_minute();
  int end = c.window_end_minute();
  if (start != end) {
    absl::CivilMinute civil = absl::ToCivilMinute(now, absl::UTCTimeZone());
    int minute = civil.hour() * 60 + civil.minute();
    bool inside = start < end ? (minute >= start && minute < end)
                              : (minute >= start || minute < end);
    if (!inside) {
      return Deny("time_window", absl::StrCat("box ", box, " is open to external access "
                                              "only from ", Hhmm(start), " to ", Hhmm(end),
                                              " UTC; it is ", Hhmm(minute), " UTC"));
    }
  }
  if (c.max_accesses() > 0 && accesses_so_far >= c.max_accesses()) {
    return Deny("max_accesses", absl::StrCat("box ", box, " allows at most ",
                                             c.max_accesses(), " accesses; all were used"));
  }
  return BoxDecision{true, "", ""};
}

std::string ValidateBoxCondition(const relay::v1::BoxAccessCondition& condition) {
  if (condition.device_id().empty() || condition.device_id().size() > 128) {
    return "device_id is missing or longer than 128 characters";
  }
  if (condition.box_id().empty() || condition.box_id().size() > 128) {
    return "box_id is missing or longer than 128 characters";
  }
  auto minute_ok = [](int m) { return m >= 0 && m < kMinutesPerDay; };
  if (!minute_ok(condition.window_start_minute()) ||
      !minute_ok(condition.window_end_minute())) {
    return "window minutes must be 0..1439";
  }
  if (condition.max_accesses() < 0) return "max_accesses must not be negative";
  if (condition.expires_unix() < 0) return "expires_unix must not be negative";
  for (int op : condition.operations()) {
    if (op != relay::v1::BOX_OPERATION_LIST && op != relay::v1::BOX_OPERATION_READ &&
        op != relay::v1::BOX_OPERATION_DELETE) {
      return "operations must be LIST, READ or DELETE";
    }
  }
  return "";
}

}  // namespace relay::gateway
