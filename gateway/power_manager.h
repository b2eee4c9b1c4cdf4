#ifndef RELAY_GATEWAY_POWER_MANAGER_H_
#define RELAY_GATEWAY_POWER_MANAGER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "gateway/wake_on_lan.h"

namespace relay::gateway {

// Power-saving mode of a gateway (related design 1). Asleep, the gateway has
// closed its session to the management server and paused discovery
// (`Hooks::enter`); only its LAN listener (GatewayLan) and a UDP listener for
// Wake-on-LAN magic packets stay up. It falls asleep on command (Sleep, from
// GatewayLan.Sleep / `gateway sleep`) or after `power_save_after` without an
// access; it wakes on a magic packet for its own MAC, or when a substitute
// gateway forwards it a tunnel request (WakeThen: wake, wait for the session,
// then handle it).
//
//   PowerManager power({id, mac, "127.0.0.1:0", absl::Minutes(30)},
//                      {.enter = [&] { session.Pause(); },
//                       .leave = [&] { session.Resume(); }, ...}, clock);
//   RETURN_IF_ERROR(power.Start());   // binds the UDP port
//   power.Touch();                    // on every access
class PowerManager {
 public:
  struct Options {
    std::string gateway_id;
    MacAddress mac{};
    // host:port of the UDP magic-packet listener; port 0 picks one.
    std::string wol_listen = "127.0.0.1:0";
    // Idle time before power saving; zero: only on command.
    absl::Duration power_save_after = absl::ZeroDuration();
  };
  struct Hooks {
    // Close the session and pause discovery / reopen and resume. Must not
    // block for long.
    std::function<void()> enter;
    std::function<void()> leave;
    // Accesses in progress: the idle timer does not put the gateway to sleep.
    std::function<bool()> busy;
    // The session to the management server is open (WakeThen waits for it).
    std::function<bool()> session_connected;
  };

  PowerManager(Options options, Hooks hooks, const Clock* clock);
  ~PowerManager();

  // Binds the magic-packet listener and starts the idle timer.
  absl::Status Start();
  void Shutdown();

  // host:port the magic-packet listener is bound to (after Start).
  std::string wol_address() const;
  bool sleeping() const;
  // An access happened: the idle timer starts again.
  void Touch();
  // Enters power-saving mode (nothing if asleep already). Returns true.
  bool Sleep(const std::string& reason);
  // Leaves power-saving mode (nothing if awake).
  void Wake(const std::string& reason);
  // Wakes, then runs `then` on the manager's executor once the session is
  // open again (or after `max_wait`, whichever comes first).
  void WakeThen(const std::string& reason, std::function<void()> then,
                absl::Duration max_wait = absl::Seconds(10));

 private:
  void Loop();
  void OnDatagram(const std::string& data, const std::string& from);

  const Options options_;
  const Hooks hooks_;
  const Clock* const clock_;
  int fd_ = -1;
  std::string wol_address_;

  mutable absl::Mutex mu_;
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  SerialExecutor after_wake_{"after-wake"};
};

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_POWER_MANAGER_H_
