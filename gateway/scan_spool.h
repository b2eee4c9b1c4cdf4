#ifndef RELAY_GATEWAY_SCAN_SPOOL_H_
#define RELAY_GATEWAY_SCAN_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/file_util.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"

namespace relay::gateway {

// Writes one scan into the spool directory. Bytes go to "<id>.part"; Commit()
// fsyncs the file, renames it to "<id>.bin" and fsyncs the directory, so a
// committed scan survives a crash. Dropping an uncommitted writer deletes the
// partial file. Not thread-safe (one writer per scan).
class SpoolWriter {
 public:
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  absl::Status Append(absl::string_view data);
  // Durably stores the scan; returns its final path.
  absl::StatusOr<std::string> Commit();
  void Abort();

  int64_t size() const { return size_; }
  // Only after Commit().
  const std::string& sha256_hex() const { return sha256_hex_; }

 private:
  friend class ScanSpool;
  SpoolWriter(int fd, std::string dir, std::string part_path, std::string final_path)
      : fd_(fd), dir_(std::move(dir)), part_path_(std::move(part_path)),
        final_path_(std::move(final_path)) {}

  int fd_;
  std::string dir_;
  std::string part_path_;
  std::string final_path_;
  int64_t size_ = 0;
  Sha256 hash_;
  std::string sha256_hex_;
  bool committed_ = false;
};

// The directory <state_dir>/spool holding scans until the cloud stored them.
//
//   ScanSpool spool(state_dir + "/spool");
//   RETURN_IF_ERROR(spool.Init());
//   ASSIGN_OR_RETURN(auto writer, spool.Create("scan-1"));
//   RETURN_IF_ERROR(writer->Append(bytes));
//   ASSIGN_OR_RETURN(std::string path, writer->Commit());
class ScanSpool {
 public:
  explicit ScanSpool(std::string dir) : dir_(std::move(dir)) {}

  // Creates the directory if needed and removes partial files a crash left.
  absl::Status Init();
  // INVALID_ARGUMENT for an id outside the safe alphabet (it names a file).
  absl::StatusOr<std::unique_ptr<SpoolWriter>> Create(absl::string_view scan_id);
  std::string PathFor(absl::string_view scan_id) const;
  // Deletes a committed scan; OK if it is already gone.
  absl::Status Remove(absl::string_view scan_id);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// mkdir -p lives in common/file_util.h.
using ::relay::MakeDirectories;

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_SCAN_SPOOL_H_
