#ifndef RELAY_GATEWAY_LAN_SERVICE_H_
#define RELAY_GATEWAY_LAN_SERVICE_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "gateway/gateway_store.h"
#include "gateway/scan_spool.h"
#include "relay/v1/lan.grpc.pb.h"

namespace relay::gateway {

// GatewayLan (lan.proto) on the gateway's LAN port: a device streams a scan
// (ScanHeader, then data). The scan is spooled to <state_dir>/spool/<id>.bin,
// fsynced, and recorded as a pending upload in the store BEFORE the receipt
// goes back, so an acknowledged scan survives a crash; `on_accepted` then
// hands it to the uploader. Resubmitting a scan id stores it once (the
// receipt of the first copy is returned).
//
// Errors: INVALID_ARGUMENT (no header first, malformed ids, size mismatch),
// NOT_FOUND (device not in the device list), RESOURCE_EXHAUSTED (larger than
// max_scan_bytes), ABORTED (the same scan id is being received right now).
//
// Callback API: file writes, fsyncs and SQLite run on a serial executor, and
// the next message is read only when the previous one is on disk (bounded
// memory, backpressure to the device).
class LanService final : public relay::v1::GatewayLan::CallbackService {
 public:
  struct Options {
    std::string gateway_id;
    int64_t max_scan_bytes = int64_t{1} << 30;
  };
  using DeviceKnown = std::function<bool(const std::string& device_id)>;
  using ScanAccepted = std::function<void(const PendingScan& scan)>;

  LanService(Options options, ScanSpool* spool, GatewayStore* store,
             const Clock* clock, DeviceKnown device_known, ScanAccepted on_accepted);

  // Related designs 4 (box conditions) and 1 (power saving). Each runs on
  // the service's executor (it may block briefly); unset: UNIMPLEMENTED.
  struct DesignHandlers {
    // Stores a box's conditions (INVALID_ARGUMENT if malformed).
    std::function<absl::Status(const relay::v1::BoxAccessCondition&)> set_box_conditions;
    // Enter power-saving mode; returns whether the gateway now sleeps.
    std::function<absl::StatusOr<bool>()> sleep;
    // A substitute forwards a tunnel request: wake and handle it; returns
    // whether the gateway still sleeps (false once awake).
    std::function<absl::StatusOr<bool>(const relay::v1::ForwardTunnelRequestRequest&)>
        forward_tunnel_request;
  };
  // Set once, before the server starts.
  void SetDesignHandlers(DesignHandlers handlers) { design_ = std::move(handlers); }

  grpc::ServerReadReactor<relay::v1::ScanUploadRequest>* SubmitScan(
      grpc::CallbackServerContext* context, relay::v1::ScanReceipt* receipt) override;
  // The device's owner set a box's conditions; only devices in the gateway's
  // device list may (NOT_FOUND otherwise).
  grpc::ServerUnaryReactor* SetBoxConditions(
      grpc::CallbackServerContext* context, const relay::v1::BoxAccessCondition* request,
      relay::v1::SetBoxConditionsResponse* response) override;
  grpc::ServerUnaryReactor* Sleep(grpc::CallbackServerContext* context,
                                  const relay::v1::SleepRequest* request,
                                  relay::v1::PowerStateResponse* response) override;
  grpc::ServerUnaryReactor* ForwardTunnelRequest(
      grpc::CallbackServerContext* context,
      const relay::v1::ForwardTunnelRequestRequest* request,
      relay::v1::PowerStateResponse* response) override;

 private:
  class ScanReactor;

  // Claims a scan id while it is received; false if another stream has it.
  bool Claim(const std::string& scan_id);
  void Unclaim(const std::string& scan_id);

  const Options options_;
  ScanSpool* const spool_;
  GatewayStore* const store_;
  const Clock* const clock_;
  const DeviceKnown device_known_;
  const ScanAccepted on_accepted_;
  DesignHandlers design_;

  absl::Mutex mu_;
  std::set<std::string> receiving_ ABSL_GUARDED_BY(mu_);
  SerialExecutor io_{"lan-spool"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_LAN_SERVICE_H_
