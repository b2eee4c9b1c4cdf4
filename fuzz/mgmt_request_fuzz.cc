// Fuzz target: what gateways send the management server (device lists, job
// progress, upload requests), as request_validation.h checks it before
// anything is stored. The first byte picks the message.
#include <cstddef>
#include <cstdint>

#include "mgmt_server/request_validation.h"
#include "relay/v1/mgmt.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t* body = data + 1;
  int len = static_cast<int>(size - 1);
  switch (data[0] % 4) {
    case 0: {
      relay::v1::ReportDevicesRequest request;
      if (request.ParseFromArray(body, len)) {
        relay::mgmt::ValidateDeviceList(request.device_list()).IgnoreError();
      }
      break;
    }
    case 1: {
      relay::v1::JobProgress progress;
      if (progress.ParseFromArray(body, len)) {
        relay::mgmt::ValidateJobProgress(progress).IgnoreError();
      }
      break;
    }
    case 2: {
      relay::v1::UploadAccessRequest request;
      if (request.ParseFromArray(body, len)) {
        relay::mgmt::ValidateUploadRequest(request).IgnoreError();
      }
      break;
    }
    default: {
      relay::v1::OpenSessionRequest request;
      if (request.ParseFromArray(body, len)) {
        relay::mgmt::ValidateOpenSession(request).IgnoreError();
      }
    }
  }
  return 0;
}
