#ifndef RELAY_TOOLS_MFP_SIM_SIM_CONTROL_SERVICE_H_
#define RELAY_TOOLS_MFP_SIM_SIM_CONTROL_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "relay/v1/lan.grpc.pb.h"
#include "tools/mfp_sim/sim_lan.h"

namespace relay::mfp_sim {

struct SimControlOptions {
  // StartScan defaults.
  int64_t default_page_bytes = 64 * 1024;
  int max_pages = 1000;
  int64_t max_page_bytes = 16 * 1024 * 1024;
  int64_t max_scan_bytes = int64_t{1} << 30;
  // Chunk size of the stream to the gateway.
  int64_t chunk_bytes = 256 * 1024;
  // Deadline of one SubmitScan call to the gateway.
  absl::Duration scan_timeout = absl::Minutes(5);
  // A scan waits at most this long for a busy device.
  absl::Duration max_busy_wait = absl::Minutes(5);
};

// The simulator's control panel (sync API). StartScan is the device's panel:
// it streams generated pages to the gateway's GatewayLan.SubmitScan.
class SimControlService final : public relay::v1::SimControl::Service {
 public:
  // `gateway_lan` is the channel to the gateway's LAN API.
  SimControlService(SimLan* lan, std::shared_ptr<grpc::Channel> gateway_lan,
                    SimControlOptions options);

  grpc::Status ListDevices(grpc::ServerContext* context,
                           const relay::v1::ListSimDevicesRequest* request,
                           relay::v1::ListSimDevicesResponse* response) override;
  grpc::Status AddDevice(grpc::ServerContext* context,
                         const relay::v1::AddSimDeviceRequest* request,
                         relay::v1::DeviceInfo* response) override;
  grpc::Status StartScan(grpc::ServerContext* context,
                         const relay::v1::StartScanRequest* request,
                         relay::v1::StartScanResponse* response) override;
  grpc::Status ListPrinted(grpc::ServerContext* context,
                           const relay::v1::DeviceRef* request,
                           relay::v1::ListPrintedResponse* response) override;
  grpc::Status RemoveDevice(grpc::ServerContext* context, const relay::v1::DeviceRef* request,
                            relay::v1::DeviceInfo* response) override;
  grpc::Status SetDeviceState(grpc::ServerContext* context,
                              const relay::v1::SetDeviceStateRequest* request,
                              relay::v1::DeviceInfo* response) override;
  grpc::Status PutBoxDocument(grpc::ServerContext* context,
                              const relay::v1::PutBoxDocumentRequest* request,
                              relay::v1::BoxDocument* response) override;
  // The owner's conditions go to the gateway (GatewayLan.SetBoxConditions);
  // the answer is the gateway's.
  grpc::Status SetBoxConditions(grpc::ServerContext* context,
                                const relay::v1::BoxAccessCondition* request,
                                relay::v1::SetBoxConditionsResponse* response) override;
  grpc::Status ListBoxAccesses(grpc::ServerContext* context,
                               const relay::v1::DeviceRef* request,
                               relay::v1::ListBoxAccessesResponse* response) override;

 private:
  SimLan* const lan_;
  std::unique_ptr<relay::v1::GatewayLan::Stub> gateway_;
  const SimControlOptions options_;
};

}  // namespace relay::mfp_sim

#endif  // RELAY_TOOLS_MFP_SIM_SIM_CONTROL_SERVICE_H_
