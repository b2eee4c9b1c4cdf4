#ifndef RELAY_MGMT_SERVER_SESSION_REGISTRY_H_
#define RELAY_MGMT_SERVER_SESSION_REGISTRY_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "relay/v1/mgmt.pb.h"

namespace relay::mgmt {

// One open gateway session as the registry sees it: a queue of events to
// write and a way to end it. Implemented by the gRPC reactor
// (session_reactor.h) and by fakes in tests. Methods never block; the
// registry calls them while holding its lock, so they must not call back into
// the registry.
class SessionHandle {
 public:
  virtual ~SessionHandle() = default;

  // Writes `welcome` first, then everything queued before and after it.
  // Events queued before Start wait for it.
  virtual void Start(const relay::v1::SessionWelcome& welcome) = 0;

  // Queues one event. UNAVAILABLE if the session is closing,
  // RESOURCE_EXHAUSTED if the gateway does not keep up.
  virtual absl::Status Send(relay::v1::SessionEvent event) = 0;

  // Ends the session with `status` once the write in flight (if any) is done,
  // and returns the events that were queued but not yet written. Idempotent:
  // later calls return nothing.
  virtual std::deque<relay::v1::SessionEvent> Close(const absl::Status& status) = 0;
};

// Which gateway has which open session: the index behind every push. Lookups
// are O(1) in the number of sessions.
//
//   SessionRegistry registry;
//   uint64_t serial = registry.Register("gw-1", reactor);   // in the reactor
//   registry.Push("gw-1", event);                           // AccessRouter
//   registry.Unregister("gw-1", reactor);                   // in OnDone
class SessionRegistry {
 public:
  SessionRegistry() = default;
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // Makes `session` the current session of `gateway_id` and returns its
  // serial number (unique within this registry). An older session of the same
  // gateway is closed (ABORTED) and its unwritten events move to `session`.
  // After CloseAll, `session` is closed at once (UNAVAILABLE).
  uint64_t Register(const std::string& gateway_id, SessionHandle* session);

  // Forgets `session` if it is still the current session of `gateway_id`.
  // Sessions call this from OnDone, before deleting themselves.
  void Unregister(const std::string& gateway_id, SessionHandle* session);

  // Queues `event` on the gateway's session. UNAVAILABLE "gateway G has no
  // session" if it has none.
  absl::Status Push(absl::string_view gateway_id, relay::v1::SessionEvent event);

  // Runs `fn` on the session with `serial` if it is still the current session
  // of `gateway_id` (under the registry lock: `fn` must not block). Returns
  // whether it ran.
  bool WithSession(absl::string_view gateway_id, uint64_t serial,
                   absl::FunctionRef<void(SessionHandle&)> fn);

  // Ends the current session of `gateway_id` with `status` (a revoked
  // gateway). Returns whether it had one.
  bool CloseSession(absl::string_view gateway_id, const absl::Status& status);

  bool HasSession(absl::string_view gateway_id) const;
  size_t size() const;

  // Shutdown: closes every session with `status` and every later one at once.
  void CloseAll(const absl::Status& status);

 private:
  struct Entry {
    SessionHandle* session;
    uint64_t serial;
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_serial_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace relay::mgmt

#endif  // RELAY_MGMT_SERVER_SESSION_REGISTRY_H_
