#ifndef RELAY_CLOUD_SERVER_SQLITE_CLOUD_STORE_H_
#define RELAY_CLOUD_SERVER_SQLITE_CLOUD_STORE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cloud_server/cloud_store.h"
#include "common/sqlite_db.h"

namespace relay::cloud {

// CloudStore in an SQLite database file of its own (the schema is versioned
// per file with SqliteDb::Migrate).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteCloudStore> store,
//                    SqliteCloudStore::Open(data_dir + "/cloud.db"));
class SqliteCloudStore : public CloudStore {
 public:
  // Opens (creating and migrating if needed) the database at `path`;
  // ":memory:" for tests.
  static absl::StatusOr<std::unique_ptr<SqliteCloudStore>> Open(
      const std::string& path);

  absl::Status InsertDocument(const StoredDocument& document) override;
  absl::StatusOr<StoredDocument> GetDocument(
      const std::string& user_id, const std::string& document_id) override;
  absl::StatusOr<std::vector<StoredDocument>> ListDocuments(
      const std::string& user_id) override;

  absl::StatusOr<std::pair<relay::v1::Job, bool>> CreateJob(
      const relay::v1::Job& job, const std::string& client_request_id) override;
  absl::StatusOr<relay::v1::Job> GetJob(const std::string& job_id) override;
  absl::StatusOr<std::vector<relay::v1::Job>> ListJobs(
      const std::string& user_id) override;
  absl::StatusOr<std::vector<relay::v1::Job>> ListUnfinishedJobs() override;
  absl::StatusOr<relay::v1::Job> UpdateJob(const std::string& job_id,
                                           const JobUpdate& update) override;

  absl::Status InsertScan(const StoredScan& scan) override;
  absl::StatusOr<StoredScan> FindScan(const std::string& scan_id) override;
  absl::StatusOr<std::vector<StoredScan>> ListScans(
      const std::string& user_id) override;

  absl::StatusOr<bool> PutDeviceList(const relay::v1::DeviceList& list,
                                     absl::Time now) override;
  absl::Status SetGatewayOnline(const std::string& gateway_id, bool online,
                                absl::Time now) override;
  absl::StatusOr<std::vector<GatewayMirror>> ListGateways() override;

  absl::Status ConsumeTokenNonce(const std::string& nonce, absl::Time expires,
                                 absl::Time now) override;

  absl::StatusOr<std::vector<std::string>> ListBlobNames() override;

 private:
  explicit SqliteCloudStore(std::unique_ptr<SqliteDb> db)
      : db_(std::move(db)) {}

  absl::StatusOr<relay::v1::Job> LoadJobLocked(const std::string& job_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<relay::v1::Job>> LoadJobsLocked(
      const std::string& where, const std::string& arg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadHistoryLocked(relay::v1::Job& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<StoredScan>> LoadScansLocked(
      const std::string& where, const std::string& arg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_SQLITE_CLOUD_STORE_H_
