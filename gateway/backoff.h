#ifndef RELAY_GATEWAY_BACKOFF_H_
#define RELAY_GATEWAY_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"

namespace relay::gateway {

// Exponential backoff with "full jitter": the delay before retry `attempt`
// (0-based) is uniform in [0, min(cap, initial * multiplier^attempt)].
// Full jitter spreads the reconnects of many gateways after a management
// server restart instead of synchronizing them.
struct BackoffConfig {
  absl::Duration initial = absl::Milliseconds(500);
  double multiplier = 2.0;
  absl::Duration cap = absl::Seconds(30);
};

// The upper bound of the delay before retry `attempt` (no jitter).
absl::Duration BackoffCeiling(const BackoffConfig& config, int attempt);

// The delay before retry `attempt`; `uniform01` is a value in [0, 1) drawn by
// the caller (injected so tests are deterministic).
absl::Duration FullJitterBackoff(const BackoffConfig& config, int attempt,
                                 double uniform01);

// A uniform [0, 1) source backed by absl::BitGen, safe to call from any thread.
std::function<double()> DefaultUniformSource();

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_BACKOFF_H_
