#include "gateway/backoff.h"

#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

TEST(BackoffTest, CeilingDoublesFromHalfASecondUpToTheCap) {
  BackoffConfig config;  // 0.5s, x2, 30s
  EXPECT_EQ(BackoffCeiling(config, 0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffCeiling(config, 1), absl::Seconds(1));
  EXPECT_EQ(BackoffCeiling(config, 2), absl::Seconds(2));
  EXPECT_EQ(BackoffCeiling(config, 5), absl::Seconds(16));
  EXPECT_EQ(BackoffCeiling(config, 6), absl::Seconds(30));
  EXPECT_EQ(BackoffCeiling(config, 1000), absl::Seconds(30));  // no overflow
}

TEST(BackoffTest, FullJitterScalesTheCeilingByTheRandomDraw) {
  BackoffConfig config;
  EXPECT_EQ(FullJitterBackoff(config, 3, 0.0), absl::ZeroDuration());
  EXPECT_EQ(FullJitterBackoff(config, 3, 0.5), absl::Seconds(2));
  EXPECT_EQ(FullJitterBackoff(config, 10, 0.25), absl::Seconds(7.5));
  // Out-of-range draws are clamped.
  EXPECT_EQ(FullJitterBackoff(config, 0, 7.0), absl::Milliseconds(500));
  EXPECT_EQ(FullJitterBackoff(config, 0, -1.0), absl::ZeroDuration());
}

TEST(BackoffTest, CustomCapApplies) {
  BackoffConfig config{absl::Seconds(1), 3.0, absl::Seconds(10)};
  EXPECT_EQ(BackoffCeiling(config, 1), absl::Seconds(3));
  EXPECT_EQ(BackoffCeiling(config, 2), absl::Seconds(9));
  EXPECT_EQ(BackoffCeiling(config, 3), absl::Seconds(10));
}

TEST(BackoffTest, DefaultSourceDrawsInUnitInterval) {
  auto uniform = DefaultUniformSource();
  for (int i = 0; i < 1000; ++i) {
    double x = uniform();
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
  }
}

}  // namespace
}  // namespace relay::gateway
