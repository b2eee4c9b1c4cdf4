#include "common/ready_file.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace relay {

absl::Status WriteReadyFile(const std::string& path,
                            const std::map<std::string, std::string>& values) {
  if (path.empty()) return absl::OkStatus();
  std::string temp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(temp, std::ios::trunc);
    for (const auto& [key, value] : values) out << key << "=" << value << "\n";
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> ReadReadyFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) return absl::NotFoundError(absl::StrCat("no ready file ", path));
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (!kv.first.empty()) values[kv.first] = kv.second;
  }
  return values;
}

}  // namespace relay
