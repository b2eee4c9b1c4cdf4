#ifndef RELAY_CLOUD_SERVER_API_SERVICE_H_
#define RELAY_CLOUD_SERVER_API_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "cloud_server/box_broker.h"
#include "cloud_server/content_library.h"
#include "cloud_server/device_mirror.h"
#include "cloud_server/job_manager.h"
#include "cloud_server/job_notifier.h"
#include "common/serial_executor.h"
#include "relay/v1/cloud.grpc.pb.h"

namespace relay::cloud {

// The metadata key of a CloudApi call's credentials: "Bearer <token>" (a user
// token made by `cloud_server users add`; user_directory.h).
inline constexpr char kAuthorizationMetadataKey[] = "authorization";
// The old, trusted-header way of naming a user: refused with a message that
// says what to send instead.
inline constexpr char kUserMetadataKey[] = "x-relay-user";

struct ApiDeps {
  JobManager* jobs;
  DeviceMirror* mirror;
  ContentLibrary* library;
  JobNotifier* notifier;
  // Store reads and writes.
  SerialExecutor* store_executor;
  // Chunk writes of uploads.
  SerialExecutor* io_executor;
  // fsync + rename + row insert of finished uploads.
  SerialExecutor* commit_executor;
  // AccessBox (related design 4); null: UNIMPLEMENTED.
  BoxBroker* boxes = nullptr;
};

// CloudApi for relayctl and the web page, all on the callback API: unary
// calls run on the store executor and finish from there; uploads, downloads
// and WatchJob are reactors with one write in flight. Every call is
// authenticated by its bearer token (UserOf: UNAUTHENTICATED without a valid
// one); a user sees only their own documents, jobs and scans (another user's
// id is NOT_FOUND) and the printers of the gateways they may use.
class ApiService : public relay::v1::CloudApi::CallbackService {
 public:
  static constexpr int64_t kDownloadChunkBytes = 256 * 1024;

  explicit ApiService(ApiDeps deps) : deps_(deps) {}

  grpc::ServerReadReactor<relay::v1::UploadDocumentRequest>* UploadDocument(
      grpc::CallbackServerContext* context, relay::v1::Document* response) override;
  grpc::ServerUnaryReactor* ListDocuments(
      grpc::CallbackServerContext* context, const relay::v1::ListDocumentsRequest* request,
      relay::v1::ListDocumentsResponse* response) override;
  grpc::ServerUnaryReactor* ListPrinters(
      grpc::CallbackServerContext* context, const relay::v1::ListPrintersRequest* request,
      relay::v1::ListPrintersResponse* response) override;
  grpc::ServerUnaryReactor* SubmitPrint(grpc::CallbackServerContext* context,
                                        const relay::v1::SubmitPrintRequest* request,
                                        relay::v1::Job* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const relay::v1::GetJobRequest* request,
                                   relay::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const relay::v1::ListJobsRequest* request,
                                     relay::v1::ListJobsResponse* response) override;
  grpc::ServerWriteReactor<relay::v1::Job>* WatchJob(
      grpc::CallbackServerContext* context, const relay::v1::GetJobRequest* request) override;
  grpc::ServerUnaryReactor* ListScans(grpc::CallbackServerContext* context,
                                      const relay::v1::ListScansRequest* request,
                                      relay::v1::ListScansResponse* response) override;
  grpc::ServerWriteReactor<relay::v1::DataChunk>* DownloadScan(
      grpc::CallbackServerContext* context,
      const relay::v1::DownloadScanRequest* request) override;
  // Waits (bounded) for the gateway's answer: the device's, or a refusal
  // naming the failed access condition (permitted=false, still OK).
  grpc::ServerUnaryReactor* AccessBox(grpc::CallbackServerContext* context,
                                      const relay::v1::BoxAccessRequest* request,
                                      relay::v1::BoxResult* response) override;

 private:
  ApiDeps deps_;
};

// The user the call's bearer token ("authorization: Bearer <token>") belongs
// to, checked against ApiUserDirectory() (user_directory.h).
// UNAUTHENTICATED, with the reason, for a missing, malformed, unknown or
// revoked token. Every CloudApi handler calls it first.
absl::StatusOr<std::string> UserOf(const grpc::ServerContextBase& context);

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_API_SERVICE_H_
