// The real cloud server in-process on 127.0.0.1:0, driven over real channels:
// relayctl's calls, a gateway's tunnels and the management server's calls.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cloud_server/api_service.h"
#include "cloud_server/cloud_server.h"
#include "cloud_server/testing/fake_access_router.h"
#include "cloud_server/testing/temp_dir.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "relay/v1/cloud.grpc.pb.h"

namespace relay::cloud {
namespace {

using ::relay::cloud::testing::CountFiles;
using ::relay::cloud::testing::FakeAccessRouter;
using ::relay::cloud::testing::TempDir;
using ::relay::testing::IsOk;
using ::testing::HasSubstr;
using relay::v1::TunnelDown;
using relay::v1::TunnelUp;

constexpr int64_t kMaxDocument = 4 * 1024 * 1024;

std::string Bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return s;
}

// What a gateway saw in a print tunnel.
struct PrintRun {
  bool accepted = false;
  bool already_done = false;
  std::string data;
  bool data_end = false;
  std::string end_sha;
  bool closed = false;
  grpc::Status status;
};

class CloudServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    auto router = std::make_unique<FakeAccessRouter>();
    router_ = router.get();
    CloudServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.limits.max_document_bytes = kMaxDocument;
    options.limits.max_scan_bytes = kMaxDocument;
    auto server = CloudServer::Start(options, std::move(router));
    ASSERT_THAT(server, IsOk());
    server_ = std::move(server).value();
    // The API authenticates bearer tokens: one user per name the tests use
    // (kept across a restart: the users table is in the data dir).
    for (const char* user : {"alice", "bob"}) {
      if (tokens_.count(user) != 0) continue;
      UserRecord record;
      record.name = user;
      record.gateways = {"*"};
      tokens_[user] = NewUserToken();
      record.token_sha256 = HashUserToken(tokens_[user]);
      ASSERT_THAT(server_->user_store().Add(record), IsOk());
    }
    ASSERT_THAT(server_->users().Reload(), IsOk());
    channel_ = CreateRelayChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                  ChannelOptions());
    api_ = relay::v1::CloudApi::NewStub(channel_);
    tunnel_ = relay::v1::CloudTunnel::NewStub(channel_);
    mirror_ = relay::v1::CloudMirror::NewStub(channel_);

    relay::v1::DeviceList list;
    list.set_gateway_id("gw-1");
    list.set_version(1);
    list.set_nmax(5);
    relay::v1::DeviceInfo* d1 = list.add_devices();
    d1->set_device_id("mfp-1");
    d1->set_registered(true);
    d1->mutable_capabilities()->set_print(true);
    d1->mutable_capabilities()->set_scan(true);
    relay::v1::DeviceInfo* d2 = list.add_devices();
    d2->set_device_id("mfp-2");
    d2->set_registered(false);
    grpc::ClientContext ctx;
    relay::v1::UpdateDevicesResponse response;
    ASSERT_TRUE(mirror_->UpdateDevices(&ctx, list, &response).ok());
  }

  void StopServer() {
    api_.reset();
    tunnel_.reset();
    mirror_.reset();
    channel_.reset();
    server_.reset();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& user) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!user.empty()) ctx->AddMetadata(kAuthorizationMetadataKey, "Bearer " + tokens_[user]);
    return ctx;
  }

  relay::v1::Document Upload(const std::string& user, const std::string& content,
                             grpc::Status* status_out = nullptr) {
    auto ctx = As(user);
    relay::v1::Document document;
    auto writer = api_->UploadDocument(ctx.get(), &document);
    relay::v1::UploadDocumentRequest meta;
    meta.mutable_metadata()->set_name("report.pdf");
    meta.mutable_metadata()->set_content_type("application/pdf");
    writer->Write(meta);
    for (size_t at = 0; at < content.size(); at += 100 * 1024) {
      relay::v1::UploadDocumentRequest part;
      part.set_data(content.substr(at, 100 * 1024));
      if (!writer->Write(part)) break;
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return document;
  }

  relay::v1::Job Submit(const std::string& user, const std::string& document_id,
                        const std::string& device_id, grpc::Status* status_out = nullptr,
                        const std::string& client_request_id = "") {
    auto ctx = As(user);
    relay::v1::SubmitPrintRequest request;
    request.set_document_id(document_id);
    request.set_device_id(device_id);
    request.set_client_request_id(client_request_id);
    relay::v1::Job job;
    grpc::Status status = api_->SubmitPrint(ctx.get(), request, &job);
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return job;
  }

  grpc::Status GetJob(const std::string& user, const std::string& job_id,
                      relay::v1::Job* job) {
    auto ctx = As(user);
    relay::v1::GetJobRequest request;
    request.set_job_id(job_id);
    return api_->GetJob(ctx.get(), request, job);
  }

  // The token the dispatcher sent for the n-th (1-based) access request.
  std::string TokenOfRequest(int n) {
    EXPECT_TRUE(router_->WaitForRequests(n));
    return router_->requests()[n - 1].tunnel_token();
  }

  // Plays the gateway of a print: open, read everything, then report
  // `result` (unless `drop_before_result`).
  PrintRun RunPrint(const std::string& token, const std::string& job_id,
                    relay::v1::JobState result_state, bool drop_before_result = false) {
    PrintRun run;
    grpc::ClientContext ctx;
    auto stream = tunnel_->Tunnel(&ctx);
    TunnelUp open;
    open.mutable_open()->set_tunnel_token(token);
    open.mutable_open()->set_gateway_id("gw-1");
    open.mutable_open()->set_device_id("mfp-1");
    open.mutable_open()->set_direction(relay::v1::DIRECTION_PRINT);
    open.mutable_open()->set_job_id(job_id);
    stream->Write(open);
    TunnelDown down;
    Sha256 hash;
    while (stream->Read(&down)) {
      if (down.has_accepted()) {
        run.accepted = true;
        run.already_done = down.accepted().already_done();
        if (run.already_done) continue;
        TunnelUp progress;
        progress.mutable_progress()->set_job_id(job_id);
        progress.mutable_progress()->set_state(relay::v1::JOB_STATE_PRINTING);
        stream->Write(progress);
      } else if (down.has_data()) {
        EXPECT_EQ(down.data().offset(), static_cast<int64_t>(run.data.size()));
        EXPECT_LE(down.data().data().size(), 256u * 1024);
        run.data += down.data().data();
      } else if (down.has_end()) {
        run.data_end = true;
        run.end_sha = down.end().sha256_hex();
        if (drop_before_result) break;
        TunnelUp result;
        result.mutable_result()->set_state(result_state);
        result.mutable_result()->set_bytes_delivered(static_cast<int64_t>(run.data.size()));
        result.mutable_result()->set_sha256_hex(Sha256::HexOf(run.data));
        if (result_state == relay::v1::JOB_STATE_FAILED) {
          result.mutable_result()->set_reason("paper jam");
        }
        stream->Write(result);
      } else if (down.has_closed()) {
        run.closed = true;
      }
    }
    stream->WritesDone();
    run.status = stream->Finish();
    return run;
  }

  struct ScanRun {
    bool accepted = false;
    std::string stored_id;
    grpc::Status status;
  };

  std::string AuthorizeScan(const std::string& scan_id, const std::string& user,
                            int64_t size, grpc::Status* status_out = nullptr) {
    grpc::ClientContext ctx;
    relay::v1::AuthorizeUploadRequest request;
    request.set_scan_id(scan_id);
    request.set_gateway_id("gw-1");
    request.set_device_id("mfp-1");
    request.set_user_id(user);
    request.set_size(size);
    request.set_content_type("application/pdf");
    relay::v1::AuthorizeUploadResponse response;
    grpc::Status status = mirror_->AuthorizeUpload(&ctx, request, &response);
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return response.tunnel_token();
  }

  // Plays the gateway of a scan upload. `bad_offset_at` >= 0 sends that
  // chunk with a wrong offset.
  ScanRun RunScan(const std::string& token, const std::string& scan_id,
                  const std::string& user, const std::string& content,
                  int bad_offset_at = -1) {
    ScanRun run;
    grpc::ClientContext ctx;
    auto stream = tunnel_->Tunnel(&ctx);
    TunnelUp open;
    open.mutable_open()->set_tunnel_token(token);
    open.mutable_open()->set_gateway_id("gw-1");
    open.mutable_open()->set_device_id("mfp-1");
    open.mutable_open()->set_direction(relay::v1::DIRECTION_SCAN);
    open.mutable_open()->set_job_id(scan_id);
    open.mutable_open()->set_user_id(user);
    open.mutable_open()->set_size(static_cast<int64_t>(content.size()));
    open.mutable_open()->set_content_type("application/pdf");
    open.mutable_open()->set_sha256_hex(Sha256::HexOf(content));
    stream->Write(open);
    int index = 0;
    for (size_t at = 0; at < content.size(); at += 64 * 1024, ++index) {
      TunnelUp chunk;
      chunk.mutable_data()->set_offset(index == bad_offset_at ? static_cast<int64_t>(at) + 7
                                                              : static_cast<int64_t>(at));
      chunk.mutable_data()->set_data(content.substr(at, 64 * 1024));
      if (!stream->Write(chunk)) break;
    }
    TunnelUp end;
    end.mutable_end()->set_total_size(static_cast<int64_t>(content.size()));
    end.mutable_end()->set_sha256_hex(Sha256::HexOf(content));
    stream->Write(end);
    stream->WritesDone();
    TunnelDown down;
    while (stream->Read(&down)) {
      if (down.has_accepted()) run.accepted = true;
      if (down.has_closed()) run.stored_id = down.closed().stored_id();
    }
    run.status = stream->Finish();
    return run;
  }

  std::vector<relay::v1::Scan> ListScans(const std::string& user) {
    auto ctx = As(user);
    relay::v1::ListScansResponse response;
    EXPECT_TRUE(api_->ListScans(ctx.get(), {}, &response).ok());
    return {response.scans().begin(), response.scans().end()};
  }

  TempDir dir_;
  FakeAccessRouter* router_ = nullptr;
  std::unique_ptr<CloudServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::CloudApi::Stub> api_;
  std::unique_ptr<relay::v1::CloudTunnel::Stub> tunnel_;
  std::unique_ptr<relay::v1::CloudMirror::Stub> mirror_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(CloudServiceTest, CallsWithoutAUserAreUnauthenticated) {
  auto ctx = As("");
  relay::v1::ListJobsResponse response;
  grpc::Status status = api_->ListJobs(ctx.get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("authorization: Bearer"));
}

TEST_F(CloudServiceTest, TheOldUserHeaderAndUnknownTokensAreUnauthenticated) {
  for (auto set : std::vector<std::pair<const char*, std::string>>{
           {kUserMetadataKey, "alice"},
           {kAuthorizationMetadataKey, "Bearer rly_0123"},
           {kAuthorizationMetadataKey, "Basic YWxpY2U6eA=="},
           {kAuthorizationMetadataKey, std::string(4000, 'x')}}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(set.first, set.second);
    relay::v1::ListJobsResponse response;
    grpc::Status status = api_->ListJobs(&ctx, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << set.second;
  }
}

TEST_F(CloudServiceTest, AUserSeesOnlyThePrintersOfTheirGateways) {
  UserRecord carol;
  carol.name = "carol";
  carol.gateways = {"gw-other"};
  tokens_["carol"] = NewUserToken();
  carol.token_sha256 = HashUserToken(tokens_["carol"]);
  ASSERT_THAT(server_->user_store().Add(carol), IsOk());
  ASSERT_THAT(server_->users().Reload(), IsOk());
  auto ctx = As("carol");
  relay::v1::ListPrintersResponse printers;
  ASSERT_TRUE(api_->ListPrinters(ctx.get(), {}, &printers).ok());
  EXPECT_EQ(printers.printers_size(), 0);
  relay::v1::Document document = Upload("carol", Bytes(100, 9));
  grpc::Status status;
  Submit("carol", document.document_id(), "mfp-1", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CloudServiceTest, ListsEveryPrinterWithItsRegistration) {
  auto ctx = As("alice");
  relay::v1::ListPrintersResponse response;
  ASSERT_TRUE(api_->ListPrinters(ctx.get(), {}, &response).ok());
  ASSERT_EQ(response.printers_size(), 2);
  EXPECT_EQ(response.printers(0).device().device_id(), "mfp-1");
  EXPECT_TRUE(response.printers(0).device().registered());
  EXPECT_FALSE(response.printers(1).device().registered());
  EXPECT_EQ(response.printers(1).gateway_id(), "gw-1");
  EXPECT_TRUE(response.printers(1).gateway_online());
}

TEST_F(CloudServiceTest, PrintsADocumentThroughATunnel) {
  std::string content = Bytes(600 * 1024 + 17, 1);  // Three chunks.
  relay::v1::Document document = Upload("alice", content);
  EXPECT_EQ(document.size(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(document.sha256_hex(), Sha256::HexOf(content));
  {
    auto ctx = As("alice");
    relay::v1::ListDocumentsResponse docs;
    ASSERT_TRUE(api_->ListDocuments(ctx.get(), {}, &docs).ok());
    ASSERT_EQ(docs.documents_size(), 1);
    EXPECT_EQ(docs.documents(0).document_id(), document.document_id());
  }

  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  EXPECT_EQ(job.state(), relay::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.gateway_id(), "gw-1");
  PrintRun run = RunPrint(TokenOfRequest(1), job.job_id(), relay::v1::JOB_STATE_DONE);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_TRUE(run.accepted);
  EXPECT_FALSE(run.already_done);
  EXPECT_EQ(run.data, content);
  EXPECT_EQ(run.end_sha, Sha256::HexOf(content));
  EXPECT_TRUE(run.closed);

  relay::v1::Job done;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &done).ok());
  EXPECT_EQ(done.state(), relay::v1::JOB_STATE_DONE);
  std::vector<relay::v1::JobState> states;
  for (const auto& e : done.history()) states.push_back(e.state());
  EXPECT_THAT(states, ::testing::Contains(relay::v1::JOB_STATE_PRINTING));
  EXPECT_EQ(states.back(), relay::v1::JOB_STATE_DONE);

  // The same token again is a replay: refused, the job untouched.
  PrintRun replay = RunPrint(TokenOfRequest(1), job.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(replay.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(replay.status.error_message(), HasSubstr("already used"));
  EXPECT_TRUE(replay.data.empty());
  relay::v1::Job after_replay;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &after_replay).ok());
  EXPECT_EQ(after_replay.history_size(), done.history_size());

  // A gateway retrying a finished job (with the fresh token of a new
  // dispatch) is told not to print it again.
  TunnelClaims claims;
  claims.direction = relay::v1::DIRECTION_PRINT;
  claims.access_id = job.job_id();
  claims.gateway_id = "gw-1";
  claims.device_id = "mfp-1";
  PrintRun again = RunPrint(server_->signer().Issue(claims), job.job_id(),
                            relay::v1::JOB_STATE_DONE);
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_TRUE(again.already_done);
  EXPECT_TRUE(again.data.empty());
  EXPECT_TRUE(again.closed);
}

TEST_F(CloudServiceTest, AFailedPrintKeepsTheGatewaysReason) {
  relay::v1::Document document = Upload("alice", Bytes(1000, 2));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  PrintRun run = RunPrint(TokenOfRequest(1), job.job_id(), relay::v1::JOB_STATE_FAILED);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  relay::v1::Job failed;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &failed).ok());
  EXPECT_EQ(failed.state(), relay::v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.reason(), "paper jam");
}

TEST_F(CloudServiceTest, ALostTunnelRequeuesTheJobAndItsTokenIsNotReplayable) {
  relay::v1::Document document = Upload("alice", Bytes(1000, 3));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  std::string token = TokenOfRequest(1);
  PrintRun lost = RunPrint(token, job.job_id(), relay::v1::JOB_STATE_DONE,
                           /*drop_before_result=*/true);
  EXPECT_EQ(lost.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(lost.status.error_message(), HasSubstr("before TunnelResult"));

  // The job goes back to the queue and is routed again with a new token.
  std::string second = TokenOfRequest(2);
  EXPECT_NE(second, token);
  PrintRun replay = RunPrint(token, job.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(replay.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(replay.status.error_message(), HasSubstr("already used"));

  PrintRun ok = RunPrint(second, job.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  relay::v1::Job done;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &done).ok());
  EXPECT_EQ(done.state(), relay::v1::JOB_STATE_DONE);
}

TEST_F(CloudServiceTest, ForgedAndMisboundTokensAreRefused) {
  relay::v1::Document document = Upload("alice", Bytes(1000, 4));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  std::string token = TokenOfRequest(1);
  std::string forged = token;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  PrintRun run = RunPrint(forged, job.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(run.accepted);

  relay::v1::Job other = Submit("alice", document.document_id(), "mfp-1");
  PrintRun misbound = RunPrint(token, other.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(misbound.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  relay::v1::Job unchanged;
  ASSERT_TRUE(GetJob("alice", other.job_id(), &unchanged).ok());
  EXPECT_NE(unchanged.state(), relay::v1::JOB_STATE_PRINTING);
}

TEST_F(CloudServiceTest, AnotherUsersJobIsNotFound) {
  relay::v1::Document document = Upload("alice", Bytes(100, 5));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  relay::v1::Job seen;
  grpc::Status status = GetJob("bob", job.job_id(), &seen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  auto ctx = As("bob");
  relay::v1::ListJobsResponse jobs;
  ASSERT_TRUE(api_->ListJobs(ctx.get(), {}, &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
  // Nor may bob print alice's document.
  grpc::Status submit;
  Submit("bob", document.document_id(), "mfp-1", &submit);
  EXPECT_EQ(submit.error_code(), grpc::StatusCode::NOT_FOUND);
  // Nor watch her job.
  auto watch_ctx = As("bob");
  relay::v1::GetJobRequest request;
  request.set_job_id(job.job_id());
  auto reader = api_->WatchJob(watch_ctx.get(), request);
  relay::v1::Job update;
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CloudServiceTest, SubmittingToAnUnknownDeviceIsNotFound) {
  relay::v1::Document document = Upload("alice", Bytes(100, 6));
  grpc::Status status;
  Submit("alice", document.document_id(), "mfp-404", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("device mfp-404 is not known to any gateway"));
}

TEST_F(CloudServiceTest, ClientRequestIdMakesSubmitIdempotent) {
  relay::v1::Document document = Upload("alice", Bytes(100, 7));
  relay::v1::Job first = Submit("alice", document.document_id(), "mfp-1", nullptr, "req-1");
  relay::v1::Job second = Submit("alice", document.document_id(), "mfp-1", nullptr, "req-1");
  EXPECT_EQ(first.job_id(), second.job_id());
  grpc::Status conflict;
  Submit("alice", document.document_id(), "mfp-2", &conflict, "req-1");
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  auto ctx = As("alice");
  relay::v1::ListJobsResponse jobs;
  ASSERT_TRUE(api_->ListJobs(ctx.get(), {}, &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 1);
}

TEST_F(CloudServiceTest, OversizedUploadIsRefusedAndLeavesNothing) {
  grpc::Status status;
  Upload("alice", Bytes(kMaxDocument + 1, 8), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto ctx = As("alice");
  relay::v1::ListDocumentsResponse docs;
  ASSERT_TRUE(api_->ListDocuments(ctx.get(), {}, &docs).ok());
  EXPECT_EQ(docs.documents_size(), 0);
  std::string blobs = server_->blob_dir();
  StopServer();  // Every reactor (and its temporary file) is gone after this.
  EXPECT_EQ(CountFiles(blobs), 0);
  EXPECT_EQ(CountFiles(blobs + "/tmp"), 0);
}

TEST_F(CloudServiceTest, WatchJobFollowsTheJobToItsEnd) {
  relay::v1::Document document = Upload("alice", Bytes(300 * 1024, 9));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  auto ctx = As("alice");
  relay::v1::GetJobRequest request;
  request.set_job_id(job.job_id());
  auto reader = api_->WatchJob(ctx.get(), request);
  relay::v1::Job first;
  ASSERT_TRUE(reader->Read(&first));  // The job as it is now.
  EXPECT_EQ(first.job_id(), job.job_id());

  std::vector<relay::v1::JobState> states;
  std::thread watcher([&] {
    relay::v1::Job update;
    while (reader->Read(&update)) states.push_back(update.state());
  });
  PrintRun run = RunPrint(TokenOfRequest(1), job.job_id(), relay::v1::JOB_STATE_DONE);
  watcher.join();  // The stream ends by itself once the job is DONE.
  EXPECT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_TRUE(reader->Finish().ok());
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), relay::v1::JOB_STATE_DONE);
}

TEST_F(CloudServiceTest, ScanIsStoredOnceAndDownloadableByItsOwnerOnly) {
  std::string content = Bytes(200 * 1024 + 3, 10);
  ScanRun run = RunScan(AuthorizeScan("scan-1", "bob", content.size()), "scan-1", "bob",
                        content);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_TRUE(run.accepted);
  EXPECT_EQ(run.stored_id, "scan-1");

  std::vector<relay::v1::Scan> scans = ListScans("bob");
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_EQ(scans[0].size(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(scans[0].sha256_hex(), Sha256::HexOf(content));
  EXPECT_TRUE(ListScans("alice").empty());

  {
    auto ctx = As("bob");
    relay::v1::DownloadScanRequest request;
    request.set_scan_id("scan-1");
    auto reader = api_->DownloadScan(ctx.get(), request);
    std::string got;
    relay::v1::DataChunk chunk;
    while (reader->Read(&chunk)) {
      EXPECT_EQ(chunk.offset(), static_cast<int64_t>(got.size()));
      got += chunk.data();
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(got, content);
  }
  {
    auto ctx = As("alice");
    relay::v1::DownloadScanRequest request;
    request.set_scan_id("scan-1");
    auto reader = api_->DownloadScan(ctx.get(), request);
    relay::v1::DataChunk chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }

  // The gateway uploads the same scan again (it crashed before the ack).
  ScanRun again = RunScan(AuthorizeScan("scan-1", "bob", content.size()), "scan-1", "bob",
                          content);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.stored_id, "scan-1");
  EXPECT_EQ(ListScans("bob").size(), 1u);
  EXPECT_EQ(CountFiles(server_->blob_dir()), 1);
}

TEST_F(CloudServiceTest, OutOfOrderScanChunkIsRefusedAndChangesNothing) {
  std::string content = Bytes(300 * 1024, 11);
  ScanRun run = RunScan(AuthorizeScan("scan-2", "bob", content.size()), "scan-2", "bob",
                        content, /*bad_offset_at=*/2);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(run.status.error_message(), HasSubstr("offset"));
  EXPECT_TRUE(run.stored_id.empty());
  EXPECT_TRUE(ListScans("bob").empty());
  std::string blobs = server_->blob_dir();
  StopServer();
  EXPECT_EQ(CountFiles(blobs), 0);
  EXPECT_EQ(CountFiles(blobs + "/tmp"), 0);
}

TEST_F(CloudServiceTest, ScanAuthorizationChecksTheMirror) {
  grpc::Status status;
  {
    grpc::ClientContext ctx;
    relay::v1::AuthorizeUploadRequest request;
    request.set_scan_id("scan-3");
    request.set_gateway_id("gw-1");
    request.set_device_id("mfp-404");
    request.set_user_id("bob");
    request.set_size(10);
    relay::v1::AuthorizeUploadResponse response;
    status = mirror_->AuthorizeUpload(&ctx, request, &response);
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  AuthorizeScan("scan-3", "bob", kMaxDocument + 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(CloudServiceTest, ForwardedProgressUpdatesTheJobButNotAFinishedOne) {
  relay::v1::Document document = Upload("alice", Bytes(100, 12));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  auto send = [&](relay::v1::JobState state, const std::string& reason) {
    grpc::ClientContext ctx;
    relay::v1::JobProgress progress;
    progress.set_job_id(job.job_id());
    progress.set_gateway_id("gw-1");
    progress.set_device_id("mfp-1");
    progress.set_state(state);
    progress.set_reason(reason);
    relay::v1::UpdateJobProgressResponse response;
    return mirror_->UpdateJobProgress(&ctx, progress, &response);
  };
  ASSERT_TRUE(send(relay::v1::JOB_STATE_HELD, "out of paper").ok());
  relay::v1::Job held;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &held).ok());
  EXPECT_EQ(held.state(), relay::v1::JOB_STATE_HELD);
  EXPECT_EQ(held.reason(), "out of paper");
  ASSERT_TRUE(send(relay::v1::JOB_STATE_FAILED, "hold expired").ok());
  ASSERT_TRUE(send(relay::v1::JOB_STATE_PRINTING, "").ok());  // Ignored.
  relay::v1::Job failed;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &failed).ok());
  EXPECT_EQ(failed.state(), relay::v1::JOB_STATE_FAILED);

  grpc::ClientContext ctx;
  relay::v1::JobProgress unknown;
  unknown.set_job_id("job-404");
  unknown.set_state(relay::v1::JOB_STATE_PRINTING);
  relay::v1::UpdateJobProgressResponse response;
  EXPECT_EQ(mirror_->UpdateJobProgress(&ctx, unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(CloudServiceTest, JobsSurviveARestart) {
  relay::v1::Document document = Upload("alice", Bytes(100, 13));
  relay::v1::Job job = Submit("alice", document.document_id(), "mfp-1");
  ASSERT_TRUE(router_->WaitForRequests(1));
  StopServer();
  StartServer();
  // The new dispatcher resumes the job by itself.
  PrintRun run = RunPrint(TokenOfRequest(1), job.job_id(), relay::v1::JOB_STATE_DONE);
  EXPECT_TRUE(run.status.ok()) << run.status.error_message();
  relay::v1::Job done;
  ASSERT_TRUE(GetJob("alice", job.job_id(), &done).ok());
  EXPECT_EQ(done.state(), relay::v1::JOB_STATE_DONE);
}

}  // namespace
}  // namespace relay::cloud
