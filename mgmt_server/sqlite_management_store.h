#ifndef RELAY_MGMT_SERVER_SQLITE_MANAGEMENT_STORE_H_
#define RELAY_MGMT_SERVER_SQLITE_MANAGEMENT_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/sqlite_db.h"
#include "mgmt_server/management_store.h"

namespace relay::mgmt {

// The management table in an SQLite file.
//
//   ASSIGN_OR_RETURN(auto store, SqliteManagementStore::Open("management.db"));
//   ASSIGN_OR_RETURN(int64_t epoch, store->BeginSession("gw-1", "lan-a", "1.0", now));
class SqliteManagementStore : public ManagementStore {
 public:
  // Opens or creates the database and brings its schema up to date.
  static absl::StatusOr<std::unique_ptr<SqliteManagementStore>> Open(
      const std::string& path);

  absl::Status MarkAllDisconnected() override;
  absl::StatusOr<int64_t> BeginSession(absl::string_view gateway_id,
                                       absl::string_view lan_id,
                                       absl::string_view software_version,
                                       absl::Time now) override;
  absl::Status EndSession(absl::string_view gateway_id, int64_t epoch,
                          absl::Time now) override;
  absl::Status TouchGateway(absl::string_view gateway_id, absl::Time now) override;
  absl::StatusOr<GatewayRecord> GetGateway(absl::string_view gateway_id) override;
  absl::StatusOr<std::vector<GatewayRecord>> ListGateways() override;
  absl::StatusOr<DeviceListUpdate> ReplaceDevices(const relay::v1::DeviceList& list,
                                                  absl::Time now) override;
  absl::StatusOr<std::vector<relay::v1::DeviceInfo>> ListDevices(
      absl::string_view gateway_id) override;
  absl::StatusOr<DeviceLocation> FindDevice(absl::string_view device_id) override;
  absl::Status PutDeviceInfo(absl::string_view gateway_id,
                             const std::vector<relay::v1::DeviceInfo>& devices,
                             absl::Time fetched_at) override;
  absl::StatusOr<std::optional<StoredDeviceInfo>> GetDeviceInfo(
      absl::string_view device_id) override;
  absl::Status ForgetDevice(absl::string_view gateway_id,
                            absl::string_view device_id) override;
  absl::Status SetWakeInfo(const GatewayWakeInfo& info) override;
  absl::StatusOr<std::vector<GatewayWakeInfo>> ListLanGateways(
      absl::string_view lan_id) override;

 private:
  explicit SqliteManagementStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::StatusOr<GatewayRecord> GetGatewayLocked(absl::string_view gateway_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_SQLITE_MANAGEMENT_STORE_H_
