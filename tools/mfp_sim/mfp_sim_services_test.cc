// MfpDevice and SimControl in process on 127.0.0.1:0, with a fake gateway
// LAN API that receives scans.

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "common/testing/status_matchers.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tools/mfp_sim/mfp_device_service.h"
#include "tools/mfp_sim/scan_content.h"
#include "tools/mfp_sim/sim_control_service.h"

namespace relay::mfp_sim {
namespace {

using ::relay::testing::IsOk;

// The gateway's LAN API, reduced to what a test needs to see.
class FakeGatewayLan final : public relay::v1::GatewayLan::Service {
 public:
  grpc::Status SubmitScan(grpc::ServerContext*,
                          grpc::ServerReader<relay::v1::ScanUploadRequest>* reader,
                          relay::v1::ScanReceipt* receipt) override {
    relay::v1::ScanUploadRequest message;
    if (!reader->Read(&message) || !message.has_header()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no header");
    }
    std::string data;
    relay::v1::ScanHeader header = message.header();
    while (reader->Read(&message)) data += message.data();
    absl::MutexLock lock(&mu_);
    header_ = header;
    data_ = data;
    receipt->set_scan_id(header.scan_id());
    receipt->set_sha256_hex(Sha256::HexOf(data));
    return grpc::Status::OK;
  }
  relay::v1::ScanHeader header() {
    absl::MutexLock lock(&mu_);
    return header_;
  }
  std::string data() {
    absl::MutexLock lock(&mu_);
    return data_;
  }

 private:
  absl::Mutex mu_;
  relay::v1::ScanHeader header_ ABSL_GUARDED_BY(mu_);
  std::string data_ ABSL_GUARDED_BY(mu_);
};

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
}

class MfpSimServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_dir_ = absl::StrCat(::testing::TempDir(), "/mfp_sim_", RandomHex(6));
    for (auto& info : SimLan::DefaultFleet(3, 201)) ASSERT_THAT(lan_.Add(info), IsOk());

    grpc::ServerBuilder gateway_builder;
    int gateway_port = 0;
    gateway_builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                                     &gateway_port);
    gateway_builder.RegisterService(&gateway_);
    gateway_server_ = gateway_builder.BuildAndStart();
    ASSERT_NE(gateway_port, 0);

    MfpDeviceOptions options;
    options.out_dir = out_dir_;
    options.print_time = absl::ZeroDuration();
    options.keep_printed = keep_printed_;
    device_service_ = std::make_unique<MfpDeviceService>(&lan_, options);
    control_service_ = std::make_unique<SimControlService>(
        &lan_,
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_port),
                            grpc::InsecureChannelCredentials()),
        SimControlOptions{});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(device_service_.get());
    builder.RegisterService(control_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    device_ = relay::v1::MfpDevice::NewStub(channel);
    control_ = relay::v1::SimControl::NewStub(channel);
  }

  void TearDown() override {
    server_->Shutdown();
    gateway_server_->Shutdown();
    std::error_code ignored;
    std::filesystem::remove_all(out_dir_, ignored);
  }

  // Prints `data` in chunks; `header_size` -1 means the real size.
  grpc::Status Print(const std::string& device_id, const std::string& job_id,
                     const std::string& data, relay::v1::PrintResult* result,
                     int64_t header_size = -1) {
    grpc::ClientContext context;
    SetDeadline(context);
    auto writer = device_->Print(&context, result);
    relay::v1::PrintRequest message;
    message.mutable_header()->set_device_id(device_id);
    message.mutable_header()->set_job_id(job_id);
    message.mutable_header()->set_size(header_size < 0 ? data.size() : header_size);
    message.mutable_header()->set_document_name("doc.pdf");
    writer->Write(message);
    for (size_t offset = 0; offset < data.size(); offset += 1000) {
      message.Clear();
      message.set_data(data.substr(offset, 1000));
      if (!writer->Write(message)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  std::string out_dir_;
  bool keep_printed_ = true;
  SimLan lan_{SystemClock::Get()};
  FakeGatewayLan gateway_;
  std::unique_ptr<grpc::Server> gateway_server_;
  std::unique_ptr<MfpDeviceService> device_service_;
  std::unique_ptr<SimControlService> control_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<relay::v1::MfpDevice::Stub> device_;
  std::unique_ptr<relay::v1::SimControl::Stub> control_;
};

class MfpSimDroppingPrintsTest : public MfpSimServicesTest {
 protected:
  MfpSimDroppingPrintsTest() { keep_printed_ = false; }
};

// --keep_printed=false (benchmarks): the receipt and the record are the same,
// only no file is written.
TEST_F(MfpSimDroppingPrintsTest, RecordsThePrintWithoutWritingIt) {
  std::string data = ScanPage("doc", 0, 12345);
  relay::v1::PrintResult result;
  grpc::Status status = Print("mfp-202", "job-1", data, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.bytes_received(), 12345);
  EXPECT_EQ(result.sha256_hex(), Sha256::HexOf(data));
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(out_dir_, "/mfp-202/job-1.bin")));
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(out_dir_, "/mfp-202/job-1.bin.part")));
  relay::v1::PrintResult again;
  ASSERT_TRUE(Print("mfp-202", "job-1", data, &again).ok());
  EXPECT_TRUE(again.duplicate());
}

TEST_F(MfpSimServicesTest, PrintsOnceAndWritesTheBytes) {
  std::string data = ScanPage("doc", 0, 12345);
  relay::v1::PrintResult result;
  grpc::Status status = Print("mfp-202", "job-1", data, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(result.duplicate());
  EXPECT_EQ(result.bytes_received(), 12345);
  EXPECT_EQ(result.sha256_hex(), Sha256::HexOf(data));
  EXPECT_EQ(ReadFile(absl::StrCat(out_dir_, "/mfp-202/job-1.bin")), data);

  relay::v1::PrintResult again;
  ASSERT_TRUE(Print("mfp-202", "job-1", data, &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.bytes_received(), 0);

  grpc::ClientContext context;
  SetDeadline(context);
  relay::v1::DeviceRef ref;
  ref.set_device_id("mfp-202");
  relay::v1::ListPrintedResponse printed;
  ASSERT_TRUE(control_->ListPrinted(&context, ref, &printed).ok());
  ASSERT_EQ(printed.jobs_size(), 1);
  EXPECT_EQ(printed.jobs(0).job_id(), "job-1");
  EXPECT_EQ(printed.jobs(0).sha256_hex(), Sha256::HexOf(data));
  EXPECT_EQ(printed.jobs(0).document_name(), "doc.pdf");
  EXPECT_GT(printed.jobs(0).finished_unix_ms(), 0);

  grpc::ClientContext status_context;
  SetDeadline(status_context);
  relay::v1::DeviceInfo info;
  ASSERT_TRUE(device_->GetStatus(&status_context, ref, &info).ok());
  EXPECT_EQ(info.status(), relay::v1::DEVICE_STATUS_IDLE);
}

TEST_F(MfpSimServicesTest, BadPrintsChangeNothing) {
  relay::v1::PrintResult result;
  EXPECT_EQ(Print("mfp-999", "job-1", "abc", &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Print("mfp-201", "../../x", "abc", &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Fewer bytes than announced: nothing printed, no file, the id is still free.
  EXPECT_EQ(Print("mfp-201", "job-2", "abc", &result, 10).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(out_dir_, "/mfp-201/job-2.bin")));
  EXPECT_FALSE(
      std::filesystem::exists(absl::StrCat(out_dir_, "/mfp-201/job-2.bin.part")));
  EXPECT_TRUE(lan_.Find("mfp-201")->Printed().empty());
  ASSERT_TRUE(Print("mfp-201", "job-2", "abc", &result).ok());
  EXPECT_FALSE(result.duplicate());

  // Data before the header.
  grpc::ClientContext context;
  SetDeadline(context);
  auto writer = device_->Print(&context, &result);
  relay::v1::PrintRequest message;
  message.set_data("xyz");
  writer->Write(message);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MfpSimServicesTest, ScanStreamsGeneratedPagesToTheGateway) {
  grpc::ClientContext context;
  SetDeadline(context);
  relay::v1::StartScanRequest request;
  request.set_device_id("mfp-203");
  request.set_user_id("alice");
  request.set_pages(3);
  request.set_page_bytes(300000);  // Larger than one chunk.
  relay::v1::StartScanResponse response;
  grpc::Status status = control_->StartScan(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.size(), 900000);

  std::string expected;
  for (int page = 0; page < 3; ++page)
    expected += ScanPage(response.scan_id(), page, 300000);
  EXPECT_EQ(gateway_.data(), expected);
  EXPECT_EQ(response.sha256_hex(), Sha256::HexOf(expected));
  EXPECT_EQ(gateway_.header().scan_id(), response.scan_id());
  EXPECT_EQ(gateway_.header().user_id(), "alice");
  EXPECT_EQ(gateway_.header().device_id(), "mfp-203");
  EXPECT_EQ(gateway_.header().size(), 900000);
  EXPECT_EQ(lan_.Find("mfp-203")->Info().status(), relay::v1::DEVICE_STATUS_IDLE);

  grpc::ClientContext bad_context;
  SetDeadline(bad_context);
  request.set_device_id("mfp-999");
  EXPECT_EQ(control_->StartScan(&bad_context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(MfpSimServicesTest, AddedDeviceAppearsInTheList) {
  relay::v1::AddSimDeviceRequest request;
  request.set_device_id("mfp-300");
  request.set_name("Lobby");
  relay::v1::DeviceInfo added;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    ASSERT_TRUE(control_->AddDevice(&context, request, &added).ok());
  }
  EXPECT_EQ(added.name(), "Lobby");
  EXPECT_TRUE(added.capabilities().scan());
  {
    grpc::ClientContext context;
    SetDeadline(context);
    EXPECT_EQ(control_->AddDevice(&context, request, &added).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  grpc::ClientContext context;
  SetDeadline(context);
  relay::v1::ListSimDevicesResponse list;
  ASSERT_TRUE(control_->ListDevices(&context, {}, &list).ok());
  ASSERT_EQ(list.devices_size(), 4);
  EXPECT_EQ(list.devices(3).device_id(), "mfp-300");
}

}  // namespace
}  // namespace relay::mfp_sim
