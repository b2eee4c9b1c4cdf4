#ifndef RELAY_COMMON_GRPC_UTIL_H_
#define RELAY_COMMON_GRPC_UTIL_H_

// How every process of the relay builds its gRPC servers and channels, so the
// keepalive, size-limit and health settings are the same everywhere.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/tls_config.h"
#include "grpcpp/channel.h"
#include "grpcpp/server_builder.h"

namespace relay {

struct ChannelOptions {
  // Client keepalive. The session stream is quiet for long periods, so pings
  // must go on without data (GRPC_NOTES.md: "a keepalive trap"), or a dead
  // management server goes unnoticed.
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Bulk data gets a channel of its own, apart from control traffic.
  bool dedicated = false;
  int max_receive_message_bytes = 8 * 1024 * 1024;
  // TLS credentials (common/tls_config.h). Null: plaintext, for in-process
  // tests and the LAN side only; the binaries set it from --tls_dir/--insecure.
  std::shared_ptr<const TlsConfig> tls;
};

std::shared_ptr<grpc::Channel> CreateRelayChannel(const std::string& address,
                                                  const ChannelOptions& options);

struct ServerOptions {
  // Must be at or below the clients' keepalive time.
  absl::Duration min_client_ping_interval = absl::Seconds(1);
  // Server-side keepalive: detects a frozen peer.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  int max_receive_message_bytes = 8 * 1024 * 1024;
  // Request headers (metadata) beyond this are refused by gRPC's HTTP/2 layer.
  int max_metadata_bytes = 16 * 1024;
  // Streams one connection may have open at once.
  int max_concurrent_streams = 1000;
  // TLS credentials and what is asked of clients' certificates. Null tls:
  // plaintext (in-process tests, the LAN side).
  std::shared_ptr<const TlsConfig> tls;
  ClientCertPolicy client_certs = ClientCertPolicy::kRequire;
};

// Applies the options, and enables the standard health service and server
// reflection.
void ConfigureServerBuilder(grpc::ServerBuilder& builder,
                            const ServerOptions& options);

// Binds `address` on the builder; `*selected_port` receives the port (useful
// with port 0 in tests).
void AddListeningPort(grpc::ServerBuilder& builder, const std::string& address,
                      int* selected_port);
// The same with the credentials of `options` (TLS unless options.tls is null
// or insecure).
void AddListeningPort(grpc::ServerBuilder& builder, const std::string& address,
                      const ServerOptions& options, int* selected_port);

}  // namespace relay

#endif  // RELAY_COMMON_GRPC_UTIL_H_
