#ifndef RELAY_COMMON_SERIAL_EXECUTOR_H_
#define RELAY_COMMON_SERIAL_EXECUTOR_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace relay {

// Runs tasks one at a time, in order, on a thread of its own. gRPC callbacks
// must never block (GRPC_NOTES.md), so they hand SQLite writes, fsyncs and
// device I/O to an executor and resume the RPC from the task.
//
//   SerialExecutor storage("cloud-store");
//   storage.Post([=] { store->MarkDone(job_id); reactor->Resume(); });
class SerialExecutor {
 public:
  explicit SerialExecutor(std::string name);
  // Runs the tasks already posted, then joins the thread.
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void Post(std::function<void()> task);

 private:
  void Loop();

  std::string name_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace relay

#endif  // RELAY_COMMON_SERIAL_EXECUTOR_H_
