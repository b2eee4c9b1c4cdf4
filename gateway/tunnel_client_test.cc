// GrpcTunnelClient against an in-process fake cloud (CloudTunnel) and
// MfpSimDriver against an in-process fake MFP (MfpDevice).

#include "gateway/tunnel_client.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "gateway/mfp_sim_driver.h"
#include "gateway/testing/fake_device_driver.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using relay::v1::TunnelDown;
using relay::v1::TunnelUp;
using ::testing::HasSubstr;

// The cloud side of a tunnel, scripted per test.
class FakeCloud final : public relay::v1::CloudTunnel::Service {
 public:
  std::string document = "hello, printer";
  size_t chunk_bytes = 4;
  bool already_done = false;
  bool corrupt_offsets = false;
  // DataEnd announces the checksum of other bytes (a corruption on the way).
  bool wrong_end_sha = false;

  grpc::Status Tunnel(grpc::ServerContext*,
                      grpc::ServerReaderWriter<TunnelDown, TunnelUp>* stream) override {
    TunnelUp up;
    if (!stream->Read(&up) || !up.has_open()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "expected TunnelOpen");
    }
    Record(up);
    const std::string job_id = up.open().job_id();
    TunnelDown accepted;
    if (up.open().direction() == relay::v1::DIRECTION_SCAN) {
      accepted.mutable_accepted();
      stream->Write(accepted);
      std::string received;
      while (stream->Read(&up)) {
        Record(up);
        if (up.has_data()) received += up.data().data();
        if (up.has_end()) break;
      }
      {
        absl::MutexLock lock(&mu_);
        scan_bytes_ = received;
      }
      TunnelDown closed;
      closed.mutable_closed()->set_stored_id("stored-" + job_id);
      stream->Write(closed);
      return grpc::Status::OK;
    }
    accepted.mutable_accepted()->set_size(static_cast<int64_t>(document.size()));
    accepted.mutable_accepted()->set_document_name("doc.pdf");
    accepted.mutable_accepted()->set_content_type("application/pdf");
    accepted.mutable_accepted()->set_already_done(already_done);
    stream->Write(accepted);
    if (!already_done) {
      for (size_t offset = 0; offset < document.size(); offset += chunk_bytes) {
        TunnelDown chunk;
        chunk.mutable_data()->set_offset(static_cast<int64_t>(offset) +
                                         (corrupt_offsets && offset > 0 ? 1 : 0));
        chunk.mutable_data()->set_data(document.substr(offset, chunk_bytes));
        stream->Write(chunk);
      }
      TunnelDown end;
      end.mutable_end()->set_total_size(static_cast<int64_t>(document.size()));
      end.mutable_end()->set_sha256_hex(Sha256::HexOf(wrong_end_sha ? document + "!" : document));
      stream->Write(end);
    }
    while (stream->Read(&up)) {
      Record(up);
      if (up.has_result()) break;
    }
    TunnelDown closed;
    closed.mutable_closed();
    stream->Write(closed);
    return grpc::Status::OK;
  }

  std::vector<TunnelUp> frames() {
    absl::MutexLock lock(&mu_);
    return frames_;
  }
  std::string scan_bytes() {
    absl::MutexLock lock(&mu_);
    return scan_bytes_;
  }

 private:
  void Record(const TunnelUp& up) {
    absl::MutexLock lock(&mu_);
    frames_.push_back(up);
    if (frames_.back().has_data()) frames_.back().mutable_data()->clear_data();
  }
  absl::Mutex mu_;
  std::vector<TunnelUp> frames_ ABSL_GUARDED_BY(mu_);
  std::string scan_bytes_ ABSL_GUARDED_BY(mu_);
};

// A simulated MFP that keeps what it was sent.
class FakeMfp final : public relay::v1::MfpDevice::Service {
 public:
  grpc::Status GetStatus(grpc::ServerContext*, const relay::v1::DeviceRef* ref,
                         relay::v1::DeviceInfo* info) override {
    if (ref->device_id() != "mfp-1") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no");
    info->set_device_id("mfp-1");
    info->set_status(relay::v1::DEVICE_STATUS_IDLE);
    return grpc::Status::OK;
  }
  grpc::Status Print(grpc::ServerContext*, grpc::ServerReader<relay::v1::PrintRequest>* reader,
                     relay::v1::PrintResult* result) override {
    relay::v1::PrintRequest request;
    if (!reader->Read(&request) || !request.has_header()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no header");
    }
    const relay::v1::PrintHeader header = request.header();
    std::string data;
    while (reader->Read(&request)) data += request.data();
    absl::MutexLock lock(&mu_);
    printed_[header.job_id()] = data;
    headers_.push_back(header);
    result->set_bytes_received(static_cast<int64_t>(data.size()));
    result->set_sha256_hex(Sha256::HexOf(misreceive_ ? data + "?" : data));
    return grpc::Status::OK;
  }
  // The device's receipt names other bytes than the gateway sent.
  void Misreceive() {
    absl::MutexLock lock(&mu_);
    misreceive_ = true;
  }
  std::vector<relay::v1::PrintHeader> headers() {
    absl::MutexLock lock(&mu_);
    return headers_;
  }
  std::map<std::string, std::string> printed() {
    absl::MutexLock lock(&mu_);
    return printed_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> printed_ ABSL_GUARDED_BY(mu_);
  std::vector<relay::v1::PrintHeader> headers_ ABSL_GUARDED_BY(mu_);
  bool misreceive_ ABSL_GUARDED_BY(mu_) = false;
};

class TunnelClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&cloud_);
    builder.RegisterService(&mfp_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
    ChannelOptions options;
    options.dedicated = true;
    client_ = std::make_unique<GrpcTunnelClient>(CreateRelayChannel(address_, options));
    device_.set_device_id("mfp-1");
    device_.set_address(address_);
    device_.set_protocol("mfp-sim");
  }
  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1)); }

  PrintJob Job(const std::string& job_id) {
    PrintJob job;
    job.gateway_id = "gw-test";
    job.request.set_job_id(job_id);
    job.request.set_device_id("mfp-1");
    job.request.set_tunnel_token("tok");
    job.device = device_;
    job.registration_change = "registered mfp-1 in place of mfp-0";
    return job;
  }

  FakeCloud cloud_;
  FakeMfp mfp_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<GrpcTunnelClient> client_;
  relay::v1::DeviceInfo device_;
};

TEST_F(TunnelClientTest, StreamsTheDocumentToTheDeviceAndReportsDone) {
  MfpSimDriver driver;
  int printing_calls = 0;
  int delivered_calls = 0;
  PrintCallbacks callbacks{[&] { ++printing_calls; },
                           [&](const DevicePrintResult&) { ++delivered_calls; }};
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, callbacks);
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_DONE) << outcome.reason;
  EXPECT_EQ(outcome.bytes_delivered, static_cast<int64_t>(cloud_.document.size()));
  EXPECT_EQ(outcome.sha256_hex, Sha256::HexOf(cloud_.document));
  EXPECT_EQ(printing_calls, 1);
  EXPECT_EQ(delivered_calls, 1);
  EXPECT_EQ(mfp_.printed()["job-1"], cloud_.document);
  ASSERT_EQ(mfp_.headers().size(), 1u);
  EXPECT_EQ(mfp_.headers()[0].document_name(), "doc.pdf");
  EXPECT_EQ(mfp_.headers()[0].size(), static_cast<int64_t>(cloud_.document.size()));

  std::vector<TunnelUp> frames = cloud_.frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].open().tunnel_token(), "tok");
  EXPECT_EQ(frames[0].open().gateway_id(), "gw-test");
  EXPECT_EQ(frames[0].open().direction(), relay::v1::DIRECTION_PRINT);
  EXPECT_EQ(frames[1].progress().state(), relay::v1::JOB_STATE_PRINTING);
  EXPECT_EQ(frames[1].progress().registration_change(), "registered mfp-1 in place of mfp-0");
  EXPECT_EQ(frames[2].result().state(), relay::v1::JOB_STATE_DONE);
  EXPECT_EQ(frames[2].result().sha256_hex(), Sha256::HexOf(cloud_.document));
}

TEST_F(TunnelClientTest, AlreadyDoneClosesWithoutPrinting) {
  cloud_.already_done = true;
  testing::FakeDeviceDriver driver;
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_DONE);
  EXPECT_TRUE(outcome.already_done);
  EXPECT_TRUE(driver.prints().empty());
}

TEST_F(TunnelClientTest, AGapInOffsetsFailsTheJobAndCancelsThePrint) {
  cloud_.corrupt_offsets = true;
  testing::FakeDeviceDriver driver;
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("offset"));
  EXPECT_TRUE(driver.prints()["job-1"].cancelled);
  EXPECT_FALSE(driver.prints()["job-1"].finished);
  std::vector<TunnelUp> frames = cloud_.frames();
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().result().state(), relay::v1::JOB_STATE_FAILED);
}

// The simulator reports its SHA-256, so the gateway does not hash the stream:
// the device's checksum is compared with the one the cloud announced.
TEST_F(TunnelClientTest, ADeviceChecksumOtherThanTheCloudsFailsTheJob) {
  MfpSimDriver driver;
  mfp_.Misreceive();
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("sha256 differs"));
  EXPECT_EQ(cloud_.frames().back().result().state(), relay::v1::JOB_STATE_FAILED);
}

TEST_F(TunnelClientTest, ACorruptionOnTheWayFailsTheJobWhoeverHashes) {
  cloud_.wrong_end_sha = true;
  MfpSimDriver device_hashes;
  EXPECT_EQ(client_->RunPrint(Job("job-1"), &device_hashes, {}).state,
            relay::v1::JOB_STATE_FAILED);
  testing::FakeDeviceDriver gateway_hashes;  // reports no checksum of its own
  PrintOutcome outcome = client_->RunPrint(Job("job-2"), &gateway_hashes, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("sha256 mismatch"));
}

TEST_F(TunnelClientTest, ADeviceErrorIsReportedToTheCloud) {
  testing::FakeDeviceDriver driver;
  driver.FailWrites(absl::UnavailableError("toner empty"));
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("toner empty"));
  EXPECT_THAT(cloud_.frames().back().result().reason(), HasSubstr("toner empty"));
}

TEST_F(TunnelClientTest, AnUnreachableCloudFailsWithAReason) {
  GrpcTunnelClient client(CreateRelayChannel("127.0.0.1:1", ChannelOptions()));
  testing::FakeDeviceDriver driver;
  PrintOutcome outcome = client.RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("cannot open the tunnel"));
}

TEST_F(TunnelClientTest, UploadsAScanInChunksWithOffsets) {
  std::string path = ::testing::TempDir() + "tunnel_scan_" + std::to_string(getpid());
  std::string data(GrpcTunnelClient::kScanChunkBytes * 2 + 100, 'x');
  data[12345] = 'y';
  {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  ScanUpload scan{"gw-test", "tok", "scan-1", "mfp-1", "bob", "application/pdf",
                  static_cast<int64_t>(data.size()), Sha256::HexOf(data), path};
  auto stored = client_->UploadScan(scan);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(*stored, "stored-scan-1");
  EXPECT_EQ(cloud_.scan_bytes(), data);
  std::vector<TunnelUp> frames = cloud_.frames();
  ASSERT_EQ(frames.size(), 5u);  // open, 3 chunks, end
  EXPECT_EQ(frames[0].open().direction(), relay::v1::DIRECTION_SCAN);
  EXPECT_EQ(frames[0].open().user_id(), "bob");
  EXPECT_EQ(frames[0].open().sha256_hex(), Sha256::HexOf(data));
  EXPECT_EQ(frames[2].data().offset(), GrpcTunnelClient::kScanChunkBytes);
  EXPECT_EQ(frames[4].end().total_size(), static_cast<int64_t>(data.size()));
  std::remove(path.c_str());
}

TEST_F(TunnelClientTest, AMissingSpoolFileIsDataLoss) {
  ScanUpload scan{"gw-test", "tok", "scan-1", "mfp-1", "bob", "application/pdf", 10, "",
                  "/nonexistent/spool/scan-1.bin"};
  EXPECT_EQ(client_->UploadScan(scan).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TunnelClientTest, CancelAllRefusesNewTunnels) {
  client_->CancelAll();
  testing::FakeDeviceDriver driver;
  PrintOutcome outcome = client_->RunPrint(Job("job-1"), &driver, {});
  EXPECT_EQ(outcome.state, relay::v1::JOB_STATE_FAILED);
  EXPECT_THAT(outcome.reason, HasSubstr("shutting down"));
}

TEST_F(TunnelClientTest, MfpSimDriverGetStatus) {
  MfpSimDriver driver;
  auto info = driver.GetStatus(device_);
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->status(), relay::v1::DEVICE_STATUS_IDLE);
  relay::v1::DeviceInfo unknown = device_;
  unknown.set_device_id("mfp-404");
  EXPECT_EQ(driver.GetStatus(unknown).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace relay::gateway
