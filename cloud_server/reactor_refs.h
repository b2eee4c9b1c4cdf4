#ifndef RELAY_CLOUD_SERVER_REACTOR_REFS_H_
#define RELAY_CLOUD_SERVER_REACTOR_REFS_H_

#include <atomic>

namespace relay::cloud {

// Keeps a server reactor alive while work it posted to an executor is
// pending. gRPC calls OnDone once the RPC is over, possibly while such a task
// still runs; the reactor drops the RPC's reference in OnDone and every task
// drops its own when it ends, and the last one deletes the reactor.
//
//   Ref();
//   executor->Post([this] { ...; Unref(); });
//   void OnDone() override { Unref(); }
class ReactorRefs {
 public:
  virtual ~ReactorRefs() = default;

 protected:
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  std::atomic<int> refs_{1};  // The RPC's reference, dropped in OnDone.
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_REACTOR_REFS_H_
