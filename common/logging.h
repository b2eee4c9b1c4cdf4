#ifndef RELAY_COMMON_LOGGING_H_
#define RELAY_COMMON_LOGGING_H_

// One line per event on stderr:
//   2026-11-21T19:40:01.123Z I gateway event=tunnel_open job=J1 gateway=gw-1 device=mfp-3
// Every line about a job carries job=<id>, so a job can be followed across the
// three processes with grep.

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace relay {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Names the process in every line ("gateway", "mgmt", "cloud", "mfp_sim").
void SetLogComponent(absl::string_view component);
void SetMinLogLevel(LogLevel level);
void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void Log(LogLevel level, const absl::FormatSpec<Args...>& format,
         const Args&... args) {
  LogLine(level, absl::StrFormat(format, args...));
}

template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrFormat(format, args...));
}

template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrFormat(format, args...));
}

template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kError, absl::StrFormat(format, args...));
}

}  // namespace relay

#endif  // RELAY_COMMON_LOGGING_H_
