#ifndef RELAY_CLOUD_SERVER_TESTING_TEMP_DIR_H_
#define RELAY_CLOUD_SERVER_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace relay::cloud::testing {

// A fresh directory under the test's temporary directory, deleted with its
// contents when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "cloud_test_XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Regular files directly in `dir`.
inline int CountFiles(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

}  // namespace relay::cloud::testing

#endif  // RELAY_CLOUD_SERVER_TESTING_TEMP_DIR_H_
