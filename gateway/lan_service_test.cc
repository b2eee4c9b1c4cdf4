// LanService (GatewayLan.SubmitScan) in an in-process server.

#include "gateway/lan_service.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LanServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "gwlanXXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    spool_ = std::make_unique<ScanSpool>(pattern + "/spool");
    ASSERT_THAT(spool_->Init(), IsOk());
    auto store = GatewayStore::Open(":memory:");
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    service_ = std::make_unique<LanService>(
        LanService::Options{"gw-test", 1000}, spool_.get(), store_.get(), &clock_,
        [](const std::string& id) { return id == "mfp-1"; },
        [this](const PendingScan& scan) {
          absl::MutexLock lock(&mu_);
          accepted_.push_back(scan);
        });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = relay::v1::GatewayLan::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  // Sends `parts` after `header` (if set); returns the status and receipt.
  grpc::Status Submit(const relay::v1::ScanHeader* header,
                      const std::vector<std::string>& parts,
                      relay::v1::ScanReceipt* receipt) {
    grpc::ClientContext context;
    auto writer = stub_->SubmitScan(&context, receipt);
    if (header != nullptr) {
      relay::v1::ScanUploadRequest first;
      *first.mutable_header() = *header;
      writer->Write(first);
    }
    for (const std::string& part : parts) {
      relay::v1::ScanUploadRequest data;
      data.set_data(part);
      if (!writer->Write(data)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  relay::v1::ScanHeader Header(const std::string& scan_id, int64_t size) {
    relay::v1::ScanHeader h;
    h.set_device_id("mfp-1");
    h.set_user_id("bob");
    h.set_scan_id(scan_id);
    h.set_content_type("application/pdf");
    h.set_size(size);
    return h;
  }

  std::vector<PendingScan> accepted() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }

  relay::testing::FakeClock clock_;
  std::unique_ptr<ScanSpool> spool_;
  std::unique_ptr<GatewayStore> store_;
  std::unique_ptr<LanService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<relay::v1::GatewayLan::Stub> stub_;
  absl::Mutex mu_;
  std::vector<PendingScan> accepted_ ABSL_GUARDED_BY(mu_);
};

TEST_F(LanServiceTest, SpoolsRecordsAndAcknowledgesAScan) {
  relay::v1::ScanHeader header = Header("scan-1", 11);
  relay::v1::ScanReceipt receipt;
  grpc::Status status = Submit(&header, {"hello", " world"}, &receipt);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(receipt.scan_id(), "scan-1");
  EXPECT_EQ(receipt.sha256_hex(), Sha256::HexOf("hello world"));
  // Durable before the receipt: the file and the row exist.
  EXPECT_EQ(ReadFile(spool_->PathFor("scan-1")), "hello world");
  auto row = store_->GetPendingScan("scan-1");
  ASSERT_THAT(row, IsOk());
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->user_id, "bob");
  EXPECT_EQ((*row)->size, 11);
  EXPECT_EQ((*row)->spool_path, spool_->PathFor("scan-1"));
  ASSERT_EQ(accepted().size(), 1u);
  EXPECT_EQ(accepted()[0].sha256_hex, Sha256::HexOf("hello world"));
}

TEST_F(LanServiceTest, AResubmittedScanIsStoredOnce) {
  relay::v1::ScanHeader header = Header("scan-1", 5);
  relay::v1::ScanReceipt first, second;
  ASSERT_TRUE(Submit(&header, {"hello"}, &first).ok());
  ASSERT_TRUE(Submit(&header, {"hello"}, &second).ok());
  EXPECT_EQ(second.sha256_hex(), first.sha256_hex());
  EXPECT_EQ(accepted().size(), 1u);
}

TEST_F(LanServiceTest, AScanWithoutIdGetsOne) {
  relay::v1::ScanHeader header = Header("", 2);
  relay::v1::ScanReceipt receipt;
  ASSERT_TRUE(Submit(&header, {"ab"}, &receipt).ok());
  EXPECT_EQ(receipt.scan_id().rfind("scan-", 0), 0u);
}

TEST_F(LanServiceTest, RejectsBadScansAndKeepsNothing) {
  relay::v1::ScanReceipt receipt;
  relay::v1::ScanHeader unknown = Header("scan-2", 2);
  unknown.set_device_id("mfp-404");
  EXPECT_EQ(Submit(&unknown, {"ab"}, &receipt).error_code(), grpc::StatusCode::NOT_FOUND);

  relay::v1::ScanHeader too_big = Header("scan-3", 5000);
  EXPECT_EQ(Submit(&too_big, {"ab"}, &receipt).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  relay::v1::ScanHeader unannounced = Header("scan-4", 0);
  EXPECT_EQ(Submit(&unannounced, {std::string(600, 'a'), std::string(600, 'b')}, &receipt)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  relay::v1::ScanHeader short_scan = Header("scan-5", 10);
  EXPECT_EQ(Submit(&short_scan, {"abc"}, &receipt).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  relay::v1::ScanHeader traversal = Header("../../etc/x", 2);
  EXPECT_EQ(Submit(&traversal, {"ab"}, &receipt).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(Submit(nullptr, {"ab"}, &receipt).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_TRUE(accepted().empty());
  EXPECT_TRUE(store_->ListPendingScans()->empty());
  for (const char* id : {"scan-3", "scan-4", "scan-5"}) {
    EXPECT_NE(access(spool_->PathFor(id).c_str(), F_OK), 0) << id;
  }
}

}  // namespace
}  // namespace relay::gateway
