#ifndef RELAY_COMMON_FILE_UTIL_H_
#define RELAY_COMMON_FILE_UTIL_H_

// POSIX file primitives for durable storage (cloud blobs, gateway scan
// spool): a file is written in full, fsynced, renamed into place, and its
// directory fsynced, so an accepted document or scan survives a crash.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace relay {

// An error for a failed system call on `path`: RESOURCE_EXHAUSTED for a full
// disk, INTERNAL otherwise. `err` is the errno value.
absl::Status ErrnoError(absl::string_view what, absl::string_view path, int err);

// Writes all of `data` to `fd` (retrying short writes and EINTR).
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path);

// fsync()s a directory, making a rename or a new file in it durable.
absl::Status FsyncDirectory(const std::string& dir);

// mkdir -p; FAILED_PRECONDITION if `path` exists and is not a directory.
absl::Status MakeDirectories(const std::string& path);

}  // namespace relay

#endif  // RELAY_COMMON_FILE_UTIL_H_
