#ifndef RELAY_CLOUD_SERVER_TUNNEL_SERVICE_H_
#define RELAY_CLOUD_SERVER_TUNNEL_SERVICE_H_

#include <cstdint>

#include "cloud_server/box_broker.h"
#include "cloud_server/content_library.h"
#include "cloud_server/job_manager.h"
#include "cloud_server/tunnel_token.h"
#include "common/serial_executor.h"
#include "relay/v1/cloud.grpc.pb.h"

namespace relay::cloud {

// What the tunnel reactors use. Everything outlives the gRPC server.
struct TunnelDeps {
  JobManager* jobs;
  ContentLibrary* library;
  const TunnelTokenSigner* signer;
  // Quick SQLite work (token nonces, job updates).
  SerialExecutor* store_executor;
  // Writes of received chunks to temporary files.
  SerialExecutor* io_executor;
  // fsync + rename + row insert of finished uploads.
  SerialExecutor* commit_executor;
  // TLS: the tunnel's TunnelOpen.gateway_id (and so its token's gateway)
  // must be the gateway named by the caller's client certificate.
  bool require_gateway_cert = false;
  // Box tunnels (related design 4); null: refused.
  BoxBroker* boxes = nullptr;
};

// CloudTunnel: one ServerBidiReactor per tunnel a gateway opens (no thread
// per stream). Print: verifies the token, sends TunnelAccepted, the document
// in kChunkBytes chunks (one write in flight) and DataEnd, then records the
// gateway's TunnelResult and answers TunnelClosed. Scan: verifies the token,
// streams the chunks into a temporary file while hashing, checks size and
// sha256 at DataEnd, stores the scan durably and answers TunnelClosed. Box:
// verifies the token, answers TunnelAccepted with the request as the user
// made it (BoxBroker), receives a READ's document in chunks (bounded by
// BoxBroker::kMaxDocumentBytes) and the BoxResult, hands it to the waiting
// caller and answers TunnelClosed. A
// protocol violation ends the tunnel with INVALID_ARGUMENT and changes
// nothing.
class TunnelService : public relay::v1::CloudTunnel::CallbackService {
 public:
  static constexpr int64_t kChunkBytes = 256 * 1024;
  // Chunks a gateway sends may be larger than ours, up to this.
  static constexpr int64_t kMaxChunkBytes = 4 * 1024 * 1024;

  explicit TunnelService(TunnelDeps deps) : deps_(deps) {}

  grpc::ServerBidiReactor<relay::v1::TunnelUp, relay::v1::TunnelDown>* Tunnel(
      grpc::CallbackServerContext* context) override;

 private:
  TunnelDeps deps_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_TUNNEL_SERVICE_H_
