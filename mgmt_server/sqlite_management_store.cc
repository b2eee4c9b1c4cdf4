#include "mgmt_server/sqlite_management_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::mgmt {
namespace {

// What the gateways report (sessions, device lists, device information, wake
// addresses) is a copy of state each gateway re-sends when its session opens:
// written safe from a crash of this process, not fsynced (a power failure
// loses at most what the next sessions report again). Enrolment decisions
// (gateway_enrolment.cc) are an operator's word and stay flushed.
constexpr Durability kReported = Durability::kProcessCrashSafe;

// migrations[i] brings the schema from version i to i + 1. Never edit one
// that has shipped; append.
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      R"sql(
CREATE TABLE gateways (
  gateway_id TEXT PRIMARY KEY,
  lan_id TEXT NOT NULL DEFAULT '',
  software_version TEXT NOT NULL DEFAULT '',
  connected INTEGER NOT NULL DEFAULT 0,
  session_epoch INTEGER NOT NULL DEFAULT 0,
  last_seen_ms INTEGER NOT NULL DEFAULT 0,
  connected_since_ms INTEGER NOT NULL DEFAULT 0,
  device_list_version INTEGER NOT NULL DEFAULT 0,
  device_list_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gateways_by_lan ON gateways (lan_id);
CREATE TABLE devices (
  gateway_id TEXT NOT NULL REFERENCES gateways (gateway_id),
  device_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  protocol TEXT NOT NULL DEFAULT '',
  capabilities BLOB NOT NULL DEFAULT x'',
  status INTEGER NOT NULL DEFAULT 0,
  registered INTEGER NOT NULL DEFAULT 0,
  is_gateway_host INTEGER NOT NULL DEFAULT 0,
  job_in_flight INTEGER NOT NULL DEFAULT 0,
  discovered_by TEXT NOT NULL DEFAULT '',
  last_seen_unix INTEGER NOT NULL DEFAULT 0,
  updated_at_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (gateway_id, device_id)
);
CREATE INDEX devices_by_device ON devices (device_id, registered, updated_at_ms);
)sql",
      // Related designs 2 (device information fetched through the session)
      // and 1 (how a sleeping gateway is woken by another of its LAN).
      R"sql(
CREATE TABLE device_info (
  device_id TEXT PRIMARY KEY,
  gateway_id TEXT NOT NULL,
  info BLOB NOT NULL,
  fetched_at_ms INTEGER NOT NULL
);
ALTER TABLE gateways ADD COLUMN lan_address TEXT NOT NULL DEFAULT '';
ALTER TABLE gateways ADD COLUMN mac_address TEXT NOT NULL DEFAULT '';
)sql",
      // Related design 1: where a sleeping gateway listens for its magic packet.
      R"sql(
ALTER TABLE gateways ADD COLUMN wol_address TEXT NOT NULL DEFAULT '';
)sql",
  };
  return *migrations;
}

int64_t ToMs(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixMillis(t);
}
absl::Time FromMs(int64_t ms) {
  return ms == 0 ? absl::InfinitePast() : absl::FromUnixMillis(ms);
}

constexpr absl::string_view kGatewayColumns =
    "gateway_id, lan_id, software_version, connected, session_epoch, last_seen_ms, "
    "connected_since_ms, device_list_version";

GatewayRecord ReadGateway(const Statement& st) {
  GatewayRecord record;
  record.gateway_id = st.ColumnText(0);
  record.lan_id = st.ColumnText(1);
  record.software_version = st.ColumnText(2);
  record.connected = st.ColumnInt(3) != 0;
  record.session_epoch = st.ColumnInt(4);
  record.last_seen = FromMs(st.ColumnInt(5));
  record.connected_since = FromMs(st.ColumnInt(6));
  record.device_list_version = st.ColumnInt(7);
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteManagementStore>> SqliteManagementStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<SqliteManagementStore>(new SqliteManagementStore(std::move(db)));
}

absl::Status SqliteManagementStore::MarkAllDisconnected() {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction(
      [&] { return db_->Exec("UPDATE gateways SET connected = 0 WHERE connected != 0"); },
      kReported);
}

absl::StatusOr<int64_t> SqliteManagementStore::BeginSession(
    absl::string_view gateway_id, absl::string_view lan_id,
    absl::string_view software_version, absl::Time now) {
  absl::MutexLock lock(&mu_);
  int64_t epoch = 0;
  RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement upsert, db_->Prepare(R"sql(
INSERT INTO gateways (gateway_id, lan_id, software_version, connected, session_epoch,
                      last_seen_ms, connected_since_ms)
VALUES (?1, ?2, ?3, 1, 1, ?4, ?4)
ON CONFLICT (gateway_id) DO UPDATE SET
  lan_id = excluded.lan_id, software_version = excluded.software_version,
  connected = 1, session_epoch = session_epoch + 1,
  last_seen_ms = excluded.last_seen_ms, connected_since_ms = excluded.connected_since_ms
)sql"));
    upsert.BindText(1, gateway_id)
        .BindText(2, lan_id)
        .BindText(3, software_version)
        .BindInt(4, ToMs(now));
    RETURN_IF_ERROR(upsert.Run());
    ASSIGN_OR_RETURN(
        Statement query,
        db_->Prepare("SELECT session_epoch FROM gateways WHERE gateway_id = ?"));
    query.BindText(1, gateway_id);
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return absl::InternalError("gateway row vanished inside a transaction");
    epoch = query.ColumnInt(0);
    return absl::OkStatus();
  }, kReported));
  return epoch;
}

absl::Status SqliteManagementStore::EndSession(absl::string_view gateway_id,
                                               int64_t epoch, absl::Time now) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("UPDATE gateways SET connected = 0, last_seen_ms = ? "
                                "WHERE gateway_id = ? AND session_epoch = ?"));
  st.BindInt(1, ToMs(now)).BindText(2, gateway_id).BindInt(3, epoch);
  return db_->InTransaction([&] { return st.Run(); }, kReported);
}

absl::Status SqliteManagementStore::TouchGateway(absl::string_view gateway_id,
                                                 absl::Time now) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("UPDATE gateways SET last_seen_ms = MAX(last_seen_ms, ?) "
                                "WHERE gateway_id = ?"));
  st.BindInt(1, ToMs(now)).BindText(2, gateway_id);
  return db_->InTransaction([&] { return st.Run(); }, kReported);
}

absl::StatusOr<GatewayRecord> SqliteManagementStore::GetGatewayLocked(
    absl::string_view gateway_id) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kGatewayColumns,
                                             " FROM gateways WHERE gateway_id = ?")));
  st.BindText(1, gateway_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row)
    return absl::NotFoundError(absl::StrCat("gateway ", gateway_id, " is not known"));
  return ReadGateway(st);
}

absl::StatusOr<GatewayRecord> SqliteManagementStore::GetGateway(
    absl::string_view gateway_id) {
  absl::MutexLock lock(&mu_);
  return GetGatewayLocked(gateway_id);
}

absl::StatusOr<std::vector<GatewayRecord>> SqliteManagementStore::ListGateways() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare(absl::StrCat("SELECT ", kGatewayColumns,
                                             " FROM gateways ORDER BY gateway_id")));
  std::vector<GatewayRecord> result;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    result.push_back(ReadGateway(st));
  }
  return result;
}

absl::StatusOr<DeviceListUpdate> SqliteManagementStore::ReplaceDevices(
    const relay::v1::DeviceList& list, absl::Time now) {
  absl::MutexLock lock(&mu_);
  DeviceListUpdate outcome = DeviceListUpdate::kApplied;
  RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement gw,
        db_->Prepare(
            "SELECT device_list_version, device_list_epoch, session_epoch FROM gateways "
            "WHERE gateway_id = ?"));
    gw.BindText(1, list.gateway_id());
    ASSIGN_OR_RETURN(bool row, gw.Step());
    if (!row) {
      return absl::NotFoundError(
          absl::StrCat("gateway ", list.gateway_id(), " is not known"));
    }
    int64_t stored_version = gw.ColumnInt(0);
    int64_t stored_epoch = gw.ColumnInt(1);
    int64_t session_epoch = gw.ColumnInt(2);
    if (list.version() < stored_version && stored_epoch == session_epoch) {
      outcome = DeviceListUpdate::kStale;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(Statement clear,
                     db_->Prepare("DELETE FROM devices WHERE gateway_id = ?"));
    clear.BindText(1, list.gateway_id());
    RETURN_IF_ERROR(clear.Run());
    for (const relay::v1::DeviceInfo& device : list.devices()) {
      ASSIGN_OR_RETURN(Statement insert, db_->Prepare(R"sql(
INSERT INTO devices (gateway_id, device_id, name, model, address, protocol, capabilities,
                     status, registered, is_gateway_host, job_in_flight, discovered_by,
                     last_seen_unix, updated_at_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
)sql"));
      insert.BindText(1, list.gateway_id())
          .BindText(2, device.device_id())
          .BindText(3, device.name())
          .BindText(4, device.model())
          .BindText(5, device.address())
          .BindText(6, device.protocol())
          .BindBlob(7, device.capabilities().SerializeAsString())
          .BindInt(8, device.status())
          .BindInt(9, device.registered() ? 1 : 0)
          .BindInt(10, device.is_gateway_host() ? 1 : 0)
          .BindInt(11, device.job_in_flight() ? 1 : 0)
          .BindText(12, device.discovered_by())
          .BindInt(13, device.last_seen_unix())
          .BindInt(14, ToMs(now));
      RETURN_IF_ERROR(insert.Run());
    }
    ASSIGN_OR_RETURN(
        Statement update,
        db_->Prepare("UPDATE gateways SET device_list_version = ?, device_list_epoch = "
                     "session_epoch, "
                     "last_seen_ms = MAX(last_seen_ms, ?) WHERE gateway_id = ?"));
    update.BindInt(1, list.version())
        .BindInt(2, ToMs(now))
        .BindText(3, list.gateway_id());
    return update.Run();
  }, kReported));
  return outcome;
}

absl::StatusOr<std::vector<relay::v1::DeviceInfo>> SqliteManagementStore::ListDevices(
    absl::string_view gateway_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st, db_->Prepare(R"sql(
SELECT device_id, name, model, address, protocol, capabilities, status, registered,
       is_gateway_host, job_in_flight, discovered_by, last_seen_unix
FROM devices WHERE gateway_id = ? ORDER BY device_id
)sql"));
  st.BindText(1, gateway_id);
  std::vector<relay::v1::DeviceInfo> result;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    relay::v1::DeviceInfo& device = result.emplace_back();
    device.set_device_id(st.ColumnText(0));
    device.set_name(st.ColumnText(1));
    device.set_model(st.ColumnText(2));
    device.set_address(st.ColumnText(3));
    device.set_protocol(st.ColumnText(4));
    if (!device.mutable_capabilities()->ParseFromString(st.ColumnText(5))) {
      return absl::DataLossError(
          absl::StrCat("capabilities of device ", device.device_id(), " do not parse"));
    }
    int64_t status = st.ColumnInt(6);
    device.set_status(relay::v1::DeviceStatus_IsValid(static_cast<int>(status))
                          ? static_cast<relay::v1::DeviceStatus>(status)
                          : relay::v1::DEVICE_STATUS_UNSPECIFIED);
    device.set_registered(st.ColumnInt(7) != 0);
    device.set_is_gateway_host(st.ColumnInt(8) != 0);
    device.set_job_in_flight(st.ColumnInt(9) != 0);
    device.set_discovered_by(st.ColumnText(10));
    device.set_last_seen_unix(st.ColumnInt(11));
  }
  return result;
}

absl::StatusOr<DeviceLocation> SqliteManagementStore::FindDevice(
    absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(
          "SELECT gateway_id, registered, updated_at_ms FROM devices WHERE device_id = ? "
          "ORDER BY registered DESC, updated_at_ms DESC, gateway_id LIMIT 1"));
  st.BindText(1, device_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("device ", device_id, " is not known to any gateway"));
  }
  DeviceLocation location;
  location.gateway_id = st.ColumnText(0);
  location.registered = st.ColumnInt(1) != 0;
  location.updated_at = FromMs(st.ColumnInt(2));
  return location;
}

}  // namespace relay::mgmt

namespace relay::mgmt {

absl::Status SqliteManagementStore::PutDeviceInfo(
    absl::string_view gateway_id, const std::vector<relay::v1::DeviceInfo>& devices,
    absl::Time fetched_at) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    for (const relay::v1::DeviceInfo& device : devices) {
      ASSIGN_OR_RETURN(Statement st,
                       db_->Prepare("INSERT OR REPLACE INTO device_info (device_id, "
                                    "gateway_id, info, fetched_at_ms) VALUES (?, ?, ?, ?)"));
      st.BindText(1, device.device_id())
          .BindText(2, gateway_id)
          .BindBlob(3, device.SerializeAsString())
          .BindInt(4, ToMs(fetched_at));
      RETURN_IF_ERROR(st.Run());
    }
    return absl::OkStatus();
  }, kReported);
}

absl::StatusOr<std::optional<StoredDeviceInfo>> SqliteManagementStore::GetDeviceInfo(
    absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT gateway_id, info, fetched_at_ms FROM device_info "
                                "WHERE device_id = ?"));
  st.BindText(1, device_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<StoredDeviceInfo>();
  StoredDeviceInfo stored;
  stored.gateway_id = st.ColumnText(0);
  if (!stored.info.ParseFromString(st.ColumnText(1))) {
    return absl::DataLossError(absl::StrCat("device information of ", device_id,
                                            " is corrupt"));
  }
  stored.fetched_at = FromMs(st.ColumnInt(2));
  return std::optional<StoredDeviceInfo>(std::move(stored));
}

absl::Status SqliteManagementStore::ForgetDevice(absl::string_view gateway_id,
                                                 absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  return db_->InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement info,
                     db_->Prepare("DELETE FROM device_info WHERE device_id = ?"));
    info.BindText(1, device_id);
    RETURN_IF_ERROR(info.Run());
    ASSIGN_OR_RETURN(Statement device, db_->Prepare("DELETE FROM devices WHERE "
                                                    "gateway_id = ? AND device_id = ?"));
    device.BindText(1, gateway_id).BindText(2, device_id);
    return device.Run();
  }, kReported);
}

absl::Status SqliteManagementStore::SetWakeInfo(const GatewayWakeInfo& info) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("UPDATE gateways SET lan_address = ?, mac_address = ?, "
                                "wol_address = ? WHERE gateway_id = ?"));
  st.BindText(1, info.lan_address)
      .BindText(2, info.mac_address)
      .BindText(3, info.wol_address)
      .BindText(4, info.gateway_id);
  return db_->InTransaction([&] { return st.Run(); }, kReported);
}

absl::StatusOr<std::vector<GatewayWakeInfo>> SqliteManagementStore::ListLanGateways(
    absl::string_view lan_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT gateway_id, lan_id, lan_address, mac_address, "
                                "wol_address, connected FROM gateways WHERE lan_id = ? "
                                "ORDER BY gateway_id"));
  st.BindText(1, lan_id);
  std::vector<GatewayWakeInfo> gateways;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    GatewayWakeInfo info;
    info.gateway_id = st.ColumnText(0);
    info.lan_id = st.ColumnText(1);
    info.lan_address = st.ColumnText(2);
    info.mac_address = st.ColumnText(3);
    info.wol_address = st.ColumnText(4);
    info.connected = st.ColumnInt(5) != 0;
    gateways.push_back(std::move(info));
  }
  return gateways;
}

}  // namespace relay::mgmt
