#include "gateway/tunnel_frames.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace relay::gateway {

absl::Status PrintFrameValidator::Check(const relay::v1::TunnelDown& frame) {
  switch (frame.frame_case()) {
    case relay::v1::TunnelDown::kAccepted: {
      if (state_ != State::kAwaitAccepted) {
        return absl::InvalidArgumentError("TunnelAccepted received twice");
      }
      const relay::v1::TunnelAccepted& accepted = frame.accepted();
      if (!accepted.already_done() && accepted.size() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("TunnelAccepted announces a negative size ", accepted.size()));
      }
      already_done_ = accepted.already_done();
      announced_size_ = accepted.size();
      state_ = already_done_ ? State::kEnded : State::kData;
      return absl::OkStatus();
    }
    case relay::v1::TunnelDown::kData: {
      if (state_ != State::kData) {
        return absl::InvalidArgumentError(state_ == State::kAwaitAccepted
                                              ? "data before TunnelAccepted"
                                              : "data after DataEnd");
      }
      const relay::v1::DataChunk& chunk = frame.data();
      int64_t size = static_cast<int64_t>(chunk.data().size());
      if (chunk.offset() != received_) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunk at offset ", chunk.offset(), " but ", received_, " bytes received"));
      }
      if (size > kMaxChunkBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("chunk of ", size, " bytes exceeds ", kMaxChunkBytes));
      }
      if (received_ + size > announced_size_) {
        return absl::InvalidArgumentError(
            absl::StrCat("chunk ends at ", received_ + size,
                         " beyond the announced size ", announced_size_));
      }
      if (hashing_) hash_.Update(chunk.data());
      received_ += size;
      return absl::OkStatus();
    }
    case relay::v1::TunnelDown::kEnd: {
      if (state_ != State::kData) {
        return absl::InvalidArgumentError(state_ == State::kAwaitAccepted
                                              ? "DataEnd before TunnelAccepted"
                                              : "DataEnd received twice");
      }
      const relay::v1::DataEnd& end = frame.end();
      if (end.total_size() != received_ || received_ != announced_size_) {
        return absl::InvalidArgumentError(absl::StrCat(
            "document incomplete: announced ", announced_size_, " bytes, DataEnd says ",
            end.total_size(), ", received ", received_));
      }
      if (!hashing_) {
        sha256_hex_ = absl::AsciiStrToLower(end.sha256_hex());
        state_ = State::kEnded;
        return absl::OkStatus();
      }
      sha256_hex_ = hash_.FinishHex();
      if (!end.sha256_hex().empty() &&
          absl::AsciiStrToLower(end.sha256_hex()) != sha256_hex_) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sha256 mismatch: cloud says ", end.sha256_hex(), ", received bytes hash to ",
            sha256_hex_));
      }
      state_ = State::kEnded;
      return absl::OkStatus();
    }
    case relay::v1::TunnelDown::kClosed:
      // The cloud may close early (e.g. it cancelled the job); the caller
      // decides what an early close means.
      return absl::OkStatus();
    case relay::v1::TunnelDown::FRAME_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("empty or unknown tunnel frame");
}

}  // namespace relay::gateway
