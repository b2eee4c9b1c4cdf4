#include "cloud_server/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace relay::cloud {
namespace {

constexpr char kTempDir[] = "tmp";
constexpr char kBlobSuffix[] = ".blob";

}  // namespace

// --- BlobWriter --------------------------------------------------------------

BlobWriter::BlobWriter(std::string dir, std::string name, std::string temp_path,
                       int fd)
    : dir_(std::move(dir)),
      name_(std::move(name)),
      temp_path_(std::move(temp_path)),
      fd_(fd) {}

BlobWriter::~BlobWriter() {
  if (!committed_) Discard();
  if (fd_ >= 0) ::close(fd_);
}

absl::Status BlobWriter::Append(absl::string_view data) {
  if (committed_ || discarded_ || fd_ < 0) {
    return absl::FailedPreconditionError("blob writer is closed");
  }
  hash_.Update(data);
  absl::Status written = WriteAll(fd_, data, temp_path_);
  if (!written.ok()) return written;
  size_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

std::string BlobWriter::FinishHash() { return hash_.FinishHex(); }

absl::Status BlobWriter::Commit() {
  if (committed_ || discarded_ || fd_ < 0) {
    return absl::FailedPreconditionError("blob writer is closed");
  }
  if (::fsync(fd_) != 0) return ErrnoError("cannot fsync", temp_path_, errno);
  ::close(fd_);
  fd_ = -1;
  std::string final_path = absl::StrCat(dir_, "/", name_);
  if (::rename(temp_path_.c_str(), final_path.c_str()) != 0) {
    return ErrnoError("cannot rename to", final_path, errno);
  }
  committed_ = true;
  return FsyncDirectory(dir_);
}

void BlobWriter::Discard() {
  if (discarded_) return;
  discarded_ = true;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::string path = committed_ ? absl::StrCat(dir_, "/", name_) : temp_path_;
  ::unlink(path.c_str());
}

// --- BlobReader --------------------------------------------------------------

absl::StatusOr<std::unique_ptr<BlobReader>> BlobReader::Open(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::DataLossError(absl::StrCat("blob ", path, " is missing"));
    }
    return ErrnoError("cannot open", path, errno);
  }
  return std::unique_ptr<BlobReader>(new BlobReader(path, fd));
}

BlobReader::~BlobReader() { ::close(fd_); }

absl::Status BlobReader::ReadAt(int64_t offset, int64_t max_bytes,
                                std::string* out) {
  out->resize(static_cast<size_t>(max_bytes));
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = ::pread(fd_, out->data() + got, out->size() - got,
                        static_cast<off_t>(offset + static_cast<int64_t>(got)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path_, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  return absl::OkStatus();
}

// --- BlobStore ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path temp = std::filesystem::path(dir) / kTempDir;
  std::filesystem::create_directories(temp, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create blob directory ", temp.string(), ": ", ec.message()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(temp, ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
  return std::unique_ptr<BlobStore>(new BlobStore(dir));
}

absl::StatusOr<std::unique_ptr<BlobWriter>> BlobStore::NewWriter() {
  std::string name = absl::StrCat(RandomHex(16), kBlobSuffix);
  std::string temp_path = absl::StrCat(dir_, "/", kTempDir, "/", name, ".part");
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", temp_path, errno);
  return std::unique_ptr<BlobWriter>(new BlobWriter(dir_, name, temp_path, fd));
}

std::string BlobStore::PathOf(const std::string& name) const {
  return absl::StrCat(dir_, "/", name);
}

absl::StatusOr<std::unique_ptr<BlobReader>> BlobStore::OpenReader(
    const std::string& name) const {
  return BlobReader::Open(PathOf(name));
}

absl::StatusOr<int> BlobStore::RemoveUnreferenced(
    const std::vector<std::string>& referenced) {
  std::set<std::string> keep(referenced.begin(), referenced.end());
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !absl::EndsWith(name, kBlobSuffix)) continue;
    if (keep.count(name) != 0) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot list blob directory ", dir_, ": ", ec.message()));
  }
  return removed;
}

}  // namespace relay::cloud
