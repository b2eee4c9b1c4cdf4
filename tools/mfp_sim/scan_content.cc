#include "tools/mfp_sim/scan_content.h"

#include "absl/strings/str_cat.h"

namespace relay::mfp_sim {
namespace {

// FNV-1a: a stable hash (std::hash may differ between builds).
uint64_t Fnv1a(absl::string_view data, uint64_t seed) {
  uint64_t hash = 14695981039346656037ULL ^ seed;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string ScanPage(absl::string_view scan_id, int page, int64_t bytes) {
  if (bytes <= 0) return std::string();
  std::string content = absl::StrCat("SIMSCAN scan=", scan_id, " page=", page, "\n");
  if (static_cast<int64_t>(content.size()) > bytes) content.resize(bytes);
  content.reserve(bytes);
  uint64_t state = Fnv1a(scan_id, static_cast<uint64_t>(page));
  while (static_cast<int64_t>(content.size()) < bytes) {
    uint64_t word = SplitMix64(state);
    for (int i = 0; i < 8 && static_cast<int64_t>(content.size()) < bytes; ++i) {
      content.push_back(static_cast<char>(word >> (8 * i)));
    }
  }
  return content;
}

}  // namespace relay::mfp_sim
