// Negative tests of the security mechanisms (SECURITY.md), against the real
// processes with TLS on: what a hostile tenant, a stolen-laptop gateway or a
// client of another CA can try, and what each attempt is told. Labelled
// "security" in CTest.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "common/testing/status_matchers.h"
#include "common/tls_config.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "integration_tests/relay_stack.h"
#include "integration_tests/stack_test.h"
#include "relay/v1/cloud.grpc.pb.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::integration {
namespace {

using ::relay::testing::IsOk;
using ::testing::HasSubstr;
using relay::v1::TunnelDown;
using relay::v1::TunnelUp;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A channel that trusts `ca_dir`/ca.pem and presents `cert_dir`/<identity>
// (no client certificate if identity is empty).
std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& ca_dir,
                                       const std::string& cert_dir,
                                       const std::string& identity) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(ca_dir + "/ca.pem");
  if (!identity.empty()) {
    options.pem_cert_chain = ReadFile(absl::StrCat(cert_dir, "/", identity, ".pem"));
    options.pem_private_key = ReadFile(absl::StrCat(cert_dir, "/", identity, ".key"));
  }
  grpc::ChannelArguments args;
  args.SetInt("relay.test_unique", rand());  // no subchannel sharing between cases
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

void Deadline(grpc::ClientContext* context, absl::Duration d = absl::Seconds(10)) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
}

class SecurityTest : public StackTest {
 protected:
  std::shared_ptr<grpc::Channel> MgmtAs(const std::string& identity) {
    return Channel(stack_->mgmt_address(), stack_->tls_dir(), stack_->tls_dir(), identity);
  }
  std::shared_ptr<grpc::Channel> CloudAs(const std::string& identity) {
    return Channel(stack_->cloud_address(), stack_->tls_dir(), stack_->tls_dir(), identity);
  }

  // Opens a session as `claimed` over `channel`; returns the status of the
  // first read (OK if the welcome arrived).
  grpc::Status TryOpenSession(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& claimed) {
    auto stub = relay::v1::GatewaySession::NewStub(channel);
    grpc::ClientContext context;
    Deadline(&context);
    relay::v1::OpenSessionRequest request;
    request.set_gateway_id(claimed);
    auto reader = stub->OpenSession(&context, request);
    relay::v1::SessionEvent event;
    if (reader->Read(&event)) {
      context.TryCancel();
      reader->Finish();
      return grpc::Status::OK;
    }
    return reader->Finish();
  }

  absl::StatusOr<relay::v1::Job> Job(const std::string& job_id) {
    return stack_->GetJob(job_id, "alice");
  }
};

// Runs one print tunnel as the holder of `channel`'s certificate; returns the
// final status and whether data arrived.
struct TunnelRun {
  grpc::Status status;
  bool accepted = false;
  int64_t bytes = 0;
};
TunnelRun RunTunnel(const std::shared_ptr<grpc::Channel>& channel,
                    const relay::v1::TunnelOpen& open, bool finish_done) {
  TunnelRun run;
  auto stub = relay::v1::CloudTunnel::NewStub(channel);
  grpc::ClientContext context;
  Deadline(&context, absl::Seconds(20));
  auto stream = stub->Tunnel(&context);
  TunnelUp up;
  *up.mutable_open() = open;
  stream->Write(up);
  TunnelDown down;
  std::string sha;
  bool ended = false;
  while (true) {
    if (!stream->Read(&down)) {
      ended = true;
      break;
    }
    if (down.has_accepted()) run.accepted = true;
    if (down.has_data()) run.bytes += down.data().data().size();
    if (down.has_end()) {
      sha = down.end().sha256_hex();
      if (!finish_done) break;
      TunnelUp result;
      result.mutable_result()->set_state(relay::v1::JOB_STATE_DONE);
      result.mutable_result()->set_bytes_delivered(run.bytes);
      result.mutable_result()->set_sha256_hex(sha);
      stream->Write(result);
      stream->WritesDone();
    }
    if (down.has_closed()) break;
  }
  if (!ended && !finish_done) context.TryCancel();
  run.status = stream->Finish();
  return run;
}

TEST_F(SecurityTest, AGatewayWithoutACertificateCannotConnect) {
  StartStack();
  // TLS without a client certificate: the management server wants one.
  grpc::Status status = TryOpenSession(MgmtAs(""), "gw-test-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // Plaintext: no TLS handshake, no connection.
  status = TryOpenSession(
      grpc::CreateChannel(stack_->mgmt_address(), grpc::InsecureChannelCredentials()),
      "gw-test-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // The cloud accepts the connection (relayctl has no certificate) but not a
  // tunnel from it.
  relay::v1::TunnelOpen open;
  open.set_tunnel_token("x");
  open.set_gateway_id("gw-test-1");
  open.set_device_id("mfp-201");
  open.set_job_id("job-1");
  open.set_direction(relay::v1::DIRECTION_PRINT);
  TunnelRun run = RunTunnel(CloudAs(""), open, false);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(run.status.error_message(), HasSubstr("gateway certificate"));
}

TEST_F(SecurityTest, ACertificateFromAnotherCaIsRefused) {
  StartStack();
  const std::string other = stack_->dir() + "/other-ca";
  ASSERT_EQ(stack_->RunTool("/bin/bash",
                            {std::string(RELAY_SOURCE_DIR) + "/tools/make_dev_certs.sh", other,
                             "gw-test-1"}),
            0);
  // Trusts the real CA, presents a certificate for the same gateway id from
  // another CA.
  auto mgmt = Channel(stack_->mgmt_address(), stack_->tls_dir(), other, "gateway-gw-test-1");
  grpc::Status status = TryOpenSession(mgmt, "gw-test-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  relay::v1::TunnelOpen open;
  open.set_tunnel_token("x");
  open.set_gateway_id("gw-test-1");
  open.set_device_id("mfp-201");
  open.set_job_id("job-1");
  open.set_direction(relay::v1::DIRECTION_PRINT);
  TunnelRun run = RunTunnel(
      Channel(stack_->cloud_address(), stack_->tls_dir(), other, "gateway-gw-test-1"), open,
      false);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(run.accepted);
}

TEST_F(SecurityTest, AnUnknownGatewayIsRecordedPendingAndRefused) {
  StartStack();
  ASSERT_THAT(stack_->MakeCertificates({"gw-new"}), IsOk());
  grpc::Status status = TryOpenSession(MgmtAs("gateway-gw-new"), "gw-new");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("mgmt_server gateways approve gw-new"));
  std::string list;
  EXPECT_TRUE(WaitUntil(
      [&] {
        stack_->RunTool("mgmt_server",
                        {"gateways", "list", "--db=" + stack_->dir() + "/mgmt.db"}, &list);
        return absl::StrContains(list, "gw-new") && absl::StrContains(list, "pending");
      },
      absl::Seconds(10)))
      << list;
  // Its device list is refused too.
  auto stub = relay::v1::GatewaySession::NewStub(MgmtAs("gateway-gw-new"));
  grpc::ClientContext context;
  Deadline(&context);
  relay::v1::ReportDevicesRequest report;
  report.mutable_device_list()->set_gateway_id("gw-new");
  report.mutable_device_list()->set_version(1);
  relay::v1::ReportDevicesResponse response;
  EXPECT_EQ(stub->ReportDevices(&context, report, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Once approved, it may open a session.
  ASSERT_THAT(stack_->ApproveGateway("gw-new"), IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] { return TryOpenSession(MgmtAs("gateway-gw-new"), "gw-new").ok(); },
      absl::Seconds(10)));
}

TEST_F(SecurityTest, AGatewayCannotSpeakForAnother) {
  StartStack();
  grpc::Status status = TryOpenSession(MgmtAs("gateway-gw-test-1"), "gw-other");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("certificate says gw-test-1, request says gw-other"));
  auto stub = relay::v1::GatewaySession::NewStub(MgmtAs("gateway-gw-test-1"));
  {
    grpc::ClientContext context;
    Deadline(&context);
    relay::v1::ReportDevicesRequest report;
    report.mutable_device_list()->set_gateway_id("gw-other");
    report.mutable_device_list()->set_version(99);
    report.mutable_device_list()->add_devices()->set_device_id("mfp-666");
    relay::v1::ReportDevicesResponse response;
    EXPECT_EQ(stub->ReportDevices(&context, report, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    Deadline(&context);
    relay::v1::UploadAccessRequest upload;
    upload.set_scan_id("scan-x");
    upload.set_gateway_id("gw-other");
    upload.set_device_id("mfp-201");
    upload.set_user_id("alice");
    upload.set_size(10);
    relay::v1::UploadAccessResponse response;
    EXPECT_EQ(stub->RequestUpload(&context, upload, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  auto printers = stack_->Printers();
  ASSERT_THAT(printers, IsOk());
  for (const auto& p : *printers) EXPECT_NE(p.device().device_id(), "mfp-666");
}

TEST_F(SecurityTest, ARevokedGatewayLosesItsSessionAndIsRefused) {
  StartStack();
  ASSERT_THAT(stack_->RevokeGateway("gw-test-1"), IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] { return !stack_->LogLines("mgmt", "event=session_revoked gateway=gw-test-1").empty(); },
      absl::Seconds(10)));
  EXPECT_TRUE(WaitUntil(
      [&] { return !stack_->LogLines("gateway", "is revoked").empty(); }, absl::Seconds(10)));
  grpc::Status status = TryOpenSession(MgmtAs("gateway-gw-test-1"), "gw-test-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("revoked"));
  // A print for its devices waits; it is not printed.
  auto document = stack_->Upload("revoked");
  ASSERT_THAT(document, IsOk());
  auto job = stack_->SubmitPrint(document->document_id(), "mfp-201");
  ASSERT_THAT(job, IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] {
        return !stack_->LogLines("cloud", absl::StrCat("job=", job->job_id())).empty() &&
               !stack_->LogLines("mgmt", absl::StrCat("job=", job->job_id())).empty();
      },
      absl::Seconds(10)));
  auto queued = Job(job->job_id());
  ASSERT_THAT(queued, IsOk());
  EXPECT_EQ(queued->state(), relay::v1::JOB_STATE_QUEUED);
  // Approved again, the gateway comes back and the job is printed.
  ASSERT_THAT(stack_->ApproveGateway("gw-test-1"), IsOk());
  relay::v1::Job final_job;
  auto states = stack_->WatchToEnd(job->job_id(), &final_job, absl::Seconds(90));
  ASSERT_THAT(states, IsOk());
  EXPECT_EQ(final_job.state(), relay::v1::JOB_STATE_DONE);
}

TEST_F(SecurityTest, ReplayedForgedAndMisboundTokensAreRefusedAndTouchNoJob) {
  StartStack();
  // A rogue holder of gw-test-1's certificate (the stolen laptop) takes the
  // gateway's place, to see the tunnel requests and their tokens.
  stack_->StopGateway();
  auto session = relay::v1::GatewaySession::NewStub(MgmtAs("gateway-gw-test-1"));
  grpc::ClientContext session_context;
  relay::v1::OpenSessionRequest hello;
  hello.set_gateway_id("gw-test-1");
  auto reader = session->OpenSession(&session_context, hello);
  relay::v1::SessionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_welcome());

  const std::string content = MakeDocument(300 * 1024, 7);
  auto document = stack_->Upload(content);
  ASSERT_THAT(document, IsOk());
  auto job = stack_->SubmitPrint(document->document_id(), "mfp-201");
  ASSERT_THAT(job, IsOk());
  relay::v1::TunnelRequest request;
  while (reader->Read(&event)) {
    if (event.has_tunnel_request()) {
      request = event.tunnel_request();
      break;
    }
  }
  ASSERT_EQ(request.job_id(), job->job_id());
  // The dispatcher records the dispatch once RequestAccess returned.
  absl::StatusOr<relay::v1::Job> before;
  EXPECT_TRUE(WaitUntil(
      [&] {
        before = Job(job->job_id());
        return before.ok() && before->history_size() >= 2;
      },
      absl::Seconds(10)));
  ASSERT_THAT(before, IsOk());

  relay::v1::TunnelOpen open;
  open.set_tunnel_token(request.tunnel_token());
  open.set_gateway_id("gw-test-1");
  open.set_device_id("mfp-201");
  open.set_job_id(job->job_id());
  open.set_direction(relay::v1::DIRECTION_PRINT);
  auto as_gateway = CloudAs("gateway-gw-test-1");

  // Another device.
  relay::v1::TunnelOpen other_device = open;
  other_device.set_device_id("mfp-202");
  TunnelRun run = RunTunnel(as_gateway, other_device, false);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(run.status.error_message(), HasSubstr("device"));
  // Another job, another direction.
  relay::v1::TunnelOpen other_job = open;
  other_job.set_job_id("job-0000000000000000");
  EXPECT_EQ(RunTunnel(as_gateway, other_job, false).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  relay::v1::TunnelOpen scan = open;
  scan.set_direction(relay::v1::DIRECTION_SCAN);
  scan.set_size(100);
  EXPECT_EQ(RunTunnel(as_gateway, scan, false).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Presented by another (approved or not) gateway's certificate.
  ASSERT_THAT(stack_->MakeCertificates({"gw-thief"}), IsOk());
  run = RunTunnel(CloudAs("gateway-gw-thief"), open, false);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(run.status.error_message(), HasSubstr("certificate says gw-thief"));
  relay::v1::TunnelOpen thief = open;
  thief.set_gateway_id("gw-thief");
  EXPECT_EQ(RunTunnel(CloudAs("gateway-gw-thief"), thief, false).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Forged: one character changed, or garbage.
  relay::v1::TunnelOpen forged = open;
  std::string token = request.tunnel_token();
  token[token.size() / 3] = token[token.size() / 3] == 'A' ? 'B' : 'A';
  forged.set_tunnel_token(token);
  EXPECT_EQ(RunTunnel(as_gateway, forged, false).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  forged.set_tunnel_token(std::string(5000, 'A'));
  EXPECT_EQ(RunTunnel(as_gateway, forged, false).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // None of that touched the job.
  auto untouched = Job(job->job_id());
  ASSERT_THAT(untouched, IsOk());
  EXPECT_EQ(untouched->state(), before->state());
  EXPECT_EQ(untouched->history_size(), before->history_size());
  EXPECT_FALSE(stack_->LogLines("cloud", "event=tunnel_failed").empty());

  // The genuine use works once...
  run = RunTunnel(as_gateway, open, true);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_EQ(run.bytes, static_cast<int64_t>(content.size()));
  auto done = Job(job->job_id());
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state(), relay::v1::JOB_STATE_DONE);
  // ...and never again.
  run = RunTunnel(as_gateway, open, false);
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(run.status.error_message(), HasSubstr("already used"));
  EXPECT_EQ(run.bytes, 0);
  auto after = Job(job->job_id());
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->history_size(), done->history_size());
  EXPECT_FALSE(stack_->LogLines("cloud", "event=token_replay").empty());
  session_context.TryCancel();
  reader->Finish();
}

TEST_F(SecurityTest, UsersReachOnlyTheirOwnJobsScansAndGateways) {
  StartStack();
  auto document = stack_->Upload("alice's");
  ASSERT_THAT(document, IsOk());
  auto job = stack_->SubmitPrint(document->document_id(), "mfp-201");
  ASSERT_THAT(job, IsOk());
  EXPECT_EQ(stack_->GetJob(job->job_id(), "bob").status().code(), absl::StatusCode::kNotFound);
  relay::v1::Job ignored;
  EXPECT_EQ(stack_->WatchToEnd(job->job_id(), &ignored, absl::Seconds(5), "bob").status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // bob cannot print alice's document either.
  EXPECT_EQ(stack_->SubmitPrint(document->document_id(), "mfp-201", "bob").status().code(),
            absl::StatusCode::kNotFound);
  // A scan of alice's is hers only.
  auto scan = stack_->StartScan("mfp-202", "alice", 1, 10 * 1024);
  ASSERT_THAT(scan, IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto scans = stack_->Scans("alice");
        return scans.ok() && !scans->empty();
      },
      absl::Seconds(30)));
  EXPECT_EQ(stack_->DownloadScan(scan->scan_id(), "bob").status().code(),
            absl::StatusCode::kNotFound);
  auto bobs = stack_->Scans("bob");
  ASSERT_THAT(bobs, IsOk());
  EXPECT_TRUE(bobs->empty());

  // carol may use another gateway only: she sees no printer of gw-test-1,
  // cannot print there, and no scan from it is stored for her.
  ASSERT_THAT(stack_->AddUser("carol", "gw-elsewhere"), IsOk());
  // The running server learns of the new user within a moment.
  absl::StatusOr<std::vector<relay::v1::Printer>> printers;
  EXPECT_TRUE(WaitUntil(
      [&] {
        printers = stack_->Printers("carol");
        return printers.ok();
      },
      absl::Seconds(10)));
  ASSERT_THAT(printers, IsOk());
  EXPECT_TRUE(printers->empty());
  auto hers = stack_->Upload("carol's", "c.pdf", "carol");
  ASSERT_THAT(hers, IsOk());
  EXPECT_EQ(stack_->SubmitPrint(hers->document_id(), "mfp-201", "carol").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_THAT(stack_->StartScan("mfp-203", "carol", 1, 1024), IsOk());
  EXPECT_TRUE(WaitUntil(
      [&] { return !stack_->LogLines("cloud", "may not use gateway gw-test-1").empty(); },
      absl::Seconds(30)));
  auto carols = stack_->Scans("carol");
  ASSERT_THAT(carols, IsOk());
  EXPECT_TRUE(carols->empty());

  // No token, a bogus one: UNAUTHENTICATED.
  EXPECT_EQ(stack_->Printers("nobody").status().code(), absl::StatusCode::kUnauthenticated);
  auto api = relay::v1::CloudApi::NewStub(CloudAs(""));
  grpc::ClientContext context;
  Deadline(&context);
  context.AddMetadata("authorization", "Bearer rly_" + std::string(64, '0'));
  relay::v1::ListJobsResponse jobs;
  EXPECT_EQ(api->ListJobs(&context, {}, &jobs).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, OversizedInputIsRefusedAndStoresNothing) {
  StackOptions options;
  options.cloud_args = {"--max_document_bytes=1048576", "--max_user_bytes=1572864"};
  StartStack(options);
  // The per-user quota: the second 900 KiB document does not fit.
  ASSERT_THAT(stack_->Upload(MakeDocument(900 * 1024, 1)), IsOk());
  auto over_quota = stack_->Upload(MakeDocument(900 * 1024, 2));
  EXPECT_EQ(over_quota.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over_quota.status().message()), HasSubstr("quota"));
  // bob has a quota of his own.
  ASSERT_THAT(stack_->Upload(MakeDocument(900 * 1024, 2), "b.pdf", "bob"), IsOk());
  auto too_big = stack_->Upload(MakeDocument(2 * 1024 * 1024, 3));
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(too_big.status().message()), HasSubstr("limit"));
  // One message beyond the server's message limit (8 MiB).
  auto api = relay::v1::CloudApi::NewStub(CloudAs(""));
  {
    grpc::ClientContext context;
    Deadline(&context);
    context.AddMetadata("authorization", "Bearer " + stack_->UserToken("alice"));
    relay::v1::Document document;
    auto writer = api->UploadDocument(&context, &document);
    relay::v1::UploadDocumentRequest request;
    request.mutable_metadata()->set_name("huge.pdf");
    writer->Write(request);
    request.set_data(std::string(9 * 1024 * 1024, 'x'));
    writer->Write(request);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  grpc::ClientContext context;
  Deadline(&context);
  context.AddMetadata("authorization", "Bearer " + stack_->UserToken("alice"));
  relay::v1::ListDocumentsResponse documents;
  ASSERT_TRUE(api->ListDocuments(&context, {}, &documents).ok());
  EXPECT_EQ(documents.documents_size(), 1);  // only the first, within the quota
}

TEST_F(SecurityTest, EachServiceAcceptsOnlyItsOwnCallers) {
  StartStack();
  // CloudMirror: only the management server.
  for (const std::string identity : {"", "gateway-gw-test-1"}) {
    auto mirror = relay::v1::CloudMirror::NewStub(CloudAs(identity));
    grpc::ClientContext context;
    Deadline(&context);
    relay::v1::DeviceList list;
    list.set_gateway_id("gw-test-1");
    list.set_version(int64_t{1} << 60);
    relay::v1::UpdateDevicesResponse response;
    EXPECT_EQ(mirror->UpdateDevices(&context, list, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << identity;
  }
  // AccessRouter: only the cloud server.
  auto router = relay::v1::AccessRouter::NewStub(MgmtAs("gateway-gw-test-1"));
  grpc::ClientContext context;
  Deadline(&context);
  relay::v1::AccessRequest access;
  access.set_job_id("job-x");
  access.set_device_id("mfp-201");
  access.set_direction(relay::v1::DIRECTION_PRINT);
  access.set_tunnel_token("forged");
  relay::v1::AccessResponse response;
  EXPECT_EQ(router->RequestAccess(&context, access, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // GatewaySession: not with a service certificate.
  grpc::Status status = TryOpenSession(MgmtAs("cloud"), "gw-test-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The printers are still there, unchanged.
  auto printers = stack_->Printers();
  ASSERT_THAT(printers, IsOk());
  EXPECT_EQ(printers->size(), 7u);
}

TEST_F(SecurityTest, MalformedTunnelFramesAreRefused) {
  StartStack();
  auto tunnel = relay::v1::CloudTunnel::NewStub(CloudAs("gateway-gw-test-1"));
  {
    // Data before TunnelOpen.
    grpc::ClientContext context;
    Deadline(&context);
    auto stream = tunnel->Tunnel(&context);
    TunnelUp up;
    up.mutable_data()->set_offset(0);
    up.mutable_data()->set_data("hello");
    stream->Write(up);
    TunnelDown down;
    EXPECT_FALSE(stream->Read(&down));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // An empty frame.
    grpc::ClientContext context;
    Deadline(&context);
    auto stream = tunnel->Tunnel(&context);
    stream->Write(TunnelUp());
    TunnelDown down;
    EXPECT_FALSE(stream->Read(&down));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  relay::v1::TunnelOpen open;
  open.set_gateway_id("gw-test-1");
  open.set_device_id("mfp-201");
  open.set_job_id("job-1");
  open.set_direction(relay::v1::DIRECTION_PRINT);
  for (const std::string token : {"", "a.b.c", "!!!.???", "cnQx.AAAA"}) {
    open.set_tunnel_token(token);
    EXPECT_EQ(RunTunnel(CloudAs("gateway-gw-test-1"), open, false).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << token;
  }
}

}  // namespace
}  // namespace relay::integration
