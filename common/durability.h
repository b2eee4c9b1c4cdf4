#ifndef RELAY_COMMON_DURABILITY_H_
#define RELAY_COMMON_DURABILITY_H_

namespace relay {

// How far a committed transaction must have reached when COMMIT returns.
enum class Durability {
  // On the disk (fsync of the WAL at COMMIT): survives a power failure. For
  // what we promise to keep: accepted documents, jobs, scans, final states,
  // grants.
  kFlushed,
  // In the operating system (WAL written, not fsynced): survives a crash of
  // our process, not of the machine. For bookkeeping on latency-critical paths
  // whose loss after a power failure is recovered by the protocol (a job
  // marked PRINTING falls back to QUEUED and is dispatched again; the device
  // deduplicates by job id). The WAL is append-only, so the next kFlushed
  // commit makes every earlier transaction durable too.
  kProcessCrashSafe,
};

}  // namespace relay

#endif  // RELAY_COMMON_DURABILITY_H_
