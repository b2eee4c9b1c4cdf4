#ifndef RELAY_GATEWAY_TUNNEL_FRAMES_H_
#define RELAY_GATEWAY_TUNNEL_FRAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/sha256.h"
#include "relay/v1/cloud.pb.h"

namespace relay::gateway {

// Checks the frames the cloud sends down a print tunnel (cloud.proto):
// TunnelAccepted first, then DataChunks with contiguous offsets and never more
// bytes than announced, then DataEnd whose total and sha256 match what
// arrived. The cloud is trusted less than the LAN is: a frame that breaks the
// protocol fails the job instead of reaching the device. Hashes the document
// on the way. Pure: no I/O. Not thread-safe.
//
//   PrintFrameValidator v;
//   RETURN_IF_ERROR(v.Check(frame));  // for each frame read
//   if (frame.has_data()) sink->Write(frame.data().data());
class PrintFrameValidator {
 public:
  // A chunk larger than this is refused (the cloud sends 256 KiB).
  static constexpr int64_t kMaxChunkBytes = 4 * 1024 * 1024;

  // INVALID_ARGUMENT with the reason for a frame in the wrong state, a chunk
  // at the wrong offset or beyond the announced size, a size or checksum
  // mismatch at the end.
  absl::Status Check(const relay::v1::TunnelDown& frame);

  bool accepted() const { return state_ != State::kAwaitAccepted; }
  bool ended() const { return state_ == State::kEnded; }
  bool already_done() const { return already_done_; }
  int64_t announced_size() const { return announced_size_; }
  int64_t received() const { return received_; }
  // After the DataEnd frame passed Check(): the SHA-256 of the bytes received,
  // or, after SkipHashing(), the one DataEnd announced (lower case).
  const std::string& sha256_hex() const { return sha256_hex_; }
  // The receiver reports its own SHA-256 of what it got (the device), and the
  // caller compares that with sha256_hex(): hashing here too would only spend
  // CPU on the hot path. Call before the first data frame.
  void SkipHashing() { hashing_ = false; }

 private:
  enum class State { kAwaitAccepted, kData, kEnded };
  State state_ = State::kAwaitAccepted;
  bool already_done_ = false;
  int64_t announced_size_ = 0;
  int64_t received_ = 0;
  bool hashing_ = true;
  Sha256 hash_;
  std::string sha256_hex_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_TUNNEL_FRAMES_H_
