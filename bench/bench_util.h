#ifndef RELAY_BENCH_BENCH_UTIL_H_
#define RELAY_BENCH_BENCH_UTIL_H_

// Shared pieces of the benchmark programs in bench/: latency statistics,
// /proc readings of a process (resident memory, peak, CPU), the result table
// (printed on stdout and appended to docs/PERFORMANCE.md with the machine and
// the commit), and process limits.
//
//   Table table("Tunnel throughput", {"path", "MB/s", "ratio"});
//   table.AddRow({"relay", "812", "0.61"});
//   table.Print();
//   AppendToPerformanceDoc(doc_path, "tunnel_bench", {table}, notes);

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace relay::bench {

// Order statistics of a sample of durations (nearest rank).
struct LatencyStats {
  size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};
LatencyStats Summarize(std::vector<double> samples_ms);

// What /proc says about one process.
struct ProcSample {
  int64_t rss_bytes = 0;       // VmRSS
  int64_t peak_rss_bytes = 0;  // VmHWM
  int64_t cpu_ticks = 0;       // utime + stime (clock ticks)
  int64_t threads = 0;
};
absl::StatusOr<ProcSample> ReadProc(pid_t pid);
// Resets VmHWM to the current RSS (echo 5 > /proc/PID/clear_refs), so a later
// VmHWM is the peak of what came after.
bool ResetPeakRss(pid_t pid);
double CpuTicksPerSecond();

// Raises RLIMIT_NOFILE (soft and, when permitted, hard) to at least `want`;
// returns the soft limit in force afterwards. Children inherit it.
int64_t RaiseFdLimit(int64_t want);

// A table of figures: printed aligned on stdout, written as Markdown to the
// performance document.
class Table {
 public:
  Table(std::string title, std::vector<std::string> columns)
      : title_(std::move(title)), columns_(std::move(columns)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print() const;
  std::string Markdown() const;
  const std::string& title() const { return title_; }

 private:
  std::string title_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// "12.3" style formatting helpers.
std::string Fixed(double value, int decimals = 1);
std::string Ratio(double numerator, double denominator);  // "0.61x" or "n/a"
std::string MiB(int64_t bytes);

// One line describing the machine: CPU model, cores, memory, kernel.
std::string MachineDescription();
// Short commit of the repository at `repo_dir`, "+dirty" when it has changes.
std::string CommitDescription(const std::string& repo_dir);

// Appends a dated section (machine, commit, mode, each table, notes) to the
// Markdown file at `path` (created with a heading if missing).
void AppendToPerformanceDoc(const std::string& path, const std::string& program,
                            const std::string& mode, const std::vector<Table>& tables,
                            const std::vector<std::string>& notes);

// Seconds since the Unix epoch in milliseconds, wall clock: comparable
// between processes of one machine.
int64_t NowUnixMs();
double NowUnixMsPrecise();

// The repository root and binary folder this program was built from.
std::string RepoDir();
std::string BinDir();

// Whether the relay binaries understand --tls_dir/--insecure (issue 4).
bool TlsAvailable();

}  // namespace relay::bench

#endif  // RELAY_BENCH_BENCH_UTIL_H_
