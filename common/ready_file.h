#ifndef RELAY_COMMON_READY_FILE_H_
#define RELAY_COMMON_READY_FILE_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace relay {

// Once a process serves, it writes "key=value" lines (e.g. "grpc_port=43121")
// to the file named by its --ready_file flag, atomically (temp file, then
// rename). Tests and scripts start processes on port 0 and wait for this file
// instead of sleeping.
absl::Status WriteReadyFile(const std::string& path,
                            const std::map<std::string, std::string>& values);
absl::StatusOr<std::map<std::string, std::string>> ReadReadyFile(
    const std::string& path);

}  // namespace relay

#endif  // RELAY_COMMON_READY_FILE_H_
