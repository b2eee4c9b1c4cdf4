// Fuzz target: a sequence of frames the cloud sends down a print tunnel, as
// the gateway checks them (gateway/tunnel_frames.h). Input: frames, each a
// 2-byte little-endian length followed by a serialized TunnelDown.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gateway/tunnel_frames.h"
#include "relay/v1/cloud.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  relay::gateway::PrintFrameValidator validator;
  size_t pos = 0;
  int64_t delivered = 0;
  while (pos + 2 <= size) {
    size_t len = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
    pos += 2;
    if (len > size - pos) len = size - pos;
    relay::v1::TunnelDown frame;
    if (!frame.ParseFromArray(data + pos, static_cast<int>(len))) return 0;
    pos += len;
    if (!validator.Check(frame).ok()) return 0;  // The gateway fails the job here.
    if (frame.has_data()) delivered += static_cast<int64_t>(frame.data().data().size());
    // Invariants: never more bytes than announced reach the device.
    if (delivered != validator.received()) std::abort();
    if (!validator.already_done() && validator.received() > validator.announced_size()) {
      std::abort();
    }
    // A job already done ends at TunnelAccepted: nothing is sent.
    if (validator.ended() && !validator.already_done() &&
        validator.received() != validator.announced_size()) {
      std::abort();
    }
  }
  return 0;
}
