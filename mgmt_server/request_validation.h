#ifndef RELAY_MGMT_SERVER_REQUEST_VALIDATION_H_
#define RELAY_MGMT_SERVER_REQUEST_VALIDATION_H_

// Checks on what gateways and the cloud send to the management server, before
// anything is stored or routed. Each returns INVALID_ARGUMENT (or
// RESOURCE_EXHAUSTED for size limits) with a message naming the bad field.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "relay/v1/common.pb.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxTextBytes = 1024;
inline constexpr int kMaxDevicesPerList = 4096;
inline constexpr int kMaxFormatsPerDevice = 64;

// An id: 1..kMaxIdBytes bytes, no control characters.
absl::Status ValidateId(absl::string_view field, absl::string_view value);

absl::Status ValidateOpenSession(const relay::v1::OpenSessionRequest& request);
absl::Status ValidateDeviceList(const relay::v1::DeviceList& list);
absl::Status ValidateAccessRequest(const relay::v1::AccessRequest& request);
absl::Status ValidateJobProgress(const relay::v1::JobProgress& progress);
absl::Status ValidateUploadRequest(const relay::v1::UploadAccessRequest& request);

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_REQUEST_VALIDATION_H_
