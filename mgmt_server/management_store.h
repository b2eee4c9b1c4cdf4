#ifndef RELAY_MGMT_SERVER_MANAGEMENT_STORE_H_
#define RELAY_MGMT_SERVER_MANAGEMENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "relay/v1/common.pb.h"

namespace relay::mgmt {

// One gateway as the management server knows it.
struct GatewayRecord {
  std::string gateway_id;
  std::string lan_id;
  std::string software_version;
  // A session is open right now (as far as the store knows).
  bool connected = false;
  // Increases each time the gateway opens a session.
  int64_t session_epoch = 0;
  absl::Time last_seen = absl::InfinitePast();
  absl::Time connected_since = absl::InfinitePast();
  // Version of the last device list accepted from this gateway (0: none).
  int64_t device_list_version = 0;
};

// Where a device sits: the gateway that manages it.
struct DeviceLocation {
  std::string gateway_id;
  bool registered = false;
  absl::Time updated_at = absl::InfinitePast();
};

// Device information fetched from a gateway through its session (related
// design 2): identity, capabilities, state and counters, with the time the
// gateway queried the device.
struct StoredDeviceInfo {
  std::string gateway_id;
  relay::v1::DeviceInfo info;
  absl::Time fetched_at = absl::InfinitePast();
};

// How a sleeping gateway is reached by another gateway of its LAN (related
// design 1), as it said when it last opened a session.
struct GatewayWakeInfo {
  std::string gateway_id;
  std::string lan_id;
  std::string lan_address;
  std::string mac_address;
  // Where it listens for Wake-on-LAN magic packets (UDP host:port).
  std::string wol_address;
  // Read only (ListLanGateways): it has a session now.
  bool connected = false;
};

// Outcome of ReplaceDevices.
enum class DeviceListUpdate {
  kApplied,
  // Older than the list already stored for this session: ignored.
  kStale,
};

// The management table: every gateway, and which devices sit behind which
// gateway. Implementations are thread-safe; every method may block on disk,
// so gRPC callbacks call them through a SerialExecutor, never inline.
class ManagementStore {
 public:
  virtual ~ManagementStore() = default;

  // Sessions do not survive a restart: marks every gateway disconnected.
  virtual absl::Status MarkAllDisconnected() = 0;

  // A gateway opened a session: creates or updates its row, increments and
  // persists its session epoch, marks it connected. Returns the new epoch.
  virtual absl::StatusOr<int64_t> BeginSession(absl::string_view gateway_id,
                                               absl::string_view lan_id,
                                               absl::string_view software_version,
                                               absl::Time now) = 0;

  // The session of `epoch` ended. Does nothing if a newer session has begun
  // since (a replaced session ends after its successor started).
  virtual absl::Status EndSession(absl::string_view gateway_id, int64_t epoch,
                                  absl::Time now) = 0;

  // The gateway was heard from.
  virtual absl::Status TouchGateway(absl::string_view gateway_id, absl::Time now) = 0;

  // NOT_FOUND if the gateway never opened a session.
  virtual absl::StatusOr<GatewayRecord> GetGateway(absl::string_view gateway_id) = 0;

  virtual absl::StatusOr<std::vector<GatewayRecord>> ListGateways() = 0;

  // Replaces every device of list.gateway_id() with the list's devices.
  // A list older than the stored version is ignored (kStale), unless the
  // stored one was reported during an earlier session (a gateway whose state
  // was wiped starts counting again). NOT_FOUND for an unknown gateway.
  virtual absl::StatusOr<DeviceListUpdate> ReplaceDevices(
      const relay::v1::DeviceList& list, absl::Time now) = 0;

  // The devices last reported by `gateway_id`, ordered by device id.
  virtual absl::StatusOr<std::vector<relay::v1::DeviceInfo>> ListDevices(
      absl::string_view gateway_id) = 0;

  // Which gateway manages `device_id`. A device seen by several gateways:
  // the one where it is registered wins, then the most recent report.
  // NOT_FOUND if no gateway reported it.
  virtual absl::StatusOr<DeviceLocation> FindDevice(absl::string_view device_id) = 0;

  // --- Device information (related design 2) ---
  // Stores fetched information of `devices` (replacing what was stored for
  // each device id).
  virtual absl::Status PutDeviceInfo(absl::string_view gateway_id,
                                     const std::vector<relay::v1::DeviceInfo>& devices,
                                     absl::Time fetched_at) = 0;
  // Empty if nothing was fetched for the device.
  virtual absl::StatusOr<std::optional<StoredDeviceInfo>> GetDeviceInfo(
      absl::string_view device_id) = 0;
  // The device is gone: forgets its information and removes it from the
  // device list of `gateway_id` (FindDevice no longer finds it there).
  virtual absl::Status ForgetDevice(absl::string_view gateway_id,
                                    absl::string_view device_id) = 0;

  // --- Wake-up (related design 1) ---
  virtual absl::Status SetWakeInfo(const GatewayWakeInfo& info) = 0;
  // Every gateway of `lan_id` with its wake information, by gateway id.
  virtual absl::StatusOr<std::vector<GatewayWakeInfo>> ListLanGateways(
      absl::string_view lan_id) = 0;
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_MANAGEMENT_STORE_H_
