#include "bench/bench_util.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#ifndef RELAY_BENCH_REPO_DIR
#error "RELAY_BENCH_REPO_DIR must name the repository root"
#endif
#ifndef RELAY_BENCH_BIN_DIR
#error "RELAY_BENCH_BIN_DIR must name the build's binary folder"
#endif

namespace relay::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

int64_t StatusKb(const std::string& status, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    int64_t value = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &value)) return value;
  }
  return 0;
}

}  // namespace

LatencyStats Summarize(std::vector<double> samples) {
  LatencyStats stats;
  stats.count = samples.size();
  if (samples.empty()) return stats;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    size_t index = static_cast<size_t>(std::ceil(q * samples.size()));
    if (index > 0) --index;
    return samples[std::min(index, samples.size() - 1)];
  };
  stats.p50_ms = rank(0.50);
  stats.p99_ms = rank(0.99);
  stats.max_ms = samples.back();
  stats.mean_ms = std::accumulate(samples.begin(), samples.end(), 0.0) / samples.size();
  return stats;
}

absl::StatusOr<ProcSample> ReadProc(pid_t pid) {
  std::string status = ReadAll(absl::StrCat("/proc/", pid, "/status"));
  std::string stat = ReadAll(absl::StrCat("/proc/", pid, "/stat"));
  if (status.empty() || stat.empty()) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  }
  ProcSample sample;
  sample.rss_bytes = StatusKb(status, "VmRSS:") * 1024;
  sample.peak_rss_bytes = StatusKb(status, "VmHWM:") * 1024;
  sample.threads = StatusKb(status, "Threads:");
  // Fields after the command name (which may contain spaces): state is
  // field 3; utime and stime are fields 14 and 15.
  size_t close = stat.rfind(')');
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  int64_t utime = 0, stime = 0;
  if (fields.size() > 12 && absl::SimpleAtoi(fields[11], &utime) &&
      absl::SimpleAtoi(fields[12], &stime)) {
    sample.cpu_ticks = utime + stime;
  }
  return sample;
}

bool ResetPeakRss(pid_t pid) {
  std::ofstream out(absl::StrCat("/proc/", pid, "/clear_refs"));
  out << "5";
  out.close();
  return out.good();
}

double CpuTicksPerSecond() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

int64_t RaiseFdLimit(int64_t want) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (static_cast<int64_t>(limit.rlim_cur) >= want) return limit.rlim_cur;
  rlimit raised = limit;
  raised.rlim_cur = want;
  if (static_cast<int64_t>(raised.rlim_max) < want) raised.rlim_max = want;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    // Not allowed to raise the hard limit: go as far as it.
    raised.rlim_max = limit.rlim_max;
    raised.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &raised);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

void Table::Print() const {
  std::vector<size_t> width(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) width[i] = columns_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      absl::StrAppend(&out, i == 0 ? "" : "  ", cell,
                      std::string(width[i] - cell.size(), ' '));
    }
    std::cout << out << "\n";
  };
  std::cout << "\n== " << title_ << " ==\n";
  line(columns_);
  std::string rule;
  for (size_t i = 0; i < width.size(); ++i) {
    absl::StrAppend(&rule, i == 0 ? "" : "  ", std::string(width[i], '-'));
  }
  std::cout << rule << "\n";
  for (const auto& row : rows_) line(row);
  std::cout.flush();
}

std::string Table::Markdown() const {
  std::string out = absl::StrCat("**", title_, "**\n\n|");
  for (const auto& c : columns_) absl::StrAppend(&out, " ", c, " |");
  absl::StrAppend(&out, "\n|");
  for (size_t i = 0; i < columns_.size(); ++i) absl::StrAppend(&out, " --- |");
  absl::StrAppend(&out, "\n");
  for (const auto& row : rows_) {
    absl::StrAppend(&out, "|");
    for (size_t i = 0; i < columns_.size(); ++i) {
      absl::StrAppend(&out, " ", i < row.size() ? row[i] : "", " |");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string Fixed(double value, int decimals) {
  return absl::StrFormat("%.*f", decimals, value);
}

std::string Ratio(double numerator, double denominator) {
  if (!(denominator > 0) || !(numerator >= 0)) return "n/a";
  return absl::StrFormat("%.2fx", numerator / denominator);
}

std::string MiB(int64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string MachineDescription() {
  std::string model = "unknown CPU";
  for (absl::string_view line : absl::StrSplit(ReadAll("/proc/cpuinfo"), '\n')) {
    if (absl::ConsumePrefix(&line, "model name")) {
      line = absl::StripAsciiWhitespace(line);
      absl::ConsumePrefix(&line, ":");
      model = std::string(absl::StripAsciiWhitespace(line));
      break;
    }
  }
  int64_t mem_kb = StatusKb(ReadAll("/proc/meminfo"), "MemTotal:");
  utsname uts{};
  uname(&uts);
  return absl::StrFormat("%s, %d cores, %.1f GiB RAM, Linux %s", model,
                         static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)),
                         mem_kb / (1024.0 * 1024.0), uts.release);
}

std::string CommitDescription(const std::string& repo_dir) {
  std::string commit = std::string(absl::StripAsciiWhitespace(
      RunCommand(absl::StrCat("git -C '", repo_dir, "' rev-parse --short HEAD 2>/dev/null"))));
  if (commit.empty()) return "unknown";
  std::string dirty = RunCommand(absl::StrCat(
      "git -C '", repo_dir, "' status --porcelain --untracked-files=no 2>/dev/null"));
  if (!absl::StripAsciiWhitespace(dirty).empty()) absl::StrAppend(&commit, "+dirty");
  return commit;
}

void AppendToPerformanceDoc(const std::string& path, const std::string& program,
                            const std::string& mode, const std::vector<Table>& tables,
                            const std::vector<std::string>& notes) {
  if (path.empty()) return;
  bool exists = std::filesystem::exists(path);
  std::ofstream out(path, std::ios::app);
  if (!exists) {
    out << "# Performance\n\nFigures appended by `bash tools/bench.sh` (one dated section "
           "per benchmark program and run; see the top of tools/bench.sh). Every figure "
           "is compared with a baseline measured in the same run on the same machine.\n";
  }
  std::string when = absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::Now(), absl::UTCTimeZone());
  out << "\n### " << program << " — " << when << " (" << mode << ")\n\n";
  out << "- machine: " << MachineDescription() << "\n";
  out << "- commit: " << CommitDescription(RepoDir()) << "\n";
  std::string load = ReadAll("/proc/loadavg");
  out << "- load average at the end: " << absl::StripAsciiWhitespace(load) << "\n\n";
  for (const auto& table : tables) out << table.Markdown() << "\n";
  for (const auto& note : notes) out << "- " << note << "\n";
  if (!notes.empty()) out << "\n";
}

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

double NowUnixMsPrecise() {
  return absl::ToDoubleMilliseconds(absl::Now() - absl::UnixEpoch());
}

std::string RepoDir() { return RELAY_BENCH_REPO_DIR; }
std::string BinDir() { return RELAY_BENCH_BIN_DIR; }

bool TlsAvailable() {
  std::string help = RunCommand(absl::StrCat("'", BinDir(), "/mgmt_server' --help 2>&1"));
  return help.find("tls_dir") != std::string::npos;
}

}  // namespace relay::bench
