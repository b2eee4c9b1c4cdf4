#include "gateway/backoff.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace relay::gateway {

absl::Duration BackoffCeiling(const BackoffConfig& config, int attempt) {
  if (config.cap <= absl::ZeroDuration()) return absl::ZeroDuration();
  double factor = std::pow(std::max(config.multiplier, 1.0), std::max(attempt, 0));
  // Compare in doubles first: initial * factor can overflow a Duration.
  double ceiling_s = absl::ToDoubleSeconds(config.initial) * factor;
  if (!std::isfinite(ceiling_s) || ceiling_s >= absl::ToDoubleSeconds(config.cap)) {
    return config.cap;
  }
  return std::max(absl::ZeroDuration(), absl::Seconds(ceiling_s));
}

absl::Duration FullJitterBackoff(const BackoffConfig& config, int attempt,
                                 double uniform01) {
  uniform01 = std::clamp(uniform01, 0.0, 1.0);
  return BackoffCeiling(config, attempt) * uniform01;
}

std::function<double()> DefaultUniformSource() {
  struct Source {
    absl::Mutex mu;
    absl::BitGen gen ABSL_GUARDED_BY(mu);
  };
  auto source = std::make_shared<Source>();
  return [source] {
    absl::MutexLock lock(&source->mu);
    return absl::Uniform<double>(source->gen, 0.0, 1.0);
  };
}

}  // namespace relay::gateway
