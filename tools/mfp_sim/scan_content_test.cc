#include "tools/mfp_sim/scan_content.h"

#include "gtest/gtest.h"

namespace relay::mfp_sim {
namespace {

TEST(ScanContentTest, DeterministicSizedAndDistinct) {
  std::string a = ScanPage("scan-1", 0, 10000);
  EXPECT_EQ(a.size(), 10000u);
  EXPECT_EQ(a, ScanPage("scan-1", 0, 10000));
  EXPECT_EQ(a.rfind("SIMSCAN scan=scan-1 page=0\n", 0), 0u);
  EXPECT_NE(a, ScanPage("scan-1", 1, 10000));
  EXPECT_NE(a, ScanPage("scan-2", 0, 10000));
  EXPECT_EQ(ScanPage("scan-1", 0, 5), "SIMSC");
  EXPECT_EQ(ScanPage("scan-1", 0, 0), "");
}

}  // namespace
}  // namespace relay::mfp_sim
