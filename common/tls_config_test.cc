#include "common/tls_config.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay {
namespace {

using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseGatewayUriTest, AcceptsOnlyASafeId) {
  auto id = ParseGatewayUri("relay-gateway://gw-demo.1_a");
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(*id, "gw-demo.1_a");
  for (const char* bad :
       {"", "relay-gateway://", "relay-gateway://gw/other", "relay-gateway://gw a",
        "https://gw-demo", "relay-gateway:gw", "relay-gateway://gw\n",
        "relay-service://mgmt"}) {
    EXPECT_FALSE(ParseGatewayUri(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseGatewayUri("relay-gateway://" + std::string(129, 'a')).ok());
}

TEST(CheckGatewayPeerTest, TheCertificateDecides) {
  PeerIdentity gw;
  gw.authenticated = true;
  gw.gateway_id = "gw-a";
  EXPECT_THAT(CheckGatewayPeer(gw, true, "gw-a"), IsOk());
  absl::Status other = CheckGatewayPeer(gw, true, "gw-b");
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(other.message()), HasSubstr("certificate says gw-a, request says gw-b"));
  PeerIdentity none;
  EXPECT_THAT(CheckGatewayPeer(none, true, "gw-a"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  PeerIdentity service;
  service.authenticated = true;
  service.service = "cloud";
  EXPECT_THAT(CheckGatewayPeer(service, true, "gw-a"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // --insecure: no identities to check.
  EXPECT_THAT(CheckGatewayPeer(none, false, "gw-a"), IsOk());
}

TEST(CheckServicePeerTest, OnlyTheNamedService) {
  PeerIdentity mgmt;
  mgmt.authenticated = true;
  mgmt.service = "mgmt";
  EXPECT_THAT(CheckServicePeer(mgmt, true, kMgmtService), IsOk());
  EXPECT_THAT(CheckServicePeer(mgmt, true, kCloudService),
              StatusIs(absl::StatusCode::kPermissionDenied));
  PeerIdentity gw;
  gw.authenticated = true;
  gw.gateway_id = "mgmt";  // a gateway named like a service is still a gateway
  EXPECT_THAT(CheckServicePeer(gw, true, kMgmtService),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckServicePeer(PeerIdentity(), false, kMgmtService), IsOk());
}

TEST(TlsConfigTest, MissingFilesSayWhatToDo) {
  auto tls = TlsConfig::Load("/nonexistent-dir", "mgmt");
  EXPECT_THAT(tls.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(tls.status().message()), HasSubstr("make_dev_certs.sh"));
  EXPECT_TRUE(TlsConfig::Insecure()->insecure());
  EXPECT_THAT(InspectCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay
