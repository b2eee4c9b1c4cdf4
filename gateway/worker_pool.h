#ifndef RELAY_GATEWAY_WORKER_POOL_H_
#define RELAY_GATEWAY_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace relay::gateway {

// A fixed number of threads running posted tasks (first posted, first
// started). The gateway runs each active tunnel on one of them: the pool's
// size bounds the number of tunnels relaying at once; more wait in the queue.
class WorkerPool {
 public:
  WorkerPool(std::string name, int threads);
  // Runs the tasks already posted, then joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(std::function<void()> task);

 private:
  void Loop();

  const std::string name_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_WORKER_POOL_H_
