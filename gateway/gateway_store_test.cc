#include "gateway/gateway_store.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "gateway/gateway_identity.h"
#include "gateway/scan_spool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using relay::testing::StatusIs;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "gwstoreXXXXXX";
  char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

PendingScan Scan(const std::string& id, int64_t accepted_ms) {
  PendingScan scan;
  scan.scan_id = id;
  scan.device_id = "mfp-1";
  scan.user_id = "alice";
  scan.content_type = "application/pdf";
  scan.size = 42;
  scan.sha256_hex = "ab";
  scan.spool_path = "/spool/" + id + ".bin";
  scan.accepted = absl::FromUnixMillis(accepted_ms);
  return scan;
}

TEST(GatewayStoreTest, DeliveredJobsAreRemembered) {
  auto store = GatewayStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  EXPECT_FALSE(*(*store)->IsJobDelivered("job-1"));
  ASSERT_THAT((*store)->MarkJobDelivered("job-1", "mfp-1", absl::Now()), IsOk());
  ASSERT_THAT((*store)->MarkJobDelivered("job-1", "mfp-1", absl::Now()), IsOk());
  EXPECT_TRUE(*(*store)->IsJobDelivered("job-1"));
  EXPECT_FALSE(*(*store)->IsJobDelivered("job-2"));
}

TEST(GatewayStoreTest, PendingScansListOldestFirstAndMoveToUploaded) {
  auto store = GatewayStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->AddPendingScan(Scan("s2", 2000)), IsOk());
  ASSERT_THAT((*store)->AddPendingScan(Scan("s1", 1000)), IsOk());
  EXPECT_THAT((*store)->AddPendingScan(Scan("s1", 1000)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  auto scans = (*store)->ListPendingScans();
  ASSERT_THAT(scans, IsOk());
  ASSERT_EQ(scans->size(), 2u);
  EXPECT_EQ((*scans)[0], Scan("s1", 1000));
  EXPECT_EQ((*scans)[1].scan_id, "s2");

  ASSERT_THAT((*store)->SetScanAttempts("s1", 3), IsOk());
  EXPECT_EQ((*(*store)->GetPendingScan("s1"))->attempts, 3);

  ASSERT_THAT((*store)->MarkScanUploaded("s1", "ab", absl::Now()), IsOk());
  EXPECT_FALSE((*(*store)->GetPendingScan("s1")).has_value());
  EXPECT_EQ(*(*(*store)->UploadedScanSha("s1")), "ab");
  EXPECT_FALSE((*(*store)->UploadedScanSha("s2")).has_value());
  EXPECT_EQ((*store)->ListPendingScans()->size(), 1u);
}

TEST(GatewayStoreTest, StateSurvivesReopening) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/gateway.db";
  {
    auto store = GatewayStore::Open(path);
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->MarkJobDelivered("job-1", "mfp-1", absl::Now()), IsOk());
    ASSERT_THAT((*store)->AddPendingScan(Scan("s1", 1000)), IsOk());
  }
  auto store = GatewayStore::Open(path);
  ASSERT_THAT(store, IsOk());
  EXPECT_TRUE(*(*store)->IsJobDelivered("job-1"));
  EXPECT_EQ((*store)->ListPendingScans()->size(), 1u);
}

TEST(GatewayIdentityTest, GeneratesOnceThenReuses) {
  auto store = GatewayStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  auto first = LoadOrCreateGatewayIdentity(store->get(), "", "lan-default");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->gateway_id.rfind("gw-", 0), 0u);
  EXPECT_EQ(first->gateway_id.size(), 3u + 16u);
  EXPECT_EQ(first->lan_id, "lan-default");
  auto second = LoadOrCreateGatewayIdentity(store->get(), "", "lan-default");
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->gateway_id, first->gateway_id);
}

TEST(GatewayIdentityTest, OverrideWinsAndIsSaved) {
  auto store = GatewayStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT(LoadOrCreateGatewayIdentity(store->get(), "", "lan-a"), IsOk());
  auto overridden = LoadOrCreateGatewayIdentity(store->get(), "gw-office", "lan-a");
  ASSERT_THAT(overridden, IsOk());
  EXPECT_EQ(overridden->gateway_id, "gw-office");
  EXPECT_EQ(LoadOrCreateGatewayIdentity(store->get(), "", "lan-a")->gateway_id, "gw-office");
}

TEST(GatewayIdentityTest, RejectsBadIds) {
  auto store = GatewayStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT(LoadOrCreateGatewayIdentity(store->get(), "gw one", "lan"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LoadOrCreateGatewayIdentity(store->get(), "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ScanSpoolTest, CommitsDurablyWithSizeAndSha) {
  ScanSpool spool(MakeTempDir() + "/spool");
  ASSERT_THAT(spool.Init(), IsOk());
  auto writer = spool.Create("scan-1");
  ASSERT_THAT(writer, IsOk());
  ASSERT_THAT((*writer)->Append("page one,"), IsOk());
  ASSERT_THAT((*writer)->Append("page two"), IsOk());
  auto path = (*writer)->Commit();
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(*path, spool.PathFor("scan-1"));
  EXPECT_EQ(ReadFile(*path), "page one,page two");
  EXPECT_EQ((*writer)->size(), 17);
  EXPECT_EQ((*writer)->sha256_hex(), Sha256::HexOf("page one,page two"));
  writer->reset();
  EXPECT_EQ(ReadFile(*path), "page one,page two");  // committed files stay
  ASSERT_THAT(spool.Remove("scan-1"), IsOk());
  EXPECT_NE(access(path->c_str(), F_OK), 0);
  EXPECT_THAT(spool.Remove("scan-1"), IsOk());
}

TEST(ScanSpoolTest, AnUncommittedScanLeavesNothing) {
  ScanSpool spool(MakeTempDir() + "/spool");
  ASSERT_THAT(spool.Init(), IsOk());
  {
    auto writer = spool.Create("scan-2");
    ASSERT_THAT(writer, IsOk());
    ASSERT_THAT((*writer)->Append("partial"), IsOk());
  }
  EXPECT_NE(access(spool.PathFor("scan-2").c_str(), F_OK), 0);
}

TEST(ScanSpoolTest, RefusesIdsThatWouldEscapeTheDirectory) {
  ScanSpool spool(MakeTempDir() + "/spool");
  ASSERT_THAT(spool.Init(), IsOk());
  EXPECT_THAT(spool.Create("../etc/passwd"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(spool.Create("a/b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(spool.Create(".hidden"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(spool.Create(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay::gateway
