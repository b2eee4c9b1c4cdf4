#include "gateway/scan_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_util.h"
#include "gateway/ids.h"

namespace relay::gateway {
namespace {

}  // namespace

SpoolWriter::~SpoolWriter() {
  if (!committed_) Abort();
}

absl::Status SpoolWriter::Append(absl::string_view data) {
  if (fd_ < 0) return absl::FailedPreconditionError("spool writer is closed");
  RETURN_IF_ERROR(WriteAll(fd_, data, part_path_));
  hash_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> SpoolWriter::Commit() {
  if (fd_ < 0) return absl::FailedPreconditionError("spool writer is closed");
  if (::fsync(fd_) != 0) return ErrnoError("fsync", part_path_, errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return ErrnoError("close", part_path_, errno);
  }
  fd_ = -1;
  if (::rename(part_path_.c_str(), final_path_.c_str()) != 0) {
    return ErrnoError("rename", part_path_, errno);
  }
  RETURN_IF_ERROR(FsyncDirectory(dir_));
  committed_ = true;
  sha256_hex_ = hash_.FinishHex();
  return final_path_;
}

void SpoolWriter::Abort() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_) ::unlink(part_path_.c_str());
}

absl::Status ScanSpool::Init() {
  RETURN_IF_ERROR(MakeDirectories(dir_));
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return ErrnoError("opendir", dir_, errno);
  while (struct dirent* entry = ::readdir(d)) {
    if (absl::EndsWith(entry->d_name, ".part")) {
      ::unlink(absl::StrCat(dir_, "/", entry->d_name).c_str());
    }
  }
  ::closedir(d);
  return absl::OkStatus();
}

std::string ScanSpool::PathFor(absl::string_view scan_id) const {
  return absl::StrCat(dir_, "/", scan_id, ".bin");
}

absl::StatusOr<std::unique_ptr<SpoolWriter>> ScanSpool::Create(
    absl::string_view scan_id) {
  if (!IsSafeId(scan_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scan id \"", absl::CHexEscape(scan_id.substr(0, 64)),
        "\" is invalid: use 1-128 letters, digits, '.', '_', ':' or '-'"));
  }
  // A random suffix keeps two concurrent uploads of one id apart.
  std::string part = absl::StrCat(dir_, "/", scan_id, ".", RandomHex(4), ".part");
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError("create", part, errno);
  return std::unique_ptr<SpoolWriter>(
      new SpoolWriter(fd, dir_, std::move(part), PathFor(scan_id)));
}

absl::Status ScanSpool::Remove(absl::string_view scan_id) {
  std::string path = PathFor(scan_id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", path, errno);
  return absl::OkStatus();
}

}  // namespace relay::gateway
