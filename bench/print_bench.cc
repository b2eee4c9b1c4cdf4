// print_bench: push-to-print latency through the whole stack.
//
// Starts the real mgmt_server, cloud_server, mfp_sim (print time 0) and
// gateway on loopback (integration_tests/relay_stack.h), uploads a 100 KiB
// document and prints it with 1, 8 and 64 jobs in flight. For each job:
//   accepted   = SubmitPrint answered (the job is stored, QUEUED),
//   first byte = the device saw the first data byte (mfp_sim's PrintedJob.
//                first_byte_unix_us; same machine, same clock),
//   done       = WatchJob delivered DONE to the client.
// Then the same for the registration swap path: the target device is not
// registered and every slot is taken, so the gateway swaps it in (and back
// after the job).
//
// Baseline, same run: the same document sent straight to the same simulated
// device with MfpDevice.Print from this process (what printing on the LAN
// without any relay costs), with the same number of jobs in flight.
//
//   print_bench [--jobs=200] [--doc=docs/PERFORMANCE.md]
//   print_bench --smoke

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "integration_tests/relay_stack.h"
#include "relay/v1/lan.grpc.pb.h"

ABSL_FLAG(bool, smoke, false, "a quick run that only checks the benchmark works");
ABSL_FLAG(std::string, concurrency, "1,8,64", "jobs in flight, one phase each");
ABSL_FLAG(int, jobs, 200, "jobs per phase (at least 2x the concurrency)");
ABSL_FLAG(int, swap_jobs, 30, "jobs of the swap phase (one at a time)");
ABSL_FLAG(int64_t, document_bytes, 100 * 1024, "size of the printed document");
ABSL_FLAG(std::string, doc, "", "append the figures to this Markdown file");

namespace relay::bench {
namespace {

using relay::integration::RelayStack;

double NowUs() { return static_cast<double>(absl::ToUnixMicros(absl::Now())); }

struct JobTimes {
  std::string job_id;
  std::string device_id;
  double submit_start_us = 0;
  double accepted_us = 0;
  double done_us = 0;
  bool ok = false;
};

struct PhaseResult {
  std::string label;
  int concurrency = 0;
  int jobs = 0;
  int failed = 0;
  double seconds = 0;
  LatencyStats accept;      // SubmitPrint round trip
  LatencyStats first_byte;  // accepted -> first byte at the device
  LatencyStats done;        // accepted -> DONE seen by the client
};

// Runs `total` jobs with `concurrency` in flight; `run_one(i)` runs job i.
double RunClosedLoop(int total, int concurrency, const std::function<void(int)>& run_one) {
  std::atomic<int> next{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < total; i = next.fetch_add(1)) run_one(i);
    });
  }
  for (auto& t : workers) t.join();
  return absl::ToDoubleSeconds(absl::Now() - start);
}

PhaseResult Summarize(const std::string& label, int concurrency, double seconds,
                      const std::vector<JobTimes>& jobs,
                      const std::map<std::string, relay::v1::PrintedJob>& printed) {
  PhaseResult result;
  result.label = label;
  result.concurrency = concurrency;
  result.jobs = static_cast<int>(jobs.size());
  result.seconds = seconds;
  std::vector<double> accept, first, done;
  for (const JobTimes& job : jobs) {
    auto it = printed.find(job.job_id);
    if (!job.ok || it == printed.end() || it->second.first_byte_unix_us() == 0) {
      ++result.failed;
      continue;
    }
    accept.push_back((job.accepted_us - job.submit_start_us) / 1000.0);
    first.push_back((it->second.first_byte_unix_us() - job.accepted_us) / 1000.0);
    done.push_back((job.done_us - job.accepted_us) / 1000.0);
  }
  result.accept = bench::Summarize(accept);
  result.first_byte = bench::Summarize(first);
  result.done = bench::Summarize(done);
  return result;
}

absl::StatusOr<std::map<std::string, relay::v1::PrintedJob>> PrintedJobs(
    RelayStack& stack, const std::vector<std::string>& devices) {
  std::map<std::string, relay::v1::PrintedJob> all;
  for (const auto& device : devices) {
    auto printed = stack.Printed(device);
    if (!printed.ok()) return printed.status();
    for (const auto& job : *printed) all[job.job_id()] = job;
  }
  return all;
}

// One job through the relay: submit, follow to the end.
JobTimes RelayJob(RelayStack& stack, const std::string& document_id,
                  const std::string& device_id) {
  JobTimes times;
  times.device_id = device_id;
  times.submit_start_us = NowUs();
  auto job = stack.SubmitPrint(document_id, device_id);
  times.accepted_us = NowUs();
  if (!job.ok()) {
    std::cerr << "submit failed: " << job.status() << "\n";
    return times;
  }
  times.job_id = job->job_id();
  relay::v1::Job final_job;
  auto states = stack.WatchToEnd(job->job_id(), &final_job, absl::Seconds(60));
  times.done_us = NowUs();
  times.ok = states.ok() && final_job.state() == relay::v1::JOB_STATE_DONE;
  if (!times.ok) {
    std::cerr << "job " << job->job_id() << " did not complete: "
              << (states.ok() ? final_job.reason() : states.status().ToString()) << "\n";
  }
  return times;
}

// The baseline: the document straight to the device, no relay.
JobTimes DirectJob(relay::v1::MfpDevice::Stub* device, const std::string& device_id,
                   const std::string& job_id, const std::string& content) {
  JobTimes times;
  times.job_id = job_id;
  times.device_id = device_id;
  times.submit_start_us = NowUs();
  times.accepted_us = times.submit_start_us;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  relay::v1::PrintResult result;
  auto writer = device->Print(&context, &result);
  relay::v1::PrintRequest request;
  relay::v1::PrintHeader* header = request.mutable_header();
  header->set_device_id(device_id);
  header->set_job_id(job_id);
  header->set_size(static_cast<int64_t>(content.size()));
  header->set_content_type("application/pdf");
  header->set_document_name("bench.pdf");
  bool ok = writer->Write(request);
  constexpr size_t kChunk = 256 * 1024;  // the relay's chunk size
  for (size_t offset = 0; ok && offset < content.size(); offset += kChunk) {
    request.set_data(content.substr(offset, kChunk));
    ok = writer->Write(request);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  times.done_us = NowUs();
  times.ok = ok && status.ok();
  return times;
}

void AddRows(Table& table, const PhaseResult& r) {
  table.AddRow({r.label, absl::StrCat(r.concurrency), absl::StrCat(r.jobs - r.failed, "/", r.jobs),
                Fixed(r.first_byte.p50_ms, 2), Fixed(r.first_byte.p99_ms, 2),
                Fixed(r.done.p50_ms, 2), Fixed(r.done.p99_ms, 2),
                Fixed(r.seconds > 0 ? (r.jobs - r.failed) / r.seconds : 0, 1),
                Fixed(r.accept.p50_ms, 2)});
}

int Run() {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  std::vector<int> levels;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',')) {
    int c;
    if (absl::SimpleAtoi(part, &c) && c > 0) levels.push_back(c);
  }
  int jobs_per_phase = absl::GetFlag(FLAGS_jobs);
  int swap_jobs = absl::GetFlag(FLAGS_swap_jobs);
  if (smoke) {
    levels = {1, 8};
    jobs_per_phase = 16;
    swap_jobs = 2;
  }

  relay::integration::StackOptions options;
  options.devices = 7;
  options.nmax = 5;
  options.mode = "swap";
  options.after_job = "revert";
  options.print_time = absl::ZeroDuration();
  // The device hashes and drops what it prints: its disk is not the relay's cost.
  options.sim_args = {"--keep_printed=false"};
  options.discovery_interval = absl::Seconds(1);
  auto stack_or = RelayStack::Start(options);
  if (!stack_or.ok()) {
    std::cerr << "cannot start the stack: " << stack_or.status() << "\n";
    return 1;
  }
  RelayStack& stack = **stack_or;
  absl::Status listed = stack.WaitForPrinters(
      [](const std::vector<relay::v1::Printer>& printers) {
        int registered = 0;
        for (const auto& p : printers) registered += p.device().registered() && p.gateway_online();
        return printers.size() >= 7 && registered == 5;
      },
      absl::Seconds(30));
  if (!listed.ok()) {
    std::cerr << "the printers never showed up: " << listed << "\n";
    return 1;
  }
  auto registered = stack.RegisteredDevices();
  if (!registered.ok() || registered->empty()) return 1;
  std::vector<std::string> all_devices;
  for (int i = 0; i < 7; ++i) all_devices.push_back(absl::StrCat("mfp-", 201 + i));
  std::string unregistered;
  for (const auto& d : all_devices) {
    if (std::find(registered->begin(), registered->end(), d) == registered->end()) {
      unregistered = d;
    }
  }

  const std::string content =
      relay::integration::MakeDocument(absl::GetFlag(FLAGS_document_bytes), 7);
  auto document = stack.Upload(content, "bench.pdf");
  if (!document.ok()) {
    std::cerr << "upload failed: " << document.status() << "\n";
    return 1;
  }
  auto device_channel =
      grpc::CreateChannel(stack.sim_address(), grpc::InsecureChannelCredentials());
  auto device_stub = relay::v1::MfpDevice::NewStub(device_channel);

  // Warm-up: connections, the gateway's tunnel channel, page cache.
  for (int i = 0; i < 3; ++i) RelayJob(stack, document->document_id(), (*registered)[0]);

  std::vector<PhaseResult> relay_results, direct_results;
  int direct_serial = 0;
  for (int c : levels) {
    int total = std::max(jobs_per_phase, 2 * c);
    std::vector<JobTimes> relay_jobs(total), direct_jobs(total);
    double relay_s = RunClosedLoop(total, c, [&](int i) {
      relay_jobs[i] = RelayJob(stack, document->document_id(),
                               (*registered)[i % registered->size()]);
    });
    int base = direct_serial;
    direct_serial += total;
    double direct_s = RunClosedLoop(total, c, [&](int i) {
      const std::string& device = (*registered)[i % registered->size()];
      direct_jobs[i] = DirectJob(device_stub.get(), device,
                                 absl::StrCat("direct-", base + i), content);
    });
    auto printed = PrintedJobs(stack, all_devices);
    if (!printed.ok()) return 1;
    relay_results.push_back(
        Summarize("relay (registered device)", c, relay_s, relay_jobs, *printed));
    direct_results.push_back(Summarize("direct to device (baseline)", c, direct_s,
                                       direct_jobs, *printed));
    std::cerr << "concurrency " << c << " done\n";
  }

  // Swap path: one job at a time to a device that is not registered while
  // every slot is taken. After each job the swap is reverted; wait for that
  // so every job swaps.
  PhaseResult swap_result;
  if (!unregistered.empty() && swap_jobs > 0) {
    std::vector<JobTimes> swap(swap_jobs);
    double swap_s = 0;
    for (int i = 0; i < swap_jobs; ++i) {
      absl::Status reverted = stack.WaitForPrinters(
          [&](const std::vector<relay::v1::Printer>& printers) {
            for (const auto& p : printers) {
              if (p.device().device_id() == unregistered) return !p.device().registered();
            }
            return false;
          },
          absl::Seconds(10));
      if (!reverted.ok()) std::cerr << "swap not reverted: " << reverted << "\n";
      absl::Time start = absl::Now();
      swap[i] = RelayJob(stack, document->document_id(), unregistered);
      swap_s += absl::ToDoubleSeconds(absl::Now() - start);
    }
    auto printed = PrintedJobs(stack, all_devices);
    if (!printed.ok()) return 1;
    swap_result = Summarize(absl::StrCat("relay, swap in ", unregistered), 1, swap_s, swap, *printed);
  }

  Table table(absl::StrCat("Push to print, ", absl::GetFlag(FLAGS_document_bytes) / 1024,
                           " KiB document, ", TlsAvailable() ? "TLS between the services" : "plaintext",
                           " (ms from the cloud accepting the job)"),
              {"path", "in flight", "jobs ok", "first byte p50", "first byte p99", "done p50",
               "done p99", "jobs/s", "SubmitPrint p50"});
  Table ratios("Push to print: relay / direct to the device (same run)",
               {"in flight", "first byte p50 ratio", "done p50 ratio", "done p99 ratio",
                "jobs/s ratio", "bar: first byte p50<2, p99<10 (1 in flight)"});
  for (size_t i = 0; i < relay_results.size(); ++i) {
    const PhaseResult& r = relay_results[i];
    const PhaseResult& d = direct_results[i];
    AddRows(table, r);
    AddRows(table, d);
    double r_rate = r.seconds > 0 ? (r.jobs - r.failed) / r.seconds : 0;
    double d_rate = d.seconds > 0 ? (d.jobs - d.failed) / d.seconds : 0;
    std::string bar = "";
    if (r.concurrency == 1) {
      bar = r.first_byte.p50_ms < 2 && r.first_byte.p99_ms < 10 ? "met" : "missed";
    }
    ratios.AddRow({absl::StrCat(r.concurrency), Ratio(r.first_byte.p50_ms, d.first_byte.p50_ms),
                   Ratio(r.done.p50_ms, d.done.p50_ms), Ratio(r.done.p99_ms, d.done.p99_ms),
                   Ratio(r_rate, d_rate), bar});
  }
  if (swap_result.jobs > 0) {
    AddRows(table, swap_result);
    if (!direct_results.empty()) {
      const PhaseResult& d = direct_results[0];
      ratios.AddRow({"1 (swap)", Ratio(swap_result.first_byte.p50_ms, d.first_byte.p50_ms),
                     Ratio(swap_result.done.p50_ms, d.done.p50_ms),
                     Ratio(swap_result.done.p99_ms, d.done.p99_ms), "", ""});
    }
  }
  table.Print();
  ratios.Print();
  std::vector<std::string> notes = {
      "relay: accepted = SubmitPrint answered; first byte = mfp_sim saw the first data byte "
      "(PrintedJob.first_byte_unix_us); done = WatchJob delivered DONE. direct: the bench "
      "itself sends the document with MfpDevice.Print (same chunks), timed from the call.",
      "mfp_sim --print_time=0; 5 of 7 devices registered; jobs spread round-robin over the "
      "registered devices; a device prints one job at a time (later ones wait for it)."};
  AppendToPerformanceDoc(absl::GetFlag(FLAGS_doc), "print_bench", smoke ? "smoke" : "full",
                         {table, ratios}, notes);
  int failed = swap_result.failed;
  for (const auto& r : relay_results) failed += r.failed;
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace relay::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("print_bench: push-to-print latency through the whole stack");
  absl::ParseCommandLine(argc, argv);
  return relay::bench::Run();
}
