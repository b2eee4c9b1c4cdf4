#include "gateway/access_handler.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/logging.h"
#include "gateway/box_access.h"
#include "gateway/executability.h"
#include "gateway/hold_spool.h"
#include "gateway/ids.h"

namespace relay::gateway {
namespace {

// Boxes hold small documents (BoxResult.content in common.proto).
constexpr int64_t kMaxBoxDocumentBytes = 3 * 1024 * 1024;

}  // namespace

struct AccessHandler::Access {
  // kHeld: a held print delivered from the hold spool.
  enum Kind { kPrint, kScan, kHeld, kBox };
  Kind kind = kPrint;
  // Registration request id: the job id for a print, "scan:<id>" for a scan.
  std::string request_id;
  // The job id or the scan id (logs, progress).
  std::string job_id;
  std::string device_id;
  std::string user_id;
  relay::v1::TunnelRequest request;  // print
  PendingScan scan;                  // scan
  std::function<void(absl::Status)> done;  // scan
  HeldJob held;                            // held
  bool granted = false;
  std::string registration_change;
};

AccessHandler::AccessHandler(Deps deps)
    : deps_(std::move(deps)),
      device_checks_(std::make_unique<WorkerPool>("device-checks", deps_.max_active_tunnels)),
      workers_(std::make_unique<WorkerPool>("tunnels", deps_.max_active_tunnels)) {}

AccessHandler::~AccessHandler() { Shutdown(); }

void AccessHandler::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  deps_.tunnels->CancelAll();
}

int AccessHandler::active_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(active_.size());
}

void AccessHandler::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_.empty(); };
  mu_.Await(absl::Condition(&idle));
}

void AccessHandler::Report(const Access& access, relay::v1::JobState state,
                           const std::string& reason) {
  relay::v1::JobProgress progress;
  progress.set_job_id(access.job_id);
  progress.set_gateway_id(deps_.identity.gateway_id);
  progress.set_device_id(access.device_id);
  progress.set_state(state);
  progress.set_reason(reason);
  progress.set_registration_change(access.registration_change);
  progress_.Post([this, progress = std::move(progress)] {
    absl::Status status = deps_.mgmt->ReportJobProgress(progress);
    if (!status.ok()) {
      LogWarning("event=report_progress_failed job=%s gateway=%s device=%s state=%s "
                 "error=\"%s\"",
                 progress.job_id(), progress.gateway_id(), progress.device_id(),
                 relay::v1::JobState_Name(progress.state()), status.ToString());
    }
  });
}

void AccessHandler::HandleTunnelRequest(const relay::v1::TunnelRequest& request) {
  if (deps_.on_activity) deps_.on_activity();
  auto access = std::make_shared<Access>();
  if (request.direction() == relay::v1::DIRECTION_BOX) {
    access->kind = Access::kBox;
    access->request = request;
    access->job_id = request.job_id();
    access->request_id = absl::StrCat("box:", request.job_id());
    access->device_id = request.device_id();
    access->user_id = request.box().user_id();
    control_.Post([this, access] { StartBox(access); });
    return;
  }
  access->kind = Access::kPrint;
  access->request = request;
  access->job_id = request.job_id();
  access->request_id = request.job_id();
  access->device_id = request.device_id();
  access->user_id = request.user_id();
  control_.Post([this, access] { StartPrint(access); });
}

void AccessHandler::StartPrint(std::shared_ptr<Access> access) {
  const relay::v1::TunnelRequest& req = access->request;
  const std::string& gateway_id = deps_.identity.gateway_id;
  // Ids from the network go into logs and SQL: only safe ones are echoed.
  const std::string job_log = IsSafeId(req.job_id()) ? req.job_id() : "<invalid>";
  const std::string device_log = IsSafeId(req.device_id()) ? req.device_id() : "<invalid>";
  LogInfo("event=tunnel_request job=%s gateway=%s device=%s user=%s size=%d", job_log,
          gateway_id, device_log, IsSafeId(req.user_id()) ? req.user_id() : "<invalid>",
          req.document_size());
  std::string invalid;
  if (!IsSafeId(req.job_id())) {
    invalid = "tunnel request with a missing or malformed job id";
  } else if (!IsSafeId(req.device_id())) {
    invalid = "tunnel request with a missing or malformed device id";
  } else if (req.direction() != relay::v1::DIRECTION_PRINT) {
    invalid = "tunnel request with an unsupported direction (only PRINT is pushed)";
  } else if (req.tunnel_token().empty()) {
    invalid = "tunnel request without a tunnel token";
  }
  if (!invalid.empty()) {
    LogWarning("event=tunnel_request_rejected job=%s gateway=%s device=%s reason=\"%s\"",
               job_log, gateway_id, device_log, invalid);
    if (IsSafeId(req.job_id())) Report(*access, relay::v1::JOB_STATE_FAILED, invalid);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    if (!active_.insert(access->request_id).second) {
      // The cloud retried while this gateway still works on the job.
      LogInfo("event=tunnel_request_duplicate job=%s gateway=%s device=%s",
              access->job_id, gateway_id, access->device_id);
      return;
    }
  }
  absl::StatusOr<bool> delivered = deps_.store->IsJobDelivered(access->job_id);
  if (!delivered.ok()) {
    LogError("event=job_lookup_failed job=%s gateway=%s device=%s error=\"%s\"",
             access->job_id, gateway_id, access->device_id, delivered.status().ToString());
    Report(*access, relay::v1::JOB_STATE_FAILED,
           "the gateway cannot read its job history; retry later");
    Finish(access, absl::OkStatus());
    return;
  }
  if (*delivered) {
    LogInfo("event=job_already_delivered job=%s gateway=%s device=%s", access->job_id,
            gateway_id, access->device_id);
    Report(*access, relay::v1::JOB_STATE_DONE,
           "already delivered to the device by this gateway; not printed again");
    Finish(access, absl::OkStatus());
    return;
  }
  if (deps_.holds != nullptr) {
    absl::StatusOr<std::optional<HeldJob>> held = deps_.holds->Get(access->job_id);
    if (held.ok() && held->has_value()) {
      // The cloud routed a job this gateway holds (e.g. after a restart of
      // the cloud): it stays held here; the cloud hears so again.
      LogInfo("event=job_still_held job=%s gateway=%s device=%s reason=\"%s\"",
              access->job_id, gateway_id, access->device_id, (*held)->reason);
      Report(*access, relay::v1::JOB_STATE_HELD, (*held)->reason);
      Finish(access, absl::OkStatus());
      return;
    }
  }
  Acquire(access);
}

void AccessHandler::UploadScan(const PendingScan& scan,
                               std::function<void(absl::Status)> done) {
  auto access = std::make_shared<Access>();
  access->kind = Access::kScan;
  access->scan = scan;
  access->job_id = scan.scan_id;
  access->request_id = absl::StrCat("scan:", scan.scan_id);
  access->device_id = scan.device_id;
  access->user_id = scan.user_id;
  access->done = std::move(done);
  control_.Post([this, access] { StartScan(access); });
}

void AccessHandler::StartScan(std::shared_ptr<Access> access) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) {
      refused = absl::CancelledError("the gateway is shutting down");
    } else if (!active_.insert(access->request_id).second) {
      refused = absl::AlreadyExistsError(
          absl::StrCat("scan ", access->job_id, " is being uploaded already"));
    }
  }
  if (!refused.ok()) {
    access->done(refused);
    return;
  }
  LogInfo("event=scan_upload_start job=%s gateway=%s device=%s size=%d attempt=%d",
          access->job_id, deps_.identity.gateway_id, access->device_id,
          access->scan.size, access->scan.attempts + 1);
  Acquire(access);
}

void AccessHandler::Acquire(std::shared_ptr<Access> access) {
  AccessRequest request{access->request_id, access->device_id, access->user_id};
  absl::StatusOr<RegistrationManager::Outcome> outcome = deps_.registration->Request(
      request, [this, access](absl::StatusOr<RegistrationChanges> result) {
        // Runs on the thread that freed the slot or timed out: hand off.
        if (result.ok()) {
          OnGranted(access, *result);
        } else {
          OnNotGranted(access, result.status());
        }
      });
  if (!outcome.ok()) {
    OnNotGranted(access, outcome.status());
    return;
  }
  if (outcome->granted) {
    OnGranted(access, outcome->changes);
    return;
  }
  LogInfo("event=waiting_for_slot job=%s gateway=%s device=%s", access->job_id,
          deps_.identity.gateway_id, access->device_id);
  if (access->kind == Access::kPrint) {
    Report(*access, relay::v1::JOB_STATE_WAITING_FOR_SLOT,
           "every registered device is busy; waiting for a slot");
  }
}

void AccessHandler::OnGranted(std::shared_ptr<Access> access,
                              const RegistrationChanges& changes) {
  access->granted = true;
  access->registration_change = DescribeChanges(changes);
  LogInfo("event=access_granted job=%s gateway=%s device=%s change=\"%s\"",
          access->job_id, deps_.identity.gateway_id, access->device_id,
          access->registration_change);
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    stopping = shutdown_;
  }
  if (stopping) {
    if (access->kind == Access::kPrint) {
      Report(*access, relay::v1::JOB_STATE_FAILED, "the gateway is shutting down");
    }
    Finish(access, absl::CancelledError("the gateway is shutting down"));
    return;
  }
  workers_->Post([this, access] {
    if (access->kind == Access::kPrint) {
      RunPrint(access);
    } else if (access->kind == Access::kHeld) {
      RunHeldDelivery(access);
    } else {
      RunScan(access);
    }
  });
}

void AccessHandler::OnNotGranted(std::shared_ptr<Access> access,
                                 const absl::Status& status) {
  std::string reason;
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      reason = absl::StrCat("every registered device stayed busy: ", status.message());
      break;
    case absl::StatusCode::kNotFound:
      reason = absl::StrCat("device ", access->device_id,
                            " is not in the gateway's device list (", status.message(),
                            ")");
      break;
    default:
      reason = absl::StrCat("registration control refused the access: ",
                            status.ToString());
  }
  LogWarning("event=access_refused job=%s gateway=%s device=%s reason=\"%s\"",
             access->job_id, deps_.identity.gateway_id, access->device_id, reason);
  if (access->kind == Access::kPrint) Report(*access, relay::v1::JOB_STATE_FAILED, reason);
  Finish(access, absl::Status(status.code(), reason));
}

void AccessHandler::RunPrint(std::shared_ptr<Access> access) {
  const std::string& gateway_id = deps_.identity.gateway_id;
  std::optional<relay::v1::DeviceInfo> device = deps_.devices->Find(access->device_id);
  DeviceDriver* driver = device.has_value() ? deps_.drivers->ForDevice(*device) : nullptr;
  if (!device.has_value() || driver == nullptr) {
    std::string reason =
        !device.has_value()
            ? absl::StrCat("device ", access->device_id, " has no known LAN address")
            : absl::StrCat("no driver for device ", access->device_id, " (protocol \"",
                           device->protocol(), "\")");
    Report(*access, relay::v1::JOB_STATE_FAILED, reason);
    Finish(access, absl::OkStatus());
    return;
  }
  PrintJob job;
  job.gateway_id = gateway_id;
  job.request = access->request;
  job.device = *device;
  job.registration_change = access->registration_change;

  // Related design 3: can the device execute the job now? Asking it takes a
  // LAN round trip, so it runs while the tunnel opens (push-to-print
  // latency), and the answer is awaited only once the cloud accepted it.
  struct DeviceCheck {
    absl::Notification done;
    std::string hold_reason;
  };
  std::shared_ptr<DeviceCheck> check;
  if (deps_.holds != nullptr) {
    check = std::make_shared<DeviceCheck>();
    device_checks_->Post([this, check, device = *device, driver, request = access->request] {
      check->hold_reason = HoldReason(device, driver, request);
      check->done.Notify();
    });
  }
  std::string hold_reason;  // set once the check answered
  absl::Time now = deps_.clock->Now();
  HoldSpoolDriver spool(
      deps_.hold_dir,
      [this, access, &hold_reason, now](const std::string& path,
                                        const DevicePrintResult& result) -> absl::Status {
        HeldJob held;
        held.job_id = access->job_id;
        held.device_id = access->device_id;
        held.request = access->request;
        held.reason = hold_reason;
        held.spool_path = path;
        held.size = result.bytes_received;
        held.sha256_hex = result.sha256_hex;
        held.held_at = now;
        held.expires = now + deps_.hold_timeout;
        return deps_.holds->Add(held);
      });
  if (check != nullptr) {
    job.resolve_target = [this, access, check, driver, &spool, &hold_reason]() {
      check->done.WaitForNotification();
      hold_reason = check->hold_reason;
      if (hold_reason.empty()) return PrintTarget{driver, ""};
      LogInfo("event=job_hold job=%s gateway=%s device=%s reason=\"%s\"", access->job_id,
              deps_.identity.gateway_id, access->device_id, hold_reason);
      return PrintTarget{&spool, hold_reason};
    };
  }
  PrintCallbacks callbacks;
  // PRINTING reaches the cloud as the tunnel's progress frame; reporting it
  // through the management server as well would record it twice.
  callbacks.on_printing = [this, access] {
    LogInfo("event=printing job=%s gateway=%s device=%s", access->job_id,
            deps_.identity.gateway_id, access->device_id);
  };
  callbacks.on_delivered = [this, access](const DevicePrintResult& result) {
    absl::Status saved = deps_.store->MarkJobDelivered(access->job_id, access->device_id,
                                                       deps_.clock->Now());
    if (!saved.ok()) {
      // The device dedups by job id too, so a retry would not print twice.
      LogError("event=mark_delivered_failed job=%s gateway=%s device=%s error=\"%s\"",
               access->job_id, deps_.identity.gateway_id, access->device_id,
               saved.ToString());
    }
  };
  PrintOutcome outcome = deps_.tunnels->RunPrint(job, driver, callbacks);
  if (!hold_reason.empty()) {
    AfterHoldIntake(access, outcome, hold_reason);
    return;
  }
  if (outcome.state == relay::v1::JOB_STATE_DONE) {
    if (outcome.already_done) {
      deps_.store->MarkJobDelivered(access->job_id, access->device_id, deps_.clock->Now())
          .IgnoreError();
    }
    LogInfo("event=job_done job=%s gateway=%s device=%s bytes=%d sha256=%s", access->job_id,
            gateway_id, access->device_id, outcome.bytes_delivered, outcome.sha256_hex);
  } else {
    LogWarning("event=job_failed job=%s gateway=%s device=%s reason=\"%s\"",
               access->job_id, gateway_id, access->device_id, outcome.reason);
  }
  Report(*access, outcome.state, outcome.reason);
  Finish(access, absl::OkStatus());
}

std::string AccessHandler::HoldReason(const relay::v1::DeviceInfo& device,
                                      DeviceDriver* driver,
                                      const relay::v1::TunnelRequest& request) {
  relay::v1::DeviceInfo current = device;
  absl::StatusOr<relay::v1::DeviceInfo> status = driver->GetStatus(device);
  if (status.ok()) {
    current.set_status(status->status());
    if (status->has_capabilities()) *current.mutable_capabilities() = status->capabilities();
  } else {
    LogWarning("event=device_status_failed job=%s gateway=%s device=%s error=\"%s\"",
               request.job_id(), deps_.identity.gateway_id, device.device_id(),
               status.status().ToString());
    current.set_status(relay::v1::DEVICE_STATUS_OFFLINE);
  }
  JobRequirements requirements;
  requirements.content_type = request.content_type();
  requirements.options = request.options();
  std::string reason = CheckExecutable(current, requirements);
  if (!reason.empty() || request.job_id().empty()) return reason;
  // Jobs held earlier for the same device go first.
  absl::StatusOr<std::vector<HeldJob>> held = deps_.holds->List();
  if (held.ok()) {
    for (const HeldJob& earlier : *held) {
      if (earlier.device_id == device.device_id() && earlier.job_id != request.job_id()) {
        return absl::StrCat("waiting behind job ", earlier.job_id, ", held for device ",
                            device.device_id(), " (", earlier.reason, ")");
      }
    }
  }
  return "";
}

void AccessHandler::AfterHoldIntake(std::shared_ptr<Access> access,
                                    const PrintOutcome& outcome,
                                    const std::string& reason) {
  const std::string& gateway_id = deps_.identity.gateway_id;
  if (outcome.state == relay::v1::JOB_STATE_HELD) {
    LogInfo("event=job_held job=%s gateway=%s device=%s bytes=%d sha256=%s "
            "expires_in=%s reason=\"%s\"",
            access->job_id, gateway_id, access->device_id, outcome.bytes_delivered,
            outcome.sha256_hex, absl::FormatDuration(deps_.hold_timeout), reason);
    Finish(access, absl::OkStatus());
    if (deps_.on_held) deps_.on_held();
    return;
  }
  // Not held after all (tunnel broke, already done...): nothing stays behind.
  deps_.holds->Remove(access->job_id).IgnoreError();
  std::remove(HoldSpoolDriver::PathFor(deps_.hold_dir, access->job_id).c_str());
  if (outcome.state == relay::v1::JOB_STATE_DONE && outcome.already_done) {
    deps_.store->MarkJobDelivered(access->job_id, access->device_id, deps_.clock->Now())
        .IgnoreError();
  }
  LogWarning("event=job_hold_failed job=%s gateway=%s device=%s state=%s reason=\"%s\"",
             access->job_id, gateway_id, access->device_id,
             relay::v1::JobState_Name(outcome.state), outcome.reason);
  Report(*access, outcome.state, outcome.reason);
  Finish(access, absl::OkStatus());
}

void AccessHandler::DeliverHeld(const HeldJob& job) {
  auto access = std::make_shared<Access>();
  access->kind = Access::kHeld;
  access->held = job;
  access->request = job.request;
  access->job_id = job.job_id;
  access->request_id = job.job_id;
  access->device_id = job.device_id;
  access->user_id = job.request.user_id();
  control_.Post([this, access] {
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
      if (!active_.insert(access->request_id).second) return;  // being worked on
    }
    // The device's state is checked before registration control: a device
    // that cannot print is not swapped in just to be asked.
    workers_->Post([this, access] { CheckHeld(access); });
  });
}

void AccessHandler::CheckHeld(std::shared_ptr<Access> access) {
  const std::string& gateway_id = deps_.identity.gateway_id;
  std::optional<relay::v1::DeviceInfo> device = deps_.devices->Find(access->device_id);
  DeviceDriver* driver = device.has_value() ? deps_.drivers->ForDevice(*device) : nullptr;
  std::string reason;
  if (!device.has_value()) {
    reason = absl::StrCat("device ", access->device_id,
                          " is not in the gateway's device list (gone from the LAN?)");
  } else if (driver == nullptr) {
    reason = absl::StrCat("no driver for device ", access->device_id);
  } else {
    reason = HoldReason(*device, driver, access->request);
  }
  if (!reason.empty()) {
    if (reason != access->held.reason) {
      LogInfo("event=job_hold_reason job=%s gateway=%s device=%s reason=\"%s\"",
              access->job_id, gateway_id, access->device_id, reason);
      deps_.holds->UpdateReason(access->job_id, reason).IgnoreError();
      Report(*access, relay::v1::JOB_STATE_HELD, reason);
    }
    Finish(access, absl::OkStatus());
    return;
  }
  LogInfo("event=job_executable job=%s gateway=%s device=%s held_for=%s", access->job_id,
          gateway_id, access->device_id,
          absl::FormatDuration(absl::Trunc(deps_.clock->Now() - access->held.held_at,
                                           absl::Milliseconds(1))));
  control_.Post([this, access] { Acquire(access); });
}

void AccessHandler::RunHeldDelivery(std::shared_ptr<Access> access) {
  const std::string& gateway_id = deps_.identity.gateway_id;
  const HeldJob& held = access->held;
  std::optional<relay::v1::DeviceInfo> device = deps_.devices->Find(access->device_id);
  DeviceDriver* driver = device.has_value() ? deps_.drivers->ForDevice(*device) : nullptr;
  auto keep_holding = [&](const std::string& reason) {
    LogWarning("event=held_delivery_failed job=%s gateway=%s device=%s reason=\"%s\"",
               access->job_id, gateway_id, access->device_id, reason);
    deps_.holds->UpdateReason(access->job_id, reason).IgnoreError();
    Report(*access, relay::v1::JOB_STATE_HELD, reason);
    Finish(access, absl::OkStatus());
  };
  if (driver == nullptr) {
    keep_holding(absl::StrCat("device ", access->device_id, " cannot be reached"));
    return;
  }
  relay::v1::PrintHeader header;
  header.set_device_id(access->device_id);
  header.set_job_id(access->job_id);
  header.set_size(held.size);
  header.set_content_type(held.request.content_type());
  header.set_document_name(held.request.document_name());
  absl::StatusOr<std::unique_ptr<PrintSink>> sink = driver->StartPrint(*device, header);
  if (!sink.ok()) {
    keep_holding(absl::StrCat("device ", access->device_id,
                              " refused the job: ", sink.status().message()));
    return;
  }
  Report(*access, relay::v1::JOB_STATE_PRINTING,
         absl::StrCat("delivered by the gateway after the hold (", held.reason, ")"));
  LogInfo("event=printing job=%s gateway=%s device=%s from=hold", access->job_id,
          gateway_id, access->device_id);
  absl::StatusOr<DevicePrintResult> printed = PrintFromFile(held.spool_path, sink->get());
  if (printed.ok() && !printed->duplicate &&
      (printed->bytes_received != held.size ||
       (!printed->sha256_hex.empty() && printed->sha256_hex != held.sha256_hex))) {
    printed = absl::DataLossError(absl::StrCat(
        "the device received ", printed->bytes_received, " bytes with sha256 ",
        printed->sha256_hex, "; the held document has ", held.size, " bytes, sha256 ",
        held.sha256_hex));
  }
  if (!printed.ok()) {
    if (printed.status().code() == absl::StatusCode::kDataLoss) {
      std::string reason = absl::StrCat("held document lost: ", printed.status().message());
      Report(*access, relay::v1::JOB_STATE_FAILED, reason);
      deps_.holds->Remove(access->job_id).IgnoreError();
      std::remove(held.spool_path.c_str());
      Finish(access, absl::OkStatus());
      return;
    }
    keep_holding(absl::StrCat("device error: ", printed.status().message()));
    return;
  }
  deps_.store->MarkJobDelivered(access->job_id, access->device_id, deps_.clock->Now())
      .IgnoreError();
  deps_.holds->Remove(access->job_id).IgnoreError();
  std::remove(held.spool_path.c_str());
  LogInfo("event=job_done job=%s gateway=%s device=%s bytes=%d sha256=%s from=hold",
          access->job_id, gateway_id, access->device_id, held.size, held.sha256_hex);
  Report(*access, relay::v1::JOB_STATE_DONE,
         printed->duplicate ? "the device had printed this job before" : "");
  Finish(access, absl::OkStatus());
}

void AccessHandler::ExpireHeld(const HeldJob& job) {
  auto access = std::make_shared<Access>();
  access->kind = Access::kHeld;
  access->held = job;
  access->request = job.request;
  access->job_id = job.job_id;
  access->request_id = job.job_id;
  access->device_id = job.device_id;
  control_.Post([this, access] {
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return;
      if (!active_.insert(access->request_id).second) return;
    }
    const HeldJob& held = access->held;
    std::string reason = absl::StrCat(
        "the hold expired: the device could not execute the job within ",
        absl::FormatDuration(held.expires - held.held_at), " (", held.reason, ")");
    LogWarning("event=job_hold_expired job=%s gateway=%s device=%s reason=\"%s\"",
               access->job_id, deps_.identity.gateway_id, access->device_id, reason);
    deps_.holds->Remove(access->job_id).IgnoreError();
    std::remove(held.spool_path.c_str());
    Report(*access, relay::v1::JOB_STATE_FAILED, reason);
    Finish(access, absl::OkStatus());
  });
}

void AccessHandler::RunScan(std::shared_ptr<Access> access) {
  const PendingScan& scan = access->scan;
  relay::v1::UploadAccessRequest request;
  request.set_scan_id(scan.scan_id);
  request.set_gateway_id(deps_.identity.gateway_id);
  request.set_device_id(scan.device_id);
  request.set_user_id(scan.user_id);
  request.set_size(scan.size);
  request.set_content_type(scan.content_type);
  absl::StatusOr<std::string> token = deps_.mgmt->RequestUpload(request);
  if (!token.ok()) {
    Finish(access, absl::Status(token.status().code(),
                                absl::StrCat("no upload token from the management server: ",
                                             token.status().message())));
    return;
  }
  ScanUpload upload;
  upload.gateway_id = deps_.identity.gateway_id;
  upload.tunnel_token = *token;
  upload.scan_id = scan.scan_id;
  upload.device_id = scan.device_id;
  upload.user_id = scan.user_id;
  upload.content_type = scan.content_type;
  upload.size = scan.size;
  upload.sha256_hex = scan.sha256_hex;
  upload.spool_path = scan.spool_path;
  absl::StatusOr<std::string> stored = deps_.tunnels->UploadScan(upload);
  if (!stored.ok()) {
    Finish(access, stored.status());
    return;
  }
  absl::Status marked =
      deps_.store->MarkScanUploaded(scan.scan_id, scan.sha256_hex, deps_.clock->Now());
  if (!marked.ok()) {
    // The cloud has it; a retry would be deduplicated by scan id there.
    Finish(access, marked);
    return;
  }
  if (std::remove(scan.spool_path.c_str()) != 0) {
    LogWarning("event=spool_remove_failed job=%s gateway=%s path=%s", scan.scan_id,
               deps_.identity.gateway_id, scan.spool_path);
  }
  LogInfo("event=scan_uploaded job=%s gateway=%s device=%s stored_id=%s", scan.scan_id,
          deps_.identity.gateway_id, scan.device_id, *stored);
  Finish(access, absl::OkStatus());
}

void AccessHandler::Finish(std::shared_ptr<Access> access, const absl::Status& scan_status) {
  if (access->granted) {
    access->granted = false;
    deps_.registration->Release(access->request_id);
  }
  {
    absl::MutexLock lock(&mu_);
    active_.erase(access->request_id);
  }
  if (access->done) access->done(scan_status);
}

void AccessHandler::StartBox(std::shared_ptr<Access> access) {
  const relay::v1::TunnelRequest& req = access->request;
  const std::string& gateway_id = deps_.identity.gateway_id;
  const std::string job_log = IsSafeId(req.job_id()) ? req.job_id() : "<invalid>";
  const std::string device_log = IsSafeId(req.device_id()) ? req.device_id() : "<invalid>";
  LogInfo("event=box_request job=%s gateway=%s device=%s box=%s operation=%s", job_log,
          gateway_id, device_log, IsSafeId(req.box().box_id()) ? req.box().box_id() : "<invalid>",
          relay::v1::BoxOperation_Name(req.box().operation()));
  std::string invalid;
  if (!IsSafeId(req.job_id())) {
    invalid = "box request with a missing or malformed request id";
  } else if (!IsSafeId(req.device_id())) {
    invalid = "box request with a missing or malformed device id";
  } else if (req.tunnel_token().empty()) {
    invalid = "box request without a tunnel token";
  } else if (!IsSafeId(req.box().user_id())) {
    invalid = "box request without a user";
  }
  if (!invalid.empty()) {
    // Nothing to answer through: without a valid request the cloud's call
    // times out.
    LogWarning("event=box_request_rejected job=%s gateway=%s device=%s reason=\"%s\"",
               job_log, gateway_id, device_log, invalid);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    if (!active_.insert(access->request_id).second) {
      LogInfo("event=box_request_duplicate job=%s gateway=%s device=%s", access->job_id,
              gateway_id, access->device_id);
      return;
    }
  }
  workers_->Post([this, access] { RunBox(access); });
}

relay::v1::BoxResult AccessHandler::ExecuteBox(const Access& access,
                                               const relay::v1::BoxRequest& box) {
  const std::string& gateway_id = deps_.identity.gateway_id;
  relay::v1::BoxResult result;
  BoxDecision decision;
  if (!IsSafeId(box.box_id()) ||
      (!box.document_id().empty() && !IsSafeId(box.document_id()))) {
    decision = BoxDecision{false, "", "malformed box or document id"};
  } else if (deps_.boxes == nullptr) {
    decision = EvaluateBoxAccess(std::nullopt, box, deps_.clock->Now(), 0);
  } else {
    absl::StatusOr<BoxDecision> decided =
        deps_.boxes->Authorize(access.device_id, box, deps_.clock->Now());
    decision = decided.ok() ? *decided
                            : BoxDecision{false, "", absl::StrCat(
                                  "the gateway cannot read the box's access conditions: ",
                                  decided.status().message())};
  }
  if (!decision.permitted) {
    // The device never sees a denied request.
    LogInfo("event=box_access_denied job=%s gateway=%s device=%s box=%s operation=%s "
            "user=%s client=%s condition=%s reason=\"%s\"",
            access.job_id, gateway_id, access.device_id, box.box_id(),
            relay::v1::BoxOperation_Name(box.operation()),
            IsSafeId(box.user_id()) ? box.user_id() : "<invalid>",
            IsSafeId(box.client_id()) ? box.client_id() : "<none>",
            decision.failed_condition.empty() ? "error" : decision.failed_condition,
            decision.message);
    result.set_permitted(false);
    result.set_failed_condition(decision.failed_condition);
    result.set_message(decision.message);
    return result;
  }
  LogInfo("event=box_access_permitted job=%s gateway=%s device=%s box=%s operation=%s "
          "user=%s client=%s",
          access.job_id, gateway_id, access.device_id, box.box_id(),
          relay::v1::BoxOperation_Name(box.operation()), box.user_id(),
          IsSafeId(box.client_id()) ? box.client_id() : "<none>");
  std::optional<relay::v1::DeviceInfo> device = deps_.devices->Find(access.device_id);
  DeviceDriver* driver = device.has_value() ? deps_.drivers->ForDevice(*device) : nullptr;
  if (driver == nullptr) {
    result.set_permitted(true);
    result.set_message(absl::StrCat("device ", access.device_id,
                                    " cannot be reached by the gateway now"));
    return result;
  }
  absl::StatusOr<relay::v1::BoxResult> answer = driver->AccessBox(*device, box);
  if (!answer.ok()) {
    LogWarning("event=box_device_error job=%s gateway=%s device=%s error=\"%s\"",
               access.job_id, gateway_id, access.device_id, answer.status().ToString());
    result.set_permitted(true);
    result.set_message(absl::StrCat("device ", access.device_id, ": ",
                                    answer.status().message()));
    return result;
  }
  result = *std::move(answer);
  result.set_permitted(true);
  result.clear_failed_condition();
  if (static_cast<int64_t>(result.content().size()) > kMaxBoxDocumentBytes) {
    result.clear_content();
    result.set_message(absl::StrCat("the document is larger than the ",
                                    kMaxBoxDocumentBytes, " bytes a box read may carry"));
  }
  return result;
}

void AccessHandler::RunBox(std::shared_ptr<Access> access) {
  BoxJob job;
  job.gateway_id = deps_.identity.gateway_id;
  job.request = access->request;
  absl::StatusOr<relay::v1::BoxResult> sent = deps_.tunnels->RunBox(
      job, [this, access](const relay::v1::BoxRequest& box) {
        const relay::v1::BoxRequest& pushed = access->request.box();
        if (box.box_id() != pushed.box_id() || box.operation() != pushed.operation() ||
            box.document_id() != pushed.document_id() || box.user_id() != pushed.user_id()) {
          LogWarning("event=box_request_mismatch job=%s gateway=%s device=%s detail=\"the "
                     "cloud's request differs from the one pushed; the cloud's is used\"",
                     access->job_id, deps_.identity.gateway_id, access->device_id);
        }
        return ExecuteBox(*access, box);
      });
  if (!sent.ok()) {
    LogWarning("event=box_tunnel_failed job=%s gateway=%s device=%s error=\"%s\"",
               access->job_id, deps_.identity.gateway_id, access->device_id,
               sent.status().ToString());
  }
  Finish(access, absl::OkStatus());
}

}  // namespace relay::gateway
