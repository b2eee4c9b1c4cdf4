#include "gateway/tunnel_frames.h"

#include <cctype>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::testing::IsOk;
using relay::testing::StatusIs;
using relay::v1::TunnelDown;

TunnelDown Accepted(int64_t size, bool already_done = false) {
  TunnelDown f;
  f.mutable_accepted()->set_size(size);
  f.mutable_accepted()->set_already_done(already_done);
  return f;
}
TunnelDown Chunk(int64_t offset, const std::string& data) {
  TunnelDown f;
  f.mutable_data()->set_offset(offset);
  f.mutable_data()->set_data(data);
  return f;
}
TunnelDown End(int64_t total, const std::string& sha = "") {
  TunnelDown f;
  f.mutable_end()->set_total_size(total);
  f.mutable_end()->set_sha256_hex(sha);
  return f;
}

TEST(PrintFrameValidatorTest, AcceptsAWellFormedDocument) {
  PrintFrameValidator v;
  EXPECT_THAT(v.Check(Accepted(11)), IsOk());
  EXPECT_THAT(v.Check(Chunk(0, "hello ")), IsOk());
  EXPECT_THAT(v.Check(Chunk(6, "world")), IsOk());
  EXPECT_FALSE(v.ended());
  EXPECT_THAT(v.Check(End(11, Sha256::HexOf("hello world"))), IsOk());
  EXPECT_TRUE(v.ended());
  EXPECT_EQ(v.received(), 11);
  EXPECT_EQ(v.sha256_hex(), Sha256::HexOf("hello world"));
}

TEST(PrintFrameValidatorTest, AcceptsAnEmptyDocumentAndUppercaseSha) {
  PrintFrameValidator v;
  EXPECT_THAT(v.Check(Accepted(0)), IsOk());
  std::string sha = Sha256::HexOf("");
  for (char& c : sha) c = static_cast<char>(toupper(c));
  EXPECT_THAT(v.Check(End(0, sha)), IsOk());
}

TEST(PrintFrameValidatorTest, AlreadyDoneEndsAtOnce) {
  PrintFrameValidator v;
  EXPECT_THAT(v.Check(Accepted(0, true)), IsOk());
  EXPECT_TRUE(v.already_done());
  EXPECT_TRUE(v.ended());
  EXPECT_THAT(v.Check(Chunk(0, "x")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PrintFrameValidatorTest, RejectsFramesInTheWrongState) {
  PrintFrameValidator v;
  EXPECT_THAT(v.Check(Chunk(0, "x")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.Check(End(0)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.Check(TunnelDown()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.Check(Accepted(1)), IsOk());
  EXPECT_THAT(v.Check(Accepted(1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.Check(Chunk(0, "x")), IsOk());
  EXPECT_THAT(v.Check(End(1)), IsOk());
  EXPECT_THAT(v.Check(Chunk(1, "y")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.Check(End(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PrintFrameValidatorTest, RejectsGapsOverlapsAndExcess) {
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(10)), IsOk());
    ASSERT_THAT(v.Check(Chunk(0, "abc")), IsOk());
    EXPECT_THAT(v.Check(Chunk(4, "d")), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(v.Check(Chunk(2, "d")), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(v.received(), 3);
  }
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(3)), IsOk());
    EXPECT_THAT(v.Check(Chunk(0, "abcd")), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(-1)), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(PrintFrameValidatorTest, RejectsAnIncompleteOrCorruptDocument) {
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(5)), IsOk());
    ASSERT_THAT(v.Check(Chunk(0, "abc")), IsOk());
    EXPECT_THAT(v.Check(End(3)), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(3)), IsOk());
    ASSERT_THAT(v.Check(Chunk(0, "abc")), IsOk());
    EXPECT_THAT(v.Check(End(4)), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  {
    PrintFrameValidator v;
    ASSERT_THAT(v.Check(Accepted(3)), IsOk());
    ASSERT_THAT(v.Check(Chunk(0, "abc")), IsOk());
    EXPECT_THAT(v.Check(End(3, Sha256::HexOf("abd"))),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(PrintFrameValidatorTest, WithoutHashingItPassesOnTheAnnouncedSha) {
  PrintFrameValidator v;
  ASSERT_THAT(v.Check(Accepted(3)), IsOk());
  v.SkipHashing();
  ASSERT_THAT(v.Check(Chunk(0, "abc")), IsOk());
  // The device's checksum is compared with this one by the caller.
  const std::string announced = Sha256::HexOf("abd");
  std::string upper = announced;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_THAT(v.Check(End(3, upper)), IsOk());
  EXPECT_EQ(v.sha256_hex(), announced);
  EXPECT_TRUE(v.ended());
}

}  // namespace
}  // namespace relay::gateway
