#ifndef RELAY_COMMON_CLOCK_H_
#define RELAY_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace relay {

// Source of the current time. Logic classes take a Clock* so tests can drive
// time deterministically with FakeClock (common/testing/fake_clock.h).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock.
class SystemClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static SystemClock* Get() {
    static SystemClock* clock = new SystemClock();
    return clock;
  }
};

}  // namespace relay

#endif  // RELAY_COMMON_CLOCK_H_
