#ifndef RELAY_GATEWAY_SCAN_UPLOADER_H_
#define RELAY_GATEWAY_SCAN_UPLOADER_H_

#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/access_handler.h"
#include "gateway/backoff.h"
#include "gateway/gateway_store.h"

namespace relay::gateway {

// Drives every pending scan to the cloud: at start it picks up the scans a
// previous run left in the store (nothing accepted is lost across restarts),
// then each scan the LAN service accepts. A failed upload is retried after a
// full-jitter backoff (capped, by default at 5 minutes) for as long as it
// takes, except when its spool file is gone (DATA_LOSS: nothing to send).
//
//   ScanUploader uploader(store, &handler, clock);
//   uploader.Start();
//   lan service, after the scan is durable: uploader.Enqueue(scan);
class ScanUploader {
 public:
  ScanUploader(GatewayStore* store, AccessHandler* handler, const Clock* clock,
               BackoffConfig backoff = {absl::Seconds(1), 2.0, absl::Minutes(5)},
               std::function<double()> uniform01 = DefaultUniformSource());
  ~ScanUploader();

  // Loads the pending scans and starts the upload thread.
  absl::Status Start();
  void Enqueue(const PendingScan& scan);
  void Shutdown();

  // Scans not yet uploaded (tests, status).
  int pending_count() const;
  // Blocks until no scan is pending (tests).
  void WaitAllUploaded();

 private:
  struct Entry {
    PendingScan scan;
    absl::Time next_attempt;
    bool in_flight = false;
  };
  void Loop();
  void OnDone(const std::string& scan_id, const absl::Status& status);

  GatewayStore* const store_;
  AccessHandler* const handler_;
  const Clock* const clock_;
  const BackoffConfig backoff_;
  const std::function<double()> uniform01_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> pending_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_SCAN_UPLOADER_H_
