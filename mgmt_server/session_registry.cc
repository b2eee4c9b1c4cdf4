#include "mgmt_server/session_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace relay::mgmt {

uint64_t SessionRegistry::Register(const std::string& gateway_id,
                                   SessionHandle* session) {
  absl::MutexLock lock(&mu_);
  uint64_t serial = next_serial_++;
  if (closed_) {
    session->Close(close_status_);
    return serial;
  }
  auto [it, inserted] = sessions_.try_emplace(gateway_id, Entry{session, serial});
  if (!inserted) {
    SessionHandle* old = it->second.session;
    it->second = Entry{session, serial};
    // Close() may Finish the old RPC while mu_ is held: safe, because gRPC
    // never runs a write reactor's OnDone (which calls Unregister) inline.
    // The gateway reconnected (its old connection may be dead without either
    // side knowing yet): what the old session could not write goes to the new
    // one instead of being lost.
    std::deque<relay::v1::SessionEvent> pending = old->Close(absl::AbortedError(
        absl::StrCat("session of gateway ", gateway_id, " replaced by a newer one")));
    for (relay::v1::SessionEvent& event : pending) {
      absl::Status sent = session->Send(std::move(event));
      if (!sent.ok()) {
        LogWarning("event=session_event_dropped gateway=%s reason=\"%s\"", gateway_id,
                   sent.message());
      }
    }
    LogInfo("event=session_replaced gateway=%s moved_events=%d", gateway_id,
            static_cast<int>(pending.size()));
  }
  return serial;
}

void SessionRegistry::Unregister(const std::string& gateway_id, SessionHandle* session) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(gateway_id);
  if (it != sessions_.end() && it->second.session == session) sessions_.erase(it);
}

absl::Status SessionRegistry::Push(absl::string_view gateway_id,
                                   relay::v1::SessionEvent event) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(gateway_id);
  if (it == sessions_.end()) {
    return absl::UnavailableError(
        absl::StrCat("gateway ", gateway_id, " has no session"));
  }
  return it->second.session->Send(std::move(event));
}

bool SessionRegistry::WithSession(absl::string_view gateway_id, uint64_t serial,
                                  absl::FunctionRef<void(SessionHandle&)> fn) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(gateway_id);
  if (it == sessions_.end() || it->second.serial != serial) return false;
  fn(*it->second.session);
  return true;
}

bool SessionRegistry::CloseSession(absl::string_view gateway_id,
                                   const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(gateway_id);
  if (it == sessions_.end()) return false;
  it->second.session->Close(status);
  return true;
}

bool SessionRegistry::HasSession(absl::string_view gateway_id) const {
  absl::MutexLock lock(&mu_);
  return sessions_.contains(gateway_id);
}

size_t SessionRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

void SessionRegistry::CloseAll(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  close_status_ = status;
  // Entries stay until each session's OnDone unregisters it.
  for (auto& [gateway_id, entry] : sessions_) entry.session->Close(status);
}

}  // namespace relay::mgmt
