#ifndef RELAY_COMMON_PROCESS_H_
#define RELAY_COMMON_PROCESS_H_

// Start-up and shutdown plumbing shared by every binary.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace relay {

// Sets the usage text, parses flags (--help prints every flag and exits 0;
// an unknown flag exits 1 with a message) and returns the positional
// arguments (argv[0] excluded). Also blocks SIGTERM/SIGINT in every thread
// started afterwards, so WaitForShutdownSignal() can receive them.
std::vector<std::string> InitProgram(absl::string_view component,
                                     absl::string_view usage, int argc,
                                     char** argv);

// Blocks until SIGTERM or SIGINT arrives; returns the signal's name.
std::string WaitForShutdownSignal();

// Prints "<program>: <message>" to stderr and exits with status 2 (bad
// configuration at start-up fails fast).
[[noreturn]] void FailStartup(absl::string_view message);

}  // namespace relay

#endif  // RELAY_COMMON_PROCESS_H_
