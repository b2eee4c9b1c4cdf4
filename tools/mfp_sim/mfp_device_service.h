#ifndef RELAY_TOOLS_MFP_SIM_MFP_DEVICE_SERVICE_H_
#define RELAY_TOOLS_MFP_SIM_MFP_DEVICE_SERVICE_H_

#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "relay/v1/lan.grpc.pb.h"
#include "tools/mfp_sim/sim_lan.h"

namespace relay::mfp_sim {

struct MfpDeviceOptions {
  // Each printed job is written to <out_dir>/<device_id>/<job_id>.bin.
  std::string out_dir;
  // False: printed bytes are hashed and counted, then dropped, as a printer
  // does (benchmarks: the simulator's disk writes are not the relay's cost).
  bool keep_printed = true;
  // How long a device stays BUSY printing one job after its data arrived.
  absl::Duration print_time = absl::Seconds(2);
  // A Print waits at most this long for a busy device (or the RPC deadline).
  absl::Duration max_busy_wait = absl::Minutes(5);
  // Larger jobs are refused.
  int64_t max_job_bytes = int64_t{1} << 30;
};

// MfpDevice for every device of the simulated LAN (sync API: this is a test
// device, and a thread per print keeps several jobs on several devices
// running at once). Print streams to disk while hashing; nothing is buffered
// whole.
class MfpDeviceService final : public relay::v1::MfpDevice::Service {
 public:
  MfpDeviceService(SimLan* lan, MfpDeviceOptions options);

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const relay::v1::DeviceRef* request,
                         relay::v1::DeviceInfo* response) override;
  grpc::Status Print(grpc::ServerContext* context,
                     grpc::ServerReader<relay::v1::PrintRequest>* reader,
                     relay::v1::PrintResult* response) override;
  grpc::Status AccessBox(grpc::ServerContext* context,
                         const relay::v1::DeviceBoxRequest* request,
                         relay::v1::BoxResult* response) override;

  // Cuts simulated print times short (shutdown).
  void Stop() { stopping_.Notify(); }

 private:
  SimLan* const lan_;
  const MfpDeviceOptions options_;
  absl::Notification stopping_;
};

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_MFP_DEVICE_SERVICE_H_
