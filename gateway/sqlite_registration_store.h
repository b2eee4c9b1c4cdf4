#ifndef RELAY_GATEWAY_SQLITE_REGISTRATION_STORE_H_
#define RELAY_GATEWAY_SQLITE_REGISTRATION_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite_db.h"
#include "gateway/registration_store.h"

namespace relay::gateway {

// RegistrationStore in an SQLite database file of its own.
//
// The store owns its file because SqliteDb::Migrate versions a whole file with
// PRAGMA user_version: two stores with separate migration lists must not share
// one file.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteRegistrationStore> store,
//                    SqliteRegistrationStore::Open("/var/lib/relay/registration.db"));
class SqliteRegistrationStore : public RegistrationStore {
 public:
  // Opens (creating and migrating if needed) the database at `path`;
  // ":memory:" for tests.
  static absl::StatusOr<std::unique_ptr<SqliteRegistrationStore>> Open(
      const std::string& path);

  absl::StatusOr<std::vector<StoredRegistration>> LoadRegistrations() override;
  absl::Status SaveRegistrations(
      const std::vector<StoredRegistration>& registrations) override;
  absl::Status RecordUsage(absl::string_view device_id,
                           absl::Time when) override;
  absl::StatusOr<std::map<std::string, int64_t>> UsageSince(
      absl::Time since) override;
  absl::StatusOr<std::vector<UsageEvent>> UsageEventsSince(
      absl::Time since) override;
  absl::Status PruneUsageBefore(absl::Time before) override;

 private:
  explicit SqliteRegistrationStore(std::unique_ptr<SqliteDb> db)
      : db_(std::move(db)) {}

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_SQLITE_REGISTRATION_STORE_H_
