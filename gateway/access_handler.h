#ifndef RELAY_GATEWAY_ACCESS_HANDLER_H_
#define RELAY_GATEWAY_ACCESS_HANDLER_H_

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "gateway/box_condition_store.h"
#include "gateway/device_driver.h"
#include "gateway/device_list.h"
#include "gateway/gateway_identity.h"
#include "gateway/gateway_store.h"
#include "gateway/hold_store.h"
#include "gateway/mgmt_client.h"
#include "gateway/registration_manager.h"
#include "gateway/tunnel_client.h"
#include "gateway/worker_pool.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::gateway {

// Carries one access (a print pushed down the session, or a scan a device
// handed to the gateway) from request to outcome: dedupe by job id (a job
// this gateway delivered before is reported DONE and not printed again),
// registration control (report WAITING_FOR_SLOT while queued; FAILED with the
// reason on timeout), the tunnel, the device, the Release that undoes a
// temporary registration, and the progress reports to the management server
// (each carrying the registration change the access caused, e.g. "registered
// mfp-207 in place of mfp-203").
//
// Entry points never block (the session's gRPC callback calls
// HandleTunnelRequest): bookkeeping runs on a serial executor, tunnels on a
// bounded worker pool, progress reports on an executor of their own so they
// stay in order.
//
//   AccessHandler handler(deps);
//   session callback: handler.HandleTunnelRequest(request);
//   scan uploader:    handler.UploadScan(scan, [](absl::Status s) {...});
class AccessHandler {
 public:
  struct Deps {
    GatewayIdentity identity;
    GatewayStore* store = nullptr;
    RegistrationManager* registration = nullptr;
    DeviceList* devices = nullptr;
    MgmtClient* mgmt = nullptr;
    TunnelClient* tunnels = nullptr;
    DriverRegistry* drivers = nullptr;
    const Clock* clock = nullptr;
    // Tunnels relaying at once; further granted accesses queue.
    int max_active_tunnels = 8;
    // Hold until executable (related design 3). With `holds` set, a print
    // whose device cannot execute it now (executability.h: offline, paper or
    // toner out, busy without a queue, format/colour/duplex lacking) is
    // received into `hold_dir`, recorded in `holds` and answered HELD; the
    // HoldManager later calls DeliverHeld / ExpireHeld. Null: every print
    // goes straight to the device, as before.
    HoldStore* holds = nullptr;
    std::string hold_dir;
    absl::Duration hold_timeout = absl::Hours(1);
    // Called when a job was held (pokes the HoldManager).
    std::function<void()> on_held;
    // Access conditions of devices' boxes (related design 4). Null: every
    // box request is refused ("no_conditions").
    BoxConditionStore* boxes = nullptr;
    // Called whenever an access starts (power saving counts idle time from
    // the last one).
    std::function<void()> on_activity;
  };

  explicit AccessHandler(Deps deps);
  ~AccessHandler();

  // A TunnelRequest from the management server (or forwarded by a
  // substitute gateway). Non-blocking. PRINT: registration control, the
  // tunnel, the device. BOX (related design 4): the tunnel opens, the
  // request the cloud confirms is checked against the box's access
  // conditions; permitted, it goes to the device and its answer back up the
  // tunnel; denied, the refusal names the failed condition and the device
  // never sees the request. Box requests do not take a registration slot:
  // they are short and do not occupy the device.
  void HandleTunnelRequest(const relay::v1::TunnelRequest& request);

  // Uploads a spooled scan (registration control, token from the management
  // server, tunnel). `done` gets OK once the cloud stored it and the spool row
  // is gone, or the error (the caller retries later). Non-blocking.
  void UploadScan(const PendingScan& scan, std::function<void(absl::Status)> done);

  // A held job's turn (HoldManager): if its device can execute it now, it is
  // printed from the hold spool (registration control applies as for any
  // print) and reported DONE; otherwise its HELD reason is brought up to
  // date. Skipped if the job is being worked on. Non-blocking.
  void DeliverHeld(const HeldJob& job);
  // A held job's hold expired: reported FAILED with the reason, spool and
  // hold removed. Non-blocking.
  void ExpireHeld(const HeldJob& job);

  // Refuses new accesses and cancels the tunnels in progress.
  void Shutdown();

  // Blocks until no access is in progress (tests).
  void WaitIdle();
  int active_count() const;

 private:
  struct Access;

  void StartPrint(std::shared_ptr<Access> access);
  void StartBox(std::shared_ptr<Access> access);
  void RunBox(std::shared_ptr<Access> access);
  // Checks `box` against the conditions and asks the device if permitted.
  relay::v1::BoxResult ExecuteBox(const Access& access, const relay::v1::BoxRequest& box);
  void StartScan(std::shared_ptr<Access> access);
  // Asks registration control; runs the access when granted.
  void Acquire(std::shared_ptr<Access> access);
  void OnGranted(std::shared_ptr<Access> access, const RegistrationChanges& changes);
  void OnNotGranted(std::shared_ptr<Access> access, const absl::Status& status);
  void RunPrint(std::shared_ptr<Access> access);
  void RunScan(std::shared_ptr<Access> access);
  // Related design 3: why the device cannot execute the access's print now
  // ("" if it can). Queries the device (blocking: worker threads only).
  std::string HoldReason(const relay::v1::DeviceInfo& device, DeviceDriver* driver,
                         const relay::v1::TunnelRequest& request);
  // After a print whose document went to the hold spool (`reason`): HELD, or
  // nothing stays behind if it did not get there.
  void AfterHoldIntake(std::shared_ptr<Access> access, const PrintOutcome& outcome,
                       const std::string& reason);
  void CheckHeld(std::shared_ptr<Access> access);
  void RunHeldDelivery(std::shared_ptr<Access> access);
  // The access is over: releases its registration (if granted) and its slot
  // in the active set.
  void Finish(std::shared_ptr<Access> access, const absl::Status& scan_status);

  void Report(const Access& access, relay::v1::JobState state, const std::string& reason);

  const Deps deps_;
  mutable absl::Mutex mu_;
  std::set<std::string> active_ ABSL_GUARDED_BY(mu_);  // request ids
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;

  // Destroyed (drained) in reverse order: control_ posts to workers_, both
  // post to progress_.
  SerialExecutor progress_{"job-progress"};
  // Device state checks run here while the tunnel opens; workers_ wait on
  // them, so this pool outlives workers_.
  std::unique_ptr<WorkerPool> device_checks_;
  std::unique_ptr<WorkerPool> workers_;
  SerialExecutor control_{"access-control"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_ACCESS_HANDLER_H_
