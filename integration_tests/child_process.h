#ifndef RELAY_INTEGRATION_TESTS_CHILD_PROCESS_H_
#define RELAY_INTEGRATION_TESTS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace relay::integration {

// One real program started by a test, its stdout and stderr appended to a log
// file. The child dies with the test (PR_SET_PDEATHSIG), so a crashed test
// leaves no process behind.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const std::string& log_path);
  ~ChildProcess();

  // SIGTERM, then waits up to `grace` before SIGKILL. Returns the exit status
  // as from waitpid (or -1 if it was killed).
  int Stop(absl::Duration grace = absl::Seconds(10));
  // SIGKILL at once: a crash.
  void Kill();
  bool Running();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int status_ = 0;
};

// Waits for a ready file (see common/ready_file.h) written by a child.
absl::StatusOr<std::map<std::string, std::string>> AwaitReadyFile(
    const std::string& path, ChildProcess* child, absl::Duration timeout);

// Polls `condition` every 20 ms until true or the timeout passes. For states
// that have no stream to wait on.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// The text of a file ("" if missing).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace relay::integration

#endif  // RELAY_INTEGRATION_TESTS_CHILD_PROCESS_H_
