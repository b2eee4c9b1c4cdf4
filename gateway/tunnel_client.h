#ifndef RELAY_GATEWAY_TUNNEL_CLIENT_H_
#define RELAY_GATEWAY_TUNNEL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/device_driver.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "relay/v1/cloud.grpc.pb.h"
#include "relay/v1/common.pb.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::gateway {

// Where a print's document goes: the device's driver, or (related design 3)
// the hold spool with the reason the device cannot execute the job now.
struct PrintTarget {
  DeviceDriver* driver = nullptr;
  // Not empty: `driver` is the hold spool, no PRINTING frame is sent, and the
  // result is HELD with this reason.
  std::string hold_reason;
};

// One print to relay through a tunnel.
struct PrintJob {
  std::string gateway_id;
  relay::v1::TunnelRequest request;  // job id, token, device, user
  relay::v1::DeviceInfo device;      // where the driver reaches it
  // The registration change the access caused, for the progress frames.
  std::string registration_change;
  // Called once the cloud accepted the tunnel (not if it failed or the job
  // was done before), before any byte goes anywhere: where the document goes.
  // Lets the caller ask the device whether it can execute the job while the
  // tunnel opens instead of before. Empty: the driver given to RunPrint.
  std::function<PrintTarget()> resolve_target;
};

struct PrintOutcome {
  // DONE or FAILED; HELD when the target had a hold reason and the document
  // is in the hold spool.
  relay::v1::JobState state = relay::v1::JOB_STATE_FAILED;
  std::string reason;
  int64_t bytes_delivered = 0;
  std::string sha256_hex;
  // The cloud said the job was completed before: nothing was printed.
  bool already_done = false;
};

struct PrintCallbacks {
  // The first byte reached the device (the tunnel's PRINTING frame is sent).
  std::function<void()> on_printing;
  // The device has the whole document; called before the result is sent to
  // the cloud, so the job is recorded as delivered before anyone can retry it.
  std::function<void(const DevicePrintResult&)> on_delivered;
};

// A scan to upload through a tunnel.
struct ScanUpload {
  std::string gateway_id;
  std::string tunnel_token;
  std::string scan_id;
  std::string device_id;
  std::string user_id;
  std::string content_type;
  int64_t size = 0;
  std::string sha256_hex;
  std::string spool_path;
};

// One request to a device's box through a tunnel (related design 4).
struct BoxJob {
  std::string gateway_id;
  relay::v1::TunnelRequest request;  // request id (job_id), token, device, box
};

// What the gateway does with the request the cloud confirmed in
// TunnelAccepted: check the box's conditions and, if permitted, ask the
// device. Runs on the tunnel's worker thread while the tunnel is open.
using BoxExecutor = std::function<relay::v1::BoxResult(const relay::v1::BoxRequest&)>;

// Runs accesses through CloudTunnel.Tunnel (cloud.proto). Blocking: each call
// runs on a worker thread of the access handler (one per active tunnel,
// bounded by its pool). Tests replace it with a fake.
class TunnelClient {
 public:
  virtual ~TunnelClient() = default;
  // Receives the document and streams it to the device as it arrives.
  virtual PrintOutcome RunPrint(const PrintJob& job, DeviceDriver* driver,
                                const PrintCallbacks& callbacks) = 0;
  // Uploads a spooled scan; returns the id the cloud stored it under once the
  // cloud confirmed (TunnelClosed). An error means: retry later.
  virtual absl::StatusOr<std::string> UploadScan(const ScanUpload& scan) = 0;
  // Opens a BOX tunnel, runs `execute` on the request the cloud sends back,
  // and returns its result through the tunnel (a READ's document as chunks).
  // Returns the result sent, or why the tunnel failed.
  virtual absl::StatusOr<relay::v1::BoxResult> RunBox(const BoxJob& job,
                                                      const BoxExecutor& execute) {
    return absl::UnimplementedError("this tunnel client does not carry box requests");
  }
  // Cancels every tunnel in progress and refuses new ones (shutdown).
  virtual void CancelAll() = 0;
};

// TunnelClient over gRPC's synchronous bidi stream, on a channel dedicated to
// bulk data (GRPC_NOTES.md: keep tunnels apart from control traffic). One
// write in flight per stream is inherent in the sync API; Write() blocks on
// flow control, which is the backpressure end to end: the device's pace
// limits reads from the tunnel, which limits the cloud's writes.
class GrpcTunnelClient : public TunnelClient {
 public:
  // Scan chunks: well under the 4 MiB message limit (GRPC_NOTES.md).
  static constexpr int64_t kScanChunkBytes = 256 * 1024;

  explicit GrpcTunnelClient(std::shared_ptr<grpc::Channel> channel);

  PrintOutcome RunPrint(const PrintJob& job, DeviceDriver* driver,
                        const PrintCallbacks& callbacks) override;
  absl::StatusOr<std::string> UploadScan(const ScanUpload& scan) override;
  absl::StatusOr<relay::v1::BoxResult> RunBox(const BoxJob& job,
                                              const BoxExecutor& execute) override;
  void CancelAll() override;

 private:
  // Registers a context so CancelAll can reach it; false after CancelAll.
  bool Track(grpc::ClientContext* context);
  void Untrack(grpc::ClientContext* context);

  std::unique_ptr<relay::v1::CloudTunnel::Stub> stub_;
  absl::Mutex mu_;
  std::set<grpc::ClientContext*> active_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_TUNNEL_CLIENT_H_
