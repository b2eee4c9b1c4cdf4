#include "gateway/scan_uploader.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/logging.h"

namespace relay::gateway {

ScanUploader::ScanUploader(GatewayStore* store, AccessHandler* handler,
                           const Clock* clock, BackoffConfig backoff,
                           std::function<double()> uniform01)
    : store_(store),
      handler_(handler),
      clock_(clock),
      backoff_(backoff),
      uniform01_(std::move(uniform01)) {}

ScanUploader::~ScanUploader() { Shutdown(); }

absl::Status ScanUploader::Start() {
  absl::StatusOr<std::vector<PendingScan>> scans = store_->ListPendingScans();
  if (!scans.ok()) return scans.status();
  for (const PendingScan& scan : *scans) {
    LogInfo("event=scan_resumed job=%s device=%s size=%d", scan.scan_id, scan.device_id,
            scan.size);
    Enqueue(scan);
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ScanUploader::Enqueue(const PendingScan& scan) {
  absl::MutexLock lock(&mu_);
  if (pending_.count(scan.scan_id) > 0) return;
  pending_[scan.scan_id] = Entry{scan, clock_->Now(), false};
  dirty_ = true;
}

void ScanUploader::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int ScanUploader::pending_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(pending_.size());
}

void ScanUploader::WaitAllUploaded() {
  absl::MutexLock lock(&mu_);
  auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_.empty(); };
  mu_.Await(absl::Condition(&empty));
}

void ScanUploader::OnDone(const std::string& scan_id, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(scan_id);
  if (it == pending_.end()) return;
  Entry& entry = it->second;
  entry.in_flight = false;
  if (status.ok()) {
    pending_.erase(it);
  } else if (status.code() == absl::StatusCode::kDataLoss) {
    LogError("event=scan_lost job=%s device=%s error=\"%s\"", scan_id,
             entry.scan.device_id, status.ToString());
    pending_.erase(it);
  } else {
    absl::Duration delay =
        FullJitterBackoff(backoff_, std::min(entry.scan.attempts, 60), uniform01_());
    entry.scan.attempts++;
    entry.next_attempt = clock_->Now() + delay;
    LogWarning("event=scan_upload_failed job=%s device=%s attempt=%d retry_in_ms=%d "
               "error=\"%s\"",
               scan_id, entry.scan.device_id, entry.scan.attempts,
               absl::ToInt64Milliseconds(delay), status.ToString());
  }
  dirty_ = true;
}

void ScanUploader::Loop() {
  while (true) {
    std::vector<PendingScan> due;
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
      absl::Time now = clock_->Now();
      absl::Time wake = now + absl::Seconds(1);
      for (auto& [id, entry] : pending_) {
        if (entry.in_flight) continue;
        if (entry.next_attempt <= now) {
          entry.in_flight = true;
          due.push_back(entry.scan);
        } else {
          wake = std::min(wake, entry.next_attempt);
        }
      }
      if (due.empty()) {
        dirty_ = false;
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return shutdown_ || dirty_;
        };
        // Bounded by a second: the clock may be a fake one in tests.
        mu_.AwaitWithTimeout(absl::Condition(&woken),
                             std::clamp(wake - now, absl::Milliseconds(1), absl::Seconds(1)));
        continue;
      }
    }
    for (const PendingScan& scan : due) {
      store_->SetScanAttempts(scan.scan_id, scan.attempts + 1).IgnoreError();
      std::string id = scan.scan_id;
      handler_->UploadScan(scan, [this, id](absl::Status status) { OnDone(id, status); });
    }
  }
}

}  // namespace relay::gateway
