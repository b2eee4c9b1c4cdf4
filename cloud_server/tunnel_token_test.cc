#include "cloud_server/tunnel_token.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "cloud_server/sqlite_cloud_store.h"
#include "cloud_server/testing/temp_dir.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::cloud {
namespace {

using ::relay::cloud::testing::TempDir;
using ::relay::testing::FakeClock;
using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kKey(32, 'k');

TunnelClaims PrintClaims() {
  TunnelClaims c;
  c.direction = relay::v1::DIRECTION_PRINT;
  c.access_id = "job-1";
  c.gateway_id = "gw-1";
  c.device_id = "mfp-1";
  c.user_id = "alice";
  return c;
}

TunnelClaims ScanClaims() {
  TunnelClaims c;
  c.direction = relay::v1::DIRECTION_SCAN;
  c.access_id = "scan-1";
  c.gateway_id = "gw-1";
  c.device_id = "mfp-1";
  c.user_id = "bob";
  c.size = 1000;
  return c;
}

class TunnelTokenTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  TunnelTokenSigner signer_{kKey, &clock_, absl::Minutes(5)};
};

TEST_F(TunnelTokenTest, VerifiesWhatItIssued) {
  std::string token = signer_.Issue(PrintClaims());
  auto claims = signer_.Verify(token, PrintClaims());
  ASSERT_THAT(claims, IsOk());
  EXPECT_EQ(claims->access_id, "job-1");
  EXPECT_EQ(claims->user_id, "alice");
  EXPECT_EQ(claims->expires, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(claims->nonce.size(), 32u);
  // base64url: safe in any text field.
  EXPECT_EQ(token.find_first_of("+/= \n"), std::string::npos);

  auto scan = signer_.Verify(signer_.Issue(ScanClaims()), ScanClaims());
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(scan->size, 1000);
}

TEST_F(TunnelTokenTest, EachTokenHasItsOwnNonce) {
  auto a = signer_.Verify(signer_.Issue(PrintClaims()), PrintClaims());
  auto b = signer_.Verify(signer_.Issue(PrintClaims()), PrintClaims());
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(a->nonce, b->nonce);
}

TEST_F(TunnelTokenTest, RefusesForgedTokens) {
  std::string token = signer_.Issue(PrintClaims());
  // Signed with another key.
  TunnelTokenSigner other(std::string(32, 'x'), &clock_, absl::Minutes(5));
  EXPECT_THAT(signer_.Verify(other.Issue(PrintClaims()), PrintClaims()),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // Payload altered (a byte of the claims flipped).
  std::string tampered = token;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  auto status = signer_.Verify(tampered, PrintClaims());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated));
  // Truncated, empty, garbage.
  EXPECT_THAT(signer_.Verify(token.substr(0, token.size() - 4), PrintClaims()),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(signer_.Verify("", PrintClaims()),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(signer_.Verify("not.a.token", PrintClaims()),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(TunnelTokenTest, RefusesExpiredTokens) {
  std::string token = signer_.Issue(PrintClaims());
  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  EXPECT_THAT(signer_.Verify(token, PrintClaims()), IsOk());
  clock_.Advance(absl::Seconds(1));
  auto expired = signer_.Verify(token, PrintClaims());
  EXPECT_THAT(expired, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(expired.status().message()), HasSubstr("expired"));
}

TEST_F(TunnelTokenTest, RefusesTokensBoundToSomethingElse) {
  std::string token = signer_.Issue(PrintClaims());
  TunnelClaims other_job = PrintClaims();
  other_job.access_id = "job-2";
  auto status = signer_.Verify(token, other_job);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(status.status().message()), HasSubstr("job-1"));

  TunnelClaims other_gateway = PrintClaims();
  other_gateway.gateway_id = "gw-evil";
  EXPECT_THAT(signer_.Verify(token, other_gateway),
              StatusIs(absl::StatusCode::kPermissionDenied));
  TunnelClaims other_device = PrintClaims();
  other_device.device_id = "mfp-9";
  EXPECT_THAT(signer_.Verify(token, other_device),
              StatusIs(absl::StatusCode::kPermissionDenied));
  TunnelClaims as_scan = PrintClaims();
  as_scan.direction = relay::v1::DIRECTION_SCAN;
  EXPECT_THAT(signer_.Verify(token, as_scan), StatusIs(absl::StatusCode::kPermissionDenied));

  std::string scan_token = signer_.Issue(ScanClaims());
  TunnelClaims other_user = ScanClaims();
  other_user.user_id = "mallory";
  EXPECT_THAT(signer_.Verify(scan_token, other_user),
              StatusIs(absl::StatusCode::kPermissionDenied));
  TunnelClaims other_size = ScanClaims();
  other_size.size = 2000;
  EXPECT_THAT(signer_.Verify(scan_token, other_size),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(TunnelTokenTest, ReplayIsCaughtByTheNonceRecord) {
  auto store = SqliteCloudStore::Open(":memory:");
  ASSERT_THAT(store, IsOk());
  auto claims = signer_.Verify(signer_.Issue(PrintClaims()), PrintClaims());
  ASSERT_THAT(claims, IsOk());
  EXPECT_THAT((*store)->ConsumeTokenNonce(claims->nonce, claims->expires, clock_.Now()),
              IsOk());
  EXPECT_THAT((*store)->ConsumeTokenNonce(claims->nonce, claims->expires, clock_.Now()),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(TunnelTokenKeyFileTest, CreatesAPrivateKeyOnceThenReadsIt) {
  TempDir dir;
  std::string path = dir.path() + "/token.key";
  auto key = TunnelTokenSigner::LoadOrCreateKeyFile(path);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->size(), 32u);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = TunnelTokenSigner::LoadOrCreateKeyFile(path);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, *key);
}

TEST(TunnelTokenKeyFileTest, RefusesAShortKeyAndAMissingDirectory) {
  TempDir dir;
  std::string path = dir.path() + "/short.key";
  std::ofstream(path) << "tiny";
  auto key = TunnelTokenSigner::LoadOrCreateKeyFile(path);
  EXPECT_THAT(key, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("at least 32"));
  EXPECT_THAT(TunnelTokenSigner::LoadOrCreateKeyFile(dir.path() + "/no/such/dir/key"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace relay::cloud
