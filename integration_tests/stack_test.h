#ifndef RELAY_INTEGRATION_TESTS_STACK_TEST_H_
#define RELAY_INTEGRATION_TESTS_STACK_TEST_H_

#include <memory>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/relay_stack.h"

namespace relay::integration {

// Base fixture of the integration tests: starts a RelayStack, waits until the
// cloud lists every simulated device, and keeps the stack's logs when a case
// fails.
class StackTest : public ::testing::Test {
 protected:
  void StartStack(const StackOptions& options = {}) {
    auto stack = RelayStack::Start(options);
    ASSERT_THAT(stack, ::relay::testing::IsOk());
    stack_ = std::move(*stack);
    // Every simulated device has been discovered and mirrored to the cloud.
    ASSERT_THAT(stack_->WaitForPrinters([&](const auto& printers) {
      return static_cast<int>(printers.size()) == options.devices;
    }),
                ::relay::testing::IsOk());
  }

  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) stack_->KeepDirectory();
  }

  std::unique_ptr<RelayStack> stack_;
};

}  // namespace relay::integration

#endif  // RELAY_INTEGRATION_TESTS_STACK_TEST_H_
