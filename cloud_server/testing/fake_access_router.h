#ifndef RELAY_CLOUD_SERVER_TESTING_FAKE_ACCESS_ROUTER_H_
#define RELAY_CLOUD_SERVER_TESTING_FAKE_ACCESS_ROUTER_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cloud_server/access_router.h"

namespace relay::cloud::testing {

// An AccessRouter that records requests and answers from a script:
// queued replies first, then the default reply (OK, gateway "gw-1").
class FakeAccessRouter : public AccessRouter {
 public:
  Reply RequestAccess(const relay::v1::AccessRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (!replies_.empty()) {
      Reply reply = replies_.front();
      replies_.pop_front();
      return reply;
    }
    return default_reply_;
  }

  void QueueReply(absl::StatusOr<std::string> gateway_id, bool server_answered = true) {
    absl::MutexLock lock(&mu_);
    replies_.push_back(Reply{std::move(gateway_id), server_answered});
  }
  void SetDefaultReply(absl::StatusOr<std::string> gateway_id,
                       bool server_answered = true) {
    absl::MutexLock lock(&mu_);
    default_reply_ = Reply{std::move(gateway_id), server_answered};
  }

  std::vector<relay::v1::AccessRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int request_count() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(requests_.size());
  }
  // Blocks until at least `n` requests arrived (or `timeout` passed); returns
  // whether they did. Event-driven: no polling.
  bool WaitForRequests(int n, absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(requests_.size()) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  absl::Mutex mu_;
  std::vector<relay::v1::AccessRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::deque<Reply> replies_ ABSL_GUARDED_BY(mu_);
  Reply default_reply_ ABSL_GUARDED_BY(mu_){std::string("gw-1"), true};
};

}  // namespace relay::cloud::testing

#endif  // RELAY_CLOUD_SERVER_TESTING_FAKE_ACCESS_ROUTER_H_
