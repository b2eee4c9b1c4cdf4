#ifndef RELAY_CLOUD_SERVER_MIRROR_SERVICE_H_
#define RELAY_CLOUD_SERVER_MIRROR_SERVICE_H_

#include "cloud_server/content_library.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_manager.h"
#include "common/serial_executor.h"
#include "relay/v1/cloud.grpc.pb.h"

namespace relay::cloud {

// CloudMirror, called by the management server: device lists, forwarded job
// progress and scan-upload authorization. Each call runs on `executor` (store
// I/O) and finishes from there; callback threads never block.
class MirrorService : public relay::v1::CloudMirror::CallbackService {
 public:
  // `tls`: only the management server's certificate (relay-service://mgmt)
  // may call.
  MirrorService(DeviceMirror* mirror, JobManager* jobs, ContentLibrary* library,
                SerialExecutor* executor, bool tls = false)
      : mirror_(mirror), jobs_(jobs), library_(library), executor_(executor), tls_(tls) {}

  grpc::ServerUnaryReactor* UpdateDevices(
      grpc::CallbackServerContext* context, const relay::v1::DeviceList* request,
      relay::v1::UpdateDevicesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateJobProgress(
      grpc::CallbackServerContext* context, const relay::v1::JobProgress* request,
      relay::v1::UpdateJobProgressResponse* response) override;
  grpc::ServerUnaryReactor* AuthorizeUpload(
      grpc::CallbackServerContext* context,
      const relay::v1::AuthorizeUploadRequest* request,
      relay::v1::AuthorizeUploadResponse* response) override;

 private:
  DeviceMirror* mirror_;
  JobManager* jobs_;
  ContentLibrary* library_;
  SerialExecutor* executor_;
  bool tls_;
};

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_MIRROR_SERVICE_H_
