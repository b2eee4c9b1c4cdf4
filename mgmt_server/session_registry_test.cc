#include "mgmt_server/session_registry.h"

#include <deque>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::mgmt {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

// A session that records what it is asked to do.
class FakeSession : public SessionHandle {
 public:
  void Start(const relay::v1::SessionWelcome& welcome) override {
    started = true;
    epoch = welcome.session_epoch();
  }
  absl::Status Send(relay::v1::SessionEvent event) override {
    if (closed) return absl::UnavailableError("closing");
    queued.push_back(std::move(event));
    return absl::OkStatus();
  }
  std::deque<relay::v1::SessionEvent> Close(const absl::Status& status) override {
    if (closed) return {};
    closed = true;
    close_status = status;
    return std::exchange(queued, {});
  }

  bool started = false;
  int64_t epoch = 0;
  bool closed = false;
  absl::Status close_status;
  std::deque<relay::v1::SessionEvent> queued;
};

relay::v1::SessionEvent Tunnel(const std::string& job_id) {
  relay::v1::SessionEvent event;
  event.mutable_tunnel_request()->set_job_id(job_id);
  return event;
}

TEST(SessionRegistryTest, PushToAGatewayWithoutSessionIsUnavailable) {
  SessionRegistry registry;
  absl::Status status = registry.Push("gw-9", Tunnel("j1"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(status.message(), "gateway gw-9 has no session");
}

TEST(SessionRegistryTest, PushReachesTheGatewaysSession) {
  SessionRegistry registry;
  FakeSession a, b;
  registry.Register("gw-a", &a);
  registry.Register("gw-b", &b);
  EXPECT_THAT(registry.Push("gw-b", Tunnel("j1")), IsOk());
  EXPECT_TRUE(a.queued.empty());
  ASSERT_EQ(b.queued.size(), 1u);
  EXPECT_EQ(b.queued[0].tunnel_request().job_id(), "j1");
  EXPECT_EQ(registry.size(), 2u);
}

TEST(SessionRegistryTest, NewerSessionReplacesTheOldOneAndTakesItsPendingEvents) {
  SessionRegistry registry;
  FakeSession old_session, new_session;
  uint64_t old_serial = registry.Register("gw-1", &old_session);
  ASSERT_THAT(registry.Push("gw-1", Tunnel("j1")), IsOk());
  uint64_t new_serial = registry.Register("gw-1", &new_session);
  EXPECT_NE(old_serial, new_serial);
  EXPECT_TRUE(old_session.closed);
  EXPECT_THAT(old_session.close_status, StatusIs(absl::StatusCode::kAborted));
  ASSERT_EQ(new_session.queued.size(), 1u);
  EXPECT_EQ(new_session.queued[0].tunnel_request().job_id(), "j1");
  EXPECT_EQ(registry.size(), 1u);

  // The old session's OnDone comes later and must not drop the new one.
  registry.Unregister("gw-1", &old_session);
  EXPECT_TRUE(registry.HasSession("gw-1"));
  EXPECT_THAT(registry.Push("gw-1", Tunnel("j2")), IsOk());
  EXPECT_EQ(new_session.queued.size(), 2u);

  EXPECT_FALSE(registry.WithSession("gw-1", old_serial, [](SessionHandle&) {}));
  relay::v1::SessionWelcome welcome;
  welcome.set_session_epoch(7);
  EXPECT_TRUE(registry.WithSession("gw-1", new_serial,
                                   [&](SessionHandle& s) { s.Start(welcome); }));
  EXPECT_TRUE(new_session.started);
  EXPECT_EQ(new_session.epoch, 7);

  registry.Unregister("gw-1", &new_session);
  EXPECT_FALSE(registry.HasSession("gw-1"));
  EXPECT_THAT(registry.Push("gw-1", Tunnel("j3")),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(SessionRegistryTest, CloseAllClosesEverySessionAndLaterOnes) {
  SessionRegistry registry;
  FakeSession a, b, late;
  registry.Register("gw-a", &a);
  registry.Register("gw-b", &b);
  registry.CloseAll(absl::UnavailableError("shutting down"));
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(b.closed);
  EXPECT_THAT(a.close_status, StatusIs(absl::StatusCode::kUnavailable));
  registry.Register("gw-c", &late);
  EXPECT_TRUE(late.closed);
  EXPECT_FALSE(registry.HasSession("gw-c"));
}

}  // namespace
}  // namespace relay::mgmt
