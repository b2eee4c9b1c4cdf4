#include "mgmt_server/device_info_refresher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"

namespace relay::mgmt {
namespace {

constexpr size_t kMaxIdLength = 128;

bool ValidId(const std::string& id) { return !id.empty() && id.size() <= kMaxIdLength; }

}  // namespace

DeviceInfoRefresher::DeviceInfoRefresher(ManagementStore* store, SessionRegistry* registry,
                                         SerialExecutor* executor, Clock* clock,
                                         RefreshOptions options)
    : store_(store),
      registry_(registry),
      executor_(executor),
      clock_(clock),
      options_(options) {}

DeviceInfoRefresher::~DeviceInfoRefresher() { Stop(); }

void DeviceInfoRefresher::Start() {
  timer_ = std::thread([this] { TimerLoop(); });
}

void DeviceInfoRefresher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (timer_.joinable()) timer_.join();
}

void DeviceInfoRefresher::Fetch(const std::string& gateway_id,
                                std::vector<std::string> device_ids, Callback callback) {
  std::string request_id = absl::StrCat("info-", RandomHex(6));
  relay::v1::SessionEvent event;
  relay::v1::DeviceInfoRequest* request = event.mutable_device_info_request();
  request->set_request_id(request_id);
  for (std::string& id : device_ids) request->add_device_ids(std::move(id));
  {
    absl::MutexLock lock(&mu_);
    pending_[request_id] =
        Pending{gateway_id, absl::Now() + options_.fetch_timeout, std::move(callback)};
  }
  absl::Status pushed = registry_->Push(gateway_id, std::move(event));
  if (!pushed.ok()) {
    Callback failed;
    {
      absl::MutexLock lock(&mu_);
      auto it = pending_.find(request_id);
      if (it != pending_.end()) {
        failed = std::move(it->second.callback);
        pending_.erase(it);
      }
    }
    LogWarning("event=device_info_request_failed gateway=%s request=%s reason=\"%s\"",
               gateway_id, request_id, pushed.ToString());
    if (failed) executor_->Post([failed] { failed(std::nullopt); });
    return;
  }
  LogInfo("event=device_info_requested gateway=%s request=%s devices=%d", gateway_id,
          request_id, request->device_ids_size());
}

void DeviceInfoRefresher::OnSessionStarted(const std::string& gateway_id) {
  if (!options_.enabled) return;
  Fetch(gateway_id, {}, nullptr);
}

void DeviceInfoRefresher::OnReport(const relay::v1::DeviceInfoReport& report,
                                   std::function<void(absl::Status)> done) {
  if (!ValidId(report.gateway_id()) || !ValidId(report.request_id())) {
    done(absl::InvalidArgumentError("device info report needs a gateway_id and a request_id"));
    return;
  }
  for (const auto& device : report.devices()) {
    if (!ValidId(device.device_id())) {
      done(absl::InvalidArgumentError("device info report with a missing or too long "
                                      "device_id"));
      return;
    }
  }
  Callback callback;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(report.request_id());
    if (it != pending_.end() && it->second.gateway_id == report.gateway_id()) {
      callback = std::move(it->second.callback);
      pending_.erase(it);
    }
  }
  executor_->Post([this, report, callback, done = std::move(done)] {
    std::vector<relay::v1::DeviceInfo> devices(report.devices().begin(),
                                               report.devices().end());
    absl::Status stored = store_->PutDeviceInfo(report.gateway_id(), devices, clock_->Now());
    for (const std::string& gone : report.missing_device_ids()) {
      if (!stored.ok()) break;
      stored = store_->ForgetDevice(report.gateway_id(), gone);
    }
    LogInfo("event=device_info_stored gateway=%s request=%s devices=%d missing=%d "
            "result=\"%s\"",
            report.gateway_id(), report.request_id(), report.devices_size(),
            report.missing_device_ids_size(), stored.ok() ? "ok" : stored.ToString());
    done(stored);
    if (callback) callback(report);
  });
}

void DeviceInfoRefresher::BeforeRouting(const std::string& job_id,
                                        const std::string& gateway_id,
                                        const std::string& device_id,
                                        std::function<void(absl::Status)> proceed) {
  if (!options_.enabled) {
    proceed(absl::OkStatus());
    return;
  }
  absl::StatusOr<std::optional<StoredDeviceInfo>> stored = store_->GetDeviceInfo(device_id);
  std::optional<StoredDeviceInfo> known;
  if (stored.ok()) known = *stored;
  absl::Time now = clock_->Now();
  RefreshReason reason = DecideRefresh(known, now, options_.max_age);
  if (reason == RefreshReason::kNone) {
    proceed(absl::OkStatus());
    return;
  }
  std::string age = known.has_value()
                        ? absl::FormatDuration(absl::Trunc(now - known->fetched_at,
                                                           absl::Milliseconds(1)))
                        : "never";
  LogInfo("event=device_info_refresh job=%s gateway=%s device=%s reason=%s age=%s",
          job_id, gateway_id, device_id, RefreshReasonName(reason), age);
  Fetch(gateway_id, {device_id},
        [job_id, gateway_id, device_id, reason,
         proceed = std::move(proceed)](std::optional<relay::v1::DeviceInfoReport> report) {
          if (!report.has_value()) {
            LogWarning("event=device_info_refresh_timeout job=%s gateway=%s device=%s "
                       "detail=\"routing with the stored information\"",
                       job_id, gateway_id, device_id);
            proceed(absl::OkStatus());
            return;
          }
          const auto& missing = report->missing_device_ids();
          if (std::find(missing.begin(), missing.end(), device_id) != missing.end()) {
            LogWarning("event=device_gone job=%s gateway=%s device=%s reason=%s", job_id,
                       gateway_id, device_id, RefreshReasonName(reason));
            proceed(absl::NotFoundError(absl::StrCat(
                "device ", device_id, " is gone: gateway ", gateway_id,
                " no longer finds it (device information refreshed before routing, "
                "reason: ",
                RefreshReasonName(reason), ")")));
            return;
          }
          std::string status = "unknown";
          for (const auto& d : report->devices()) {
            if (d.device_id() == device_id) status = relay::v1::DeviceStatus_Name(d.status());
          }
          LogInfo("event=device_info_refreshed job=%s gateway=%s device=%s status=%s", job_id,
                  gateway_id, device_id, status);
          proceed(absl::OkStatus());
        });
}

void DeviceInfoRefresher::TimerLoop() {
  while (true) {
    std::vector<Callback> expired;
    absl::Time next = absl::InfiniteFuture();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      absl::Time now = absl::Now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          if (it->second.callback) expired.push_back(std::move(it->second.callback));
          it = pending_.erase(it);
        } else {
          next = std::min(next, it->second.deadline);
          ++it;
        }
      }
    }
    for (Callback& callback : expired) {
      executor_->Post([callback = std::move(callback)] { callback(std::nullopt); });
    }
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    absl::Duration wait = std::min(next - absl::Now(), absl::Milliseconds(100));
    if (wait > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&stop), wait);
  }
  // Whoever still waits proceeds with what it has.
  std::vector<Callback> left;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, pending] : pending_) {
      if (pending.callback) left.push_back(std::move(pending.callback));
    }
    pending_.clear();
  }
  for (Callback& callback : left) {
    executor_->Post([callback = std::move(callback)] { callback(std::nullopt); });
  }
}

}  // namespace relay::mgmt
