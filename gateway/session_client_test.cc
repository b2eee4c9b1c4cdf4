// SessionClient against an in-process fake management server.

#include "gateway/session_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_util.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

// Sends a welcome and the queued tunnel requests down each session, then holds
// it open until the client goes away or the test ends it.
class FakeMgmt final : public relay::v1::GatewaySession::Service {
 public:
  grpc::Status OpenSession(grpc::ServerContext* context,
                           const relay::v1::OpenSessionRequest* request,
                           grpc::ServerWriter<relay::v1::SessionEvent>* writer) override {
    int64_t epoch;
    std::vector<relay::v1::TunnelRequest> pushes;
    {
      absl::MutexLock lock(&mu_);
      epoch = ++sessions_;
      requests_.push_back(*request);
      pushes = pushes_;
      end_session_ = false;
    }
    relay::v1::SessionEvent welcome;
    welcome.mutable_welcome()->set_session_epoch(epoch);
    writer->Write(welcome);
    for (const auto& push : pushes) {
      relay::v1::SessionEvent event;
      *event.mutable_tunnel_request() = push;
      writer->Write(event);
    }
    absl::MutexLock lock(&mu_);
    while (!end_session_ && !context->IsCancelled()) {
      // The fake server polls for cancellation; tests never sleep.
      mu_.AwaitWithTimeout(absl::Condition(&end_session_), absl::Milliseconds(20));
    }
    if (end_session_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server restarting");
    return grpc::Status::CANCELLED;
  }

  void Push(relay::v1::TunnelRequest request) {
    absl::MutexLock lock(&mu_);
    pushes_.push_back(std::move(request));
  }
  void EndSession() {
    absl::MutexLock lock(&mu_);
    end_session_ = true;
  }
  std::vector<relay::v1::OpenSessionRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  int64_t sessions_ ABSL_GUARDED_BY(mu_) = 0;
  bool end_session_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<relay::v1::TunnelRequest> pushes_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::OpenSessionRequest> requests_ ABSL_GUARDED_BY(mu_);
};

class SessionClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&mgmt_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override {
    if (client_ != nullptr) client_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  void StartClient() {
    SessionClient::Handlers handlers;
    handlers.on_session_started = [this](int64_t epoch) {
      absl::MutexLock lock(&mu_);
      epochs_.push_back(epoch);
    };
    handlers.on_tunnel_request = [this](const relay::v1::TunnelRequest& request) {
      absl::MutexLock lock(&mu_);
      jobs_.push_back(request.job_id());
    };
    SessionClient::Options options{"gw-test", "lan-test", "test", BackoffConfig()};
    // Zero jitter draw: reconnects follow at once.
    client_ = std::make_unique<SessionClient>(
        CreateRelayChannel(address_, ChannelOptions()), options, handlers,
        [] { return 0.0; });
    client_->Start();
  }

  void WaitForSessions(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return epochs_.size() >= n; };
    mu_.Await(absl::Condition(&enough));
  }
  void WaitForJobs(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return jobs_.size() >= n; };
    mu_.Await(absl::Condition(&enough));
  }

  FakeMgmt mgmt_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<SessionClient> client_;
  absl::Mutex mu_;
  std::vector<int64_t> epochs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> jobs_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SessionClientTest, OpensASessionAndDispatchesTunnelRequests) {
  relay::v1::TunnelRequest request;
  request.set_job_id("job-1");
  mgmt_.Push(request);
  StartClient();
  WaitForSessions(1);
  WaitForJobs(1);
  EXPECT_TRUE(client_->connected());
  ASSERT_FALSE(mgmt_.requests().empty());
  EXPECT_EQ(mgmt_.requests()[0].gateway_id(), "gw-test");
  EXPECT_EQ(mgmt_.requests()[0].lan_id(), "lan-test");
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(jobs_[0], "job-1");
}

TEST_F(SessionClientTest, ReconnectsWhenTheSessionDrops) {
  StartClient();
  WaitForSessions(1);
  mgmt_.EndSession();
  WaitForSessions(2);
  EXPECT_GE(client_->sessions_started(), 2);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(epochs_[1], 2);
}

TEST_F(SessionClientTest, ShutdownEndsAnOpenSession) {
  StartClient();
  WaitForSessions(1);
  client_->Shutdown();
  EXPECT_FALSE(client_->connected());
}

}  // namespace
}  // namespace relay::gateway
