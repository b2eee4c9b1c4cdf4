#include "common/logging.h"

#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace relay {
namespace {

absl::Mutex log_mu(absl::kConstInit);
std::string* component ABSL_GUARDED_BY(log_mu) = nullptr;
LogLevel min_level ABSL_GUARDED_BY(log_mu) = LogLevel::kInfo;

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return 'D';
    case LogLevel::kInfo: return 'I';
    case LogLevel::kWarning: return 'W';
    case LogLevel::kError: return 'E';
  }
  return '?';
}

}  // namespace

void SetLogComponent(absl::string_view name) {
  absl::MutexLock lock(&log_mu);
  delete component;
  component = new std::string(name);
}

void SetMinLogLevel(LogLevel level) {
  absl::MutexLock lock(&log_mu);
  min_level = level;
}

void LogLine(LogLevel level, absl::string_view message) {
  std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  absl::MutexLock lock(&log_mu);
  if (level < min_level) return;
  std::string line = absl::StrFormat("%s %c %s %s\n", time, LevelLetter(level),
                                     component != nullptr ? *component : "relay",
                                     message);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace relay
