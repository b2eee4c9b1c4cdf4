#include "gateway/hold_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace relay::gateway {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

class FileSink : public PrintSink {
 public:
  FileSink(int fd, std::string path, HoldSpoolDriver::Commit* commit)
      : fd_(fd), path_(std::move(path)), commit_(commit) {}
  ~FileSink() override { Cancel(); }

  absl::Status Write(absl::string_view data) override {
    if (fd_ < 0) return absl::CancelledError("hold spool closed");
    hash_.Update(data);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno(absl::StrCat("cannot write ", path_));
      done += static_cast<size_t>(n);
    }
    bytes_ += static_cast<int64_t>(data.size());
    return absl::OkStatus();
  }

  bool ReportsSha256() const override { return true; }

  absl::StatusOr<DevicePrintResult> Finish() override {
    if (fd_ < 0) return absl::CancelledError("hold spool closed");
    if (::fsync(fd_) != 0) return Errno(absl::StrCat("cannot fsync ", path_));
    ::close(fd_);
    fd_ = -1;
    DevicePrintResult result;
    result.bytes_received = bytes_;
    result.sha256_hex = hash_.FinishHex();
    absl::Status committed = (*commit_)(path_, result);
    if (!committed.ok()) {
      std::remove(path_.c_str());
      return absl::Status(committed.code(),
                          absl::StrCat("cannot record the hold: ", committed.message()));
    }
    committed_ = true;
    return result;
  }

  void Cancel() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !removed_) {
      removed_ = true;
      std::remove(path_.c_str());
    }
  }

 private:
  int fd_;
  std::string path_;
  HoldSpoolDriver::Commit* commit_;
  Sha256 hash_;
  int64_t bytes_ = 0;
  bool committed_ = false;
  bool removed_ = false;
};

}  // namespace

std::string HoldSpoolDriver::PathFor(const std::string& dir, const std::string& job_id) {
  return absl::StrCat(dir, "/", job_id, ".held");
}

absl::StatusOr<std::unique_ptr<PrintSink>> HoldSpoolDriver::StartPrint(
    const relay::v1::DeviceInfo& /*device*/, const relay::v1::PrintHeader& header) {
  std::string path = PathFor(dir_, header.job_id());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(absl::StrCat("cannot create ", path));
  return std::unique_ptr<PrintSink>(new FileSink(fd, path, &commit_));
}

absl::StatusOr<DevicePrintResult> PrintFromFile(const std::string& path, PrintSink* sink) {
  std::ifstream file(path, std::ios::binary);
  if (!file.good()) {
    sink->Cancel();
    return absl::DataLossError(absl::StrCat("held document ", path, " is gone"));
  }
  constexpr size_t kChunk = 256 * 1024;
  std::vector<char> buffer(kChunk);
  while (file) {
    file.read(buffer.data(), kChunk);
    std::streamsize n = file.gcount();
    if (n <= 0) break;
    absl::Status written = sink->Write(absl::string_view(buffer.data(), n));
    if (!written.ok()) {
      sink->Cancel();
      return written;
    }
  }
  if (file.bad()) {
    sink->Cancel();
    return absl::DataLossError(absl::StrCat("cannot read ", path));
  }
  return sink->Finish();
}

}  // namespace relay::gateway
