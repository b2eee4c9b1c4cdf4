#include "cloud_server/user_directory.h"

#include <string>

#include "cloud_server/testing/temp_dir.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::cloud {
namespace {

using ::relay::cloud::testing::TempDir;
using ::relay::testing::IsOk;
using ::relay::testing::StatusIs;

class UserDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/cloud.db";
    auto store = UserStore::Open(path_);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
    directory_ = std::make_unique<UserDirectory>(store_.get(), absl::Hours(1));
  }

  std::string Add(const std::string& name, std::vector<std::string> gateways) {
    UserRecord user;
    user.name = name;
    user.gateways = std::move(gateways);
    std::string token = NewUserToken();
    user.token_sha256 = HashUserToken(token);
    EXPECT_THAT(store_->Add(user), IsOk());
    EXPECT_THAT(directory_->Reload(), IsOk());
    return token;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<UserStore> store_;
  std::unique_ptr<UserDirectory> directory_;
};

TEST_F(UserDirectoryTest, ABearerTokenNamesItsUser) {
  std::string token = Add("alice", {"gw-a"});
  EXPECT_EQ(token.size(), 4u + 64u);
  auto user = directory_->Authenticate("Bearer " + token);
  ASSERT_THAT(user, IsOk());
  EXPECT_EQ(*user, "alice");
  for (const std::string& bad : std::vector<std::string>{"", "Bearer", "Bearer " + token + "x",
                          "Basic " + token, token, "Bearer rly_", std::string(600, 'B')}) {
    EXPECT_THAT(directory_->Authenticate(bad).status(),
                StatusIs(absl::StatusCode::kUnauthenticated))
        << bad;
  }
  // Only the hash is stored.
  auto users = store_->List();
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ((*users)[0].token_sha256, HashUserToken(token));
  EXPECT_EQ((*users)[0].token_sha256.find(token), std::string::npos);
}

TEST_F(UserDirectoryTest, GatewaysAreAllowedByName) {
  Add("alice", {"gw-a", "gw-b"});
  Add("root", {"*"});
  EXPECT_TRUE(directory_->MayUseGateway("alice", "gw-a"));
  EXPECT_FALSE(directory_->MayUseGateway("alice", "gw-c"));
  EXPECT_TRUE(directory_->MayUseGateway("root", "gw-c"));
  EXPECT_FALSE(directory_->MayUseGateway("nobody", "gw-a"));
}

TEST_F(UserDirectoryTest, RotateAndRemoveRevokeTheOldToken) {
  std::string old_token = Add("alice", {"*"});
  EXPECT_EQ(RunUsersCommand({"users", "rotate", "alice"}, path_, "", ""), 0);
  ASSERT_THAT(directory_->Reload(), IsOk());
  EXPECT_FALSE(directory_->Authenticate("Bearer " + old_token).ok());
  std::string bob = Add("bob", {"*"});
  EXPECT_EQ(RunUsersCommand({"users", "remove", "bob"}, path_, "", ""), 0);
  ASSERT_THAT(directory_->Reload(), IsOk());
  EXPECT_FALSE(directory_->Authenticate("Bearer " + bob).ok());
  EXPECT_FALSE(directory_->MayUseGateway("bob", "gw-a"));
}

TEST_F(UserDirectoryTest, TheCommandValidatesItsInput) {
  EXPECT_EQ(RunUsersCommand({"users", "add", "../evil"}, path_, "*", ""), 1);
  EXPECT_EQ(RunUsersCommand({"users", "add", "carol"}, path_, "", ""), 1);  // no --gateways
  EXPECT_EQ(RunUsersCommand({"users", "add", "carol"}, path_, "gw a", ""), 1);
  EXPECT_EQ(RunUsersCommand({"users", "add", "carol"}, path_, "gw-a,*", ""), 0);
  EXPECT_EQ(RunUsersCommand({"users", "add", "carol"}, path_, "*", ""), 1);  // exists
  EXPECT_THAT(ValidateUserName("al ice"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace relay::cloud
