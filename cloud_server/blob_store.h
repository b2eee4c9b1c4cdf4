#ifndef RELAY_CLOUD_SERVER_BLOB_STORE_H_
#define RELAY_CLOUD_SERVER_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"

namespace relay::cloud {

// Writes one blob: bytes go to a temporary file while they are hashed; Commit()
// fsyncs it and renames it to its final name (and fsyncs the directory), so a
// blob is either complete and durable or absent. Not thread-safe: one writer
// is used by one stream at a time. Destroying an uncommitted writer deletes
// its temporary file.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> w, blobs.NewWriter());
//   RETURN_IF_ERROR(w->Append(chunk));      // for each chunk
//   RETURN_IF_ERROR(w->Commit());           // durable under w->name()
//   store->InsertDocument({..., w->name()});
class BlobWriter {
 public:
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  absl::Status Append(absl::string_view data);
  // Bytes appended so far.
  int64_t size() const { return size_; }
  // SHA-256 of every appended byte; call once, after the last Append.
  std::string FinishHash();
  absl::Status Commit();
  // Deletes the temporary file (or the committed blob). Safe to call twice.
  void Discard();
  const std::string& name() const { return name_; }

 private:
  friend class BlobStore;
  BlobWriter(std::string dir, std::string name, std::string temp_path, int fd);

  std::string dir_;
  std::string name_;
  std::string temp_path_;
  int fd_;
  int64_t size_ = 0;
  bool committed_ = false;
  bool discarded_ = false;
  Sha256 hash_;
};

// Reads a blob at offsets (no state but the file descriptor).
class BlobReader {
 public:
  static absl::StatusOr<std::unique_ptr<BlobReader>> Open(const std::string& path);
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  // Reads up to `max_bytes` at `offset` into `out` (empty at end of file).
  absl::Status ReadAt(int64_t offset, int64_t max_bytes, std::string* out);

 private:
  BlobReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// The files of documents and scans, in <data_dir>/blobs/, with unfinished
// writes in <data_dir>/blobs/tmp/.
class BlobStore {
 public:
  // Creates the directories if needed and deletes leftover temporary files
  // (a crash mid-upload leaves them; nothing refers to them).
  static absl::StatusOr<std::unique_ptr<BlobStore>> Open(const std::string& dir);

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter();
  std::string PathOf(const std::string& name) const;
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenReader(const std::string& name) const;
  // Deletes committed blobs not in `referenced` (renamed by a process that
  // crashed before its row was committed). Returns how many were deleted.
  absl::StatusOr<int> RemoveUnreferenced(const std::vector<std::string>& referenced);

 private:
  explicit BlobStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_BLOB_STORE_H_
