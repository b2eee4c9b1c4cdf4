// The management server in process, on 127.0.0.1:0, with a fake cloud: a
// client plays the gateway (OpenSession, ReportDevices) and the cloud
// (RequestAccess).

#include "mgmt_server/mgmt_server.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "mgmt_server/testing/fake_cloud_link.h"
#include "relay/v1/mgmt.grpc.pb.h"

namespace relay::mgmt {
namespace {

using ::relay::testing::IsOk;

// Every blocking call of the test has a deadline: a bug fails the test rather
// than hanging it.
void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
}

// A gateway's open session, read from the test thread.
struct Session {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<relay::v1::SessionEvent>> reader;
};

class MgmtServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = absl::StrCat(::testing::TempDir(), "/mgmt_server_", RandomHex(8), ".db");
    StartServer();
  }
  void TearDown() override {
    server_.reset();
    std::remove(db_path_.c_str());
  }

  void StartServer() {
    MgmtServerOptions options;
    options.db_path = db_path_;
    // The fake gateways here do not answer DeviceInfoRequest events (related
    // design 2 has its own tests): sessions carry only what these tests read.
    options.refresh.enabled = false;
    options.mirror.initial_backoff = absl::Milliseconds(1);
    auto server = MgmtServer::Start(options, &cloud_);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    sessions_ = relay::v1::GatewaySession::NewStub(channel_);
    router_ = relay::v1::AccessRouter::NewStub(channel_);
  }

  std::unique_ptr<Session> Open(const std::string& gateway_id) {
    auto session = std::make_unique<Session>();
    SetDeadline(session->context);
    relay::v1::OpenSessionRequest request;
    request.set_gateway_id(gateway_id);
    request.set_lan_id("lan-1");
    request.set_software_version("test");
    session->reader = sessions_->OpenSession(&session->context, request);
    return session;
  }

  grpc::Status ReportDevices(const std::string& gateway_id, int64_t version,
                             const std::vector<std::string>& device_ids) {
    relay::v1::ReportDevicesRequest request;
    relay::v1::DeviceList* list = request.mutable_device_list();
    list->set_gateway_id(gateway_id);
    list->set_version(version);
    for (const std::string& id : device_ids) {
      relay::v1::DeviceInfo* device = list->add_devices();
      device->set_device_id(id);
      device->set_registered(true);
    }
    grpc::ClientContext context;
    SetDeadline(context);
    relay::v1::ReportDevicesResponse response;
    return sessions_->ReportDevices(&context, request, &response);
  }

  grpc::Status RequestAccess(const std::string& job_id, const std::string& device_id,
                             relay::v1::AccessResponse* response) {
    relay::v1::AccessRequest request;
    request.set_job_id(job_id);
    request.set_device_id(device_id);
    request.set_direction(relay::v1::DIRECTION_PRINT);
    request.set_tunnel_token("signed-token");
    request.set_user_id("alice");
    request.set_document_name("report.pdf");
    request.set_document_size(1234);
    grpc::ClientContext context;
    SetDeadline(context);
    return router_->RequestAccess(&context, request, response);
  }

  std::string db_path_;
  testing::FakeCloudLink cloud_;
  std::unique_ptr<MgmtServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::GatewaySession::Stub> sessions_;
  std::unique_ptr<relay::v1::AccessRouter::Stub> router_;
};

TEST_F(MgmtServerTest, WelcomeThenTunnelRequestPushedDownTheSession) {
  auto session = Open("gw-1");
  relay::v1::SessionEvent event;
  ASSERT_TRUE(session->reader->Read(&event));
  ASSERT_TRUE(event.has_welcome());
  EXPECT_EQ(event.welcome().session_epoch(), 1);
  EXPECT_GT(event.welcome().server_time_unix(), 0);

  ASSERT_TRUE(ReportDevices("gw-1", 1, {"mfp-201", "mfp-202"}).ok());
  EXPECT_TRUE(cloud_.WaitForDeviceList("gw-1", 1));

  relay::v1::AccessResponse response;
  grpc::Status status = RequestAccess("job-1", "mfp-202", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.gateway_id(), "gw-1");

  ASSERT_TRUE(session->reader->Read(&event));
  ASSERT_TRUE(event.has_tunnel_request());
  EXPECT_EQ(event.tunnel_request().job_id(), "job-1");
  EXPECT_EQ(event.tunnel_request().device_id(), "mfp-202");
  EXPECT_EQ(event.tunnel_request().direction(), relay::v1::DIRECTION_PRINT);
  EXPECT_EQ(event.tunnel_request().tunnel_token(), "signed-token");
  EXPECT_EQ(event.tunnel_request().user_id(), "alice");
  EXPECT_EQ(event.tunnel_request().document_size(), 1234);

  session->context.TryCancel();
}

TEST_F(MgmtServerTest, UnknownDeviceIsNotFound) {
  relay::v1::AccessResponse response;
  grpc::Status status = RequestAccess("job-2", "mfp-999", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "device mfp-999 is not known to any gateway");
}

TEST_F(MgmtServerTest, MalformedAccessRequestIsInvalidArgument) {
  relay::v1::AccessResponse response;
  grpc::Status status = RequestAccess("", "mfp-1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MgmtServerTest, GatewayOfflineAfterRestartIsUnavailable) {
  auto session = Open("gw-2");
  relay::v1::SessionEvent event;
  ASSERT_TRUE(session->reader->Read(&event));
  ASSERT_TRUE(ReportDevices("gw-2", 1, {"mfp-301"}).ok());

  // Shutdown finishes every session, so gateways reconnect elsewhere.
  server_->Shutdown(absl::Seconds(5));
  EXPECT_FALSE(session->reader->Read(&event));
  EXPECT_EQ(session->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  server_.reset();
  StartServer();  // Same database: the device is known, the session is not.
  auto gateway = server_->store().GetGateway("gw-2");
  ASSERT_THAT(gateway, IsOk());
  EXPECT_FALSE(gateway->connected);

  relay::v1::AccessResponse response;
  grpc::Status status = RequestAccess("job-3", "mfp-301", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "gateway gw-2 has no session");
}

TEST_F(MgmtServerTest, NewerSessionReplacesTheOlderOne) {
  auto first = Open("gw-3");
  relay::v1::SessionEvent event;
  ASSERT_TRUE(first->reader->Read(&event));
  EXPECT_EQ(event.welcome().session_epoch(), 1);

  auto second = Open("gw-3");
  ASSERT_TRUE(second->reader->Read(&event));
  EXPECT_EQ(event.welcome().session_epoch(), 2);

  EXPECT_FALSE(first->reader->Read(&event));
  EXPECT_EQ(first->reader->Finish().error_code(), grpc::StatusCode::ABORTED);

  ASSERT_TRUE(ReportDevices("gw-3", 1, {"mfp-401"}).ok());
  relay::v1::AccessResponse response;
  ASSERT_TRUE(RequestAccess("job-4", "mfp-401", &response).ok());
  ASSERT_TRUE(second->reader->Read(&event));
  EXPECT_EQ(event.tunnel_request().job_id(), "job-4");
  second->context.TryCancel();
}

TEST_F(MgmtServerTest, InvalidSessionRequestIsRefused) {
  auto session = Open("");
  relay::v1::SessionEvent event;
  EXPECT_FALSE(session->reader->Read(&event));
  EXPECT_EQ(session->reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MgmtServerTest, DevicesOfAnUnknownGatewayAreRefused) {
  grpc::Status status = ReportDevices("gw-never-connected", 1, {"mfp-1"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  status = ReportDevices("gw-x", 1, {""});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MgmtServerTest, ProgressAndUploadsAreForwardedToTheCloud) {
  relay::v1::JobProgress progress;
  progress.set_job_id("job-5");
  progress.set_gateway_id("gw-5");
  progress.set_device_id("mfp-5");
  progress.set_state(relay::v1::JOB_STATE_WAITING_FOR_SLOT);
  {
    grpc::ClientContext context;
    SetDeadline(context);
    relay::v1::ReportJobProgressResponse response;
    ASSERT_TRUE(sessions_->ReportJobProgress(&context, progress, &response).ok());
  }
  ASSERT_EQ(cloud_.progress().size(), 1u);
  EXPECT_EQ(cloud_.progress()[0].state(), relay::v1::JOB_STATE_WAITING_FOR_SLOT);

  relay::v1::UploadAccessRequest upload;
  upload.set_scan_id("scan-1");
  upload.set_gateway_id("gw-5");
  upload.set_device_id("mfp-5");
  upload.set_user_id("bob");
  upload.set_size(99);
  {
    grpc::ClientContext context;
    SetDeadline(context);
    relay::v1::UploadAccessResponse response;
    grpc::Status status = sessions_->RequestUpload(&context, upload, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.tunnel_token(), "upload-token");
  }
  ASSERT_EQ(cloud_.uploads().size(), 1u);
  EXPECT_EQ(cloud_.uploads()[0].user_id(), "bob");

  cloud_.SetUp(false);
  {
    grpc::ClientContext context;
    SetDeadline(context);
    relay::v1::UploadAccessResponse response;
    EXPECT_EQ(sessions_->RequestUpload(&context, upload, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
}

// --- Related design 1: a substitute gateway wakes a sleeping one --------------

// Opens a session that says where the gateway is reached in its LAN.
std::unique_ptr<Session> OpenInLan(relay::v1::GatewaySession::Stub* stub,
                                   const std::string& gateway_id, const std::string& lan_id,
                                   const std::string& lan_address) {
  auto session = std::make_unique<Session>();
  SetDeadline(session->context);
  relay::v1::OpenSessionRequest request;
  request.set_gateway_id(gateway_id);
  request.set_lan_id(lan_id);
  request.set_lan_address(lan_address);
  request.set_mac_address("02:00:00:00:00:0a");
  request.set_wol_address("127.0.0.1:50079");
  session->reader = stub->OpenSession(&session->context, request);
  relay::v1::SessionEvent welcome;
  EXPECT_TRUE(session->reader->Read(&welcome));
  EXPECT_TRUE(welcome.has_welcome());
  return session;
}

// Closes a session (the gateway went to sleep) and waits until the server
// routes as if it had none.
void Close(std::unique_ptr<Session> session) {
  session->context.TryCancel();
  relay::v1::SessionEvent ignored;
  while (session->reader->Read(&ignored)) {
  }
  session->reader->Finish();
}

TEST_F(MgmtServerTest, SleepingGatewayIsReachedThroughASubstituteOfItsLan) {
  auto sleeper = OpenInLan(sessions_.get(), "gw-a", "lan-1", "127.0.0.1:50071");
  ASSERT_TRUE(ReportDevices("gw-a", 1, {"mfp-1"}).ok());
  auto other_lan = OpenInLan(sessions_.get(), "gw-0", "lan-2", "127.0.0.1:50073");
  auto substitute = OpenInLan(sessions_.get(), "gw-b", "lan-1", "127.0.0.1:50072");
  Close(std::move(sleeper));

  relay::v1::AccessResponse response;
  grpc::Status status;
  for (int i = 0; i < 100; ++i) {
    response.Clear();
    status = RequestAccess("job-w", "mfp-1", &response);
    if (status.ok() && !response.substitute_gateway_id().empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.gateway_id(), "gw-a");
  // The only other gateway of lan-1 (gw-0 is in another LAN).
  EXPECT_EQ(response.substitute_gateway_id(), "gw-b");
  relay::v1::SessionEvent event;
  do {
    ASSERT_TRUE(substitute->reader->Read(&event));
  } while (!event.has_wake_forward());
  const relay::v1::WakeForward& forward = event.wake_forward();
  EXPECT_EQ(forward.target_gateway_id(), "gw-a");
  EXPECT_EQ(forward.lan_address(), "127.0.0.1:50071");
  EXPECT_EQ(forward.mac_address(), "02:00:00:00:00:0a");
  EXPECT_EQ(forward.wol_address(), "127.0.0.1:50079");
  EXPECT_EQ(forward.tunnel_request().job_id(), "job-w");
  EXPECT_EQ(forward.tunnel_request().device_id(), "mfp-1");
  EXPECT_EQ(forward.tunnel_request().tunnel_token(), "signed-token");
  other_lan->context.TryCancel();
  substitute->context.TryCancel();
}

TEST_F(MgmtServerTest, SleepingGatewayWithoutSubstituteIsUnavailableWithTheReason) {
  auto sleeper = OpenInLan(sessions_.get(), "gw-a", "lan-1", "127.0.0.1:50071");
  ASSERT_TRUE(ReportDevices("gw-a", 1, {"mfp-1"}).ok());
  auto other_lan = OpenInLan(sessions_.get(), "gw-0", "lan-2", "127.0.0.1:50073");
  Close(std::move(sleeper));
  relay::v1::AccessResponse response;
  grpc::Status status;
  for (int i = 0; i < 100; ++i) {
    status = RequestAccess("job-n", "mfp-1", &response);
    if (!status.ok() && absl::StrContains(status.error_message(), "asleep")) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "gateway gw-a is asleep or offline and no other gateway of LAN lan-1 has a "
            "session");
  other_lan->context.TryCancel();
}

}  // namespace
}  // namespace relay::mgmt
