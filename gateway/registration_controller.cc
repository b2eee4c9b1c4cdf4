#include "gateway/registration_controller.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::gateway {

absl::StatusOr<RegistrationMode> ParseRegistrationMode(absl::string_view text) {
  if (text == "swap") return RegistrationMode::kSwap;
  if (text == "margin") return RegistrationMode::kMargin;
  return absl::InvalidArgumentError(absl::StrCat(
      "registration mode must be \"swap\" or \"margin\", got \"", text, "\""));
}

absl::Status ValidateRegistrationConfig(const RegistrationConfig& config) {
  const bool has_self = !config.self_device_id.empty();
  if (config.nmax < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("nmax must be at least 1, got ", config.nmax));
  }
  if (has_self && config.nmax < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nmax must be at least 2 when the gateway counts itself (self device "
        "\"",
        config.self_device_id, "\"): its own device takes one slot for good"));
  }
  if (config.mode == RegistrationMode::kMargin) {
    const int max_margin = config.nmax - (has_self ? 1 : 0);
    if (config.margin < 1 || config.margin > max_margin) {
      return absl::InvalidArgumentError(
          absl::StrCat("margin M must be between 1 and ", max_margin,
                       " in margin mode with nmax ", config.nmax,
                       has_self ? " and a self device" : "", ", got ",
                       config.margin, " (use swap mode for no margin)"));
    }
  }
  if (config.wait_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("wait timeout must not be negative, got ",
                     absl::FormatDuration(config.wait_timeout)));
  }
  if (config.usage_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage period must not be negative, got ",
                     absl::FormatDuration(config.usage_period)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RegistrationController>>
RegistrationController::Create(RegistrationConfig config,
                               RegistrationStore* store, const Clock* clock) {
  RETURN_IF_ERROR(ValidateRegistrationConfig(config));
  std::unique_ptr<RegistrationController> controller(
      new RegistrationController(std::move(config), store, clock));
  RETURN_IF_ERROR(controller->Load());
  return controller;
}

RegistrationController::RegistrationController(RegistrationConfig config,
                                               RegistrationStore* store,
                                               const Clock* clock)
    : config_(std::move(config)), store_(store), clock_(clock) {}

absl::Status RegistrationController::Load() {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::vector<StoredRegistration> stored,
                   store_->LoadRegistrations());
  ASSIGN_OR_RETURN(std::vector<UsageEvent> events,
                   store_->UsageEventsSince(now - config_.usage_period));
  for (UsageEvent& e : events) usage_[e.device_id].push_back(e.when);

  for (StoredRegistration& r : stored) {
    if (r.device_id.empty()) continue;
    persisted_[r.device_id] = r;
  }
  registrations_ = persisted_;

  // Until discovery reports, the devices known are those of the saved state.
  std::vector<std::string> present;
  for (const auto& [id, r] : registrations_) {
    present.push_back(id);
    if (!r.restore_device_id.empty()) present.push_back(r.restore_device_id);
  }
  SetPresent(std::move(present));

  if (!config_.self_device_id.empty()) {
    Register(config_.self_device_id, RegistrationKind::kPreRegistered);
  }
  // The process that made the temporary registrations is gone with its jobs.
  std::vector<std::string> temporary;
  for (const auto& [id, r] : registrations_) {
    if (r.kind != RegistrationKind::kPreRegistered) temporary.push_back(id);
  }
  for (const std::string& id : temporary) EndJobs(id);

  // The configuration may have shrunk since the state was saved.
  while (registered_count() > PreRegistrationTarget()) {
    std::optional<std::string> victim = SwapVictim();
    if (!victim.has_value()) break;
    Unregister(*victim);
  }
  FillPreRegistration();
  return Persist();
}

void RegistrationController::SetPresent(std::vector<std::string> devices) {
  present_.clear();
  present_index_.clear();
  auto add = [&](const std::string& id) {
    if (id.empty() || present_index_.count(id) > 0) return;
    present_index_[id] = present_.size();
    present_.push_back(id);
  };
  // The gateway's own device is always there, first unless discovery says
  // where.
  const bool self_listed = std::find(devices.begin(), devices.end(),
                                     config_.self_device_id) != devices.end();
  if (!self_listed) add(config_.self_device_id);
  for (const std::string& id : devices) add(id);
}

bool RegistrationController::IsPresent(absl::string_view device_id) const {
  return present_index_.find(device_id) != present_index_.end();
}

bool RegistrationController::IsSelf(absl::string_view device_id) const {
  return !config_.self_device_id.empty() && device_id == config_.self_device_id;
}

bool RegistrationController::IsRegistered(absl::string_view device_id) const {
  return registrations_.find(device_id) != registrations_.end();
}

int RegistrationController::PreRegistrationTarget() const {
  return config_.mode == RegistrationMode::kSwap
             ? config_.nmax
             : config_.nmax - config_.margin;
}

AfterJob RegistrationController::PolicyFor(absl::string_view user_id) const {
  auto it = config_.per_user_after_job.find(std::string(user_id));
  return it != config_.per_user_after_job.end() ? it->second
                                                : config_.default_after_job;
}

void RegistrationController::PruneUsage(absl::Time now) {
  const absl::Time since = now - config_.usage_period;
  for (auto it = usage_.begin(); it != usage_.end();) {
    std::deque<absl::Time>& times = it->second;
    while (!times.empty() && times.front() < since) times.pop_front();
    it = times.empty() ? usage_.erase(it) : std::next(it);
  }
}

int64_t RegistrationController::UsageCount(const std::string& device_id) const {
  auto it = usage_.find(device_id);
  return it == usage_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

std::vector<std::string> RegistrationController::Ranked(
    std::vector<std::string> devices) const {
  // Callers prune first, so the counts cover the usage period only.
  auto key = [&](const std::string& id) {
    auto index = present_index_.find(id);
    const size_t position =
        index == present_index_.end() ? present_.size() : index->second;
    return std::make_tuple(-UsageCount(id), position, id);
  };
  std::sort(devices.begin(), devices.end(),
            [&](const std::string& a, const std::string& b) {
              return key(a) < key(b);
            });
  return devices;
}

std::optional<std::string> RegistrationController::SwapVictim() const {
  std::vector<std::string> candidates;
  for (const auto& [id, r] : registrations_) {
    if (IsSelf(id) || r.kind != RegistrationKind::kPreRegistered) continue;
    if (jobs_in_flight_.count(id) > 0) continue;
    candidates.push_back(id);
  }
  if (candidates.empty()) return std::nullopt;
  return Ranked(std::move(candidates)).back();
}

void RegistrationController::Register(const std::string& device_id,
                                      RegistrationKind kind,
                                      const std::string& restore_device_id,
                                      AfterJob after_job) {
  registrations_[device_id] =
      StoredRegistration{device_id, kind, restore_device_id, after_job};
}

void RegistrationController::Unregister(const std::string& device_id) {
  if (IsSelf(device_id)) return;
  registrations_.erase(device_id);
}

bool RegistrationController::TryAcquireSlot(const std::string& device_id,
                                            const std::string& user_id) {
  PruneUsage(clock_->Now());
  if (registered_count() < config_.nmax) {
    // In margin mode an add that eats into the M spare slots is temporary.
    const bool temporary = config_.mode == RegistrationMode::kMargin &&
                           registered_count() >= PreRegistrationTarget();
    Register(device_id, temporary ? RegistrationKind::kMarginAdded
                                  : RegistrationKind::kPreRegistered);
    return true;
  }
  if (config_.mode != RegistrationMode::kSwap) return false;
  std::optional<std::string> victim = SwapVictim();
  if (!victim.has_value()) return false;
  Unregister(*victim);
  Register(device_id, RegistrationKind::kSwappedIn, *victim,
           PolicyFor(user_id));
  return true;
}

void RegistrationController::EndJobs(const std::string& device_id) {
  auto it = registrations_.find(device_id);
  if (it == registrations_.end()) return;
  const StoredRegistration r = it->second;
  switch (r.kind) {
    case RegistrationKind::kPreRegistered:
      break;
    case RegistrationKind::kMarginAdded:
      Unregister(device_id);
      break;
    case RegistrationKind::kSwappedIn:
      if (r.after_job == AfterJob::kKeep) {
        Register(device_id, RegistrationKind::kPreRegistered);
      } else {
        Unregister(device_id);
        // The swap freed exactly the slot the returning device takes back,
        // unless something else has taken it meanwhile.
        if (!r.restore_device_id.empty() && IsPresent(r.restore_device_id) &&
            !IsRegistered(r.restore_device_id) &&
            registered_count() < config_.nmax) {
          Register(r.restore_device_id, RegistrationKind::kPreRegistered);
        }
      }
      break;
  }
  if (!IsPresent(device_id)) Unregister(device_id);
}

bool RegistrationController::HasWaiterForUnregisteredDevice() const {
  for (const std::string& request_id : waiting_) {
    if (!IsRegistered(requests_.at(request_id).device_id)) return true;
  }
  return false;
}

void RegistrationController::ServeWaiting(Effects* effects) {
  // Once one waiting request cannot get a slot, no later one can either (they
  // all need the same kind of slot), and none may overtake it anyway. Requests
  // whose device has become registered meanwhile need no slot and go at once.
  bool blocked = false;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    ActiveRequest& request = requests_.at(*it);
    Grant grant{*it, request.device_id, {}};
    if (!IsRegistered(request.device_id)) {
      if (blocked) {
        ++it;
        continue;
      }
      const Registrations before = registrations_;
      if (!TryAcquireSlot(request.device_id, request.user_id)) {
        blocked = true;
        ++it;
        continue;
      }
      grant.changes = Diff(before, registrations_);
    }
    request.granted = true;
    ++jobs_in_flight_[request.device_id];
    effects->granted.push_back(std::move(grant));
    it = waiting_.erase(it);
  }
}

void RegistrationController::FillPreRegistration() {
  if (registered_count() >= PreRegistrationTarget()) return;
  PruneUsage(clock_->Now());
  std::vector<std::string> candidates;
  for (const std::string& id : present_) {
    if (!IsRegistered(id)) candidates.push_back(id);
  }
  for (const std::string& id : Ranked(std::move(candidates))) {
    if (registered_count() >= PreRegistrationTarget()) break;
    Register(id, RegistrationKind::kPreRegistered);
  }
}

void RegistrationController::Finish(const Registrations& before,
                                    Effects* effects) {
  // Waiting requests come before pre-registration: they are real jobs.
  ServeWaiting(effects);
  FillPreRegistration();
  absl::Status saved = Persist();
  if (effects->store_status.ok()) effects->store_status = saved;
  effects->changes = Diff(before, registrations_);
}

absl::Status RegistrationController::Persist() {
  if (registrations_ == persisted_) return absl::OkStatus();
  std::vector<StoredRegistration> all;
  all.reserve(registrations_.size());
  for (const auto& [id, r] : registrations_) all.push_back(r);
  absl::Status status = store_->SaveRegistrations(all);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("saving registrations: ",
                                                    status.message()));
  }
  persisted_ = registrations_;
  return absl::OkStatus();
}

RegistrationChanges RegistrationController::Diff(const Registrations& before,
                                                 const Registrations& after) {
  RegistrationChanges changes;
  for (const auto& [id, r] : after) {
    if (before.find(id) == before.end()) changes.added.push_back(id);
  }
  for (const auto& [id, r] : before) {
    if (after.find(id) == after.end()) changes.removed.push_back(id);
  }
  return changes;
}

Effects RegistrationController::UpdateDevices(
    const std::vector<std::string>& discovered_in_order) {
  Effects effects;
  const Registrations before = registrations_;
  SetPresent(discovered_in_order);

  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const ActiveRequest& request = requests_.at(*it);
    if (IsPresent(request.device_id)) {
      ++it;
      continue;
    }
    effects.failed.push_back(Failure{
        *it, request.device_id,
        absl::NotFoundError(absl::StrCat("device ", request.device_id,
                                         " is no longer in the device list"))});
    requests_.erase(*it);
    it = waiting_.erase(it);
  }
  std::vector<std::string> gone;
  for (const auto& [id, r] : registrations_) {
    // A device with a job in flight stays until the job ends (EndJobs).
    if (!IsPresent(id) && jobs_in_flight_.count(id) == 0) gone.push_back(id);
  }
  for (const std::string& id : gone) Unregister(id);

  Finish(before, &effects);
  return effects;
}

absl::StatusOr<Decision> RegistrationController::Request(
    const AccessRequest& request) {
  if (request.request_id.empty() || request.device_id.empty()) {
    return absl::InvalidArgumentError(
        "an access request needs a request id and a device id");
  }
  if (requests_.count(request.request_id) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("request ", request.request_id, " is already active"));
  }
  if (!IsPresent(request.device_id)) {
    return absl::NotFoundError(absl::StrCat("device ", request.device_id,
                                            " is not in the device list"));
  }

  Decision decision;
  if (!IsRegistered(request.device_id)) {
    const Registrations before = registrations_;
    // A new request must not overtake the ones already waiting for a slot.
    if (!HasWaiterForUnregisteredDevice() &&
        TryAcquireSlot(request.device_id, request.user_id)) {
      absl::Status saved = Persist();
      if (!saved.ok()) {
        registrations_ = before;
        return saved;
      }
      decision.changes = Diff(before, registrations_);
    } else {
      if (config_.wait_timeout <= absl::ZeroDuration()) {
        return absl::ResourceExhaustedError(
            absl::StrCat("no registration slot is free for device ",
                         request.device_id, " and waiting is disabled"));
      }
      decision.kind = Decision::kQueued;
      decision.wait_deadline = clock_->Now() + config_.wait_timeout;
      requests_[request.request_id] = ActiveRequest{
          request.device_id, request.user_id, false, decision.wait_deadline};
      waiting_.push_back(request.request_id);
      return decision;
    }
  }
  requests_[request.request_id] =
      ActiveRequest{request.device_id, request.user_id, true, absl::Time()};
  ++jobs_in_flight_[request.device_id];
  decision.kind = Decision::kGranted;
  return decision;
}

absl::StatusOr<Effects> RegistrationController::Release(
    absl::string_view request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) {
    return absl::NotFoundError(absl::StrCat("no active request ", request_id));
  }
  Effects effects;
  const Registrations before = registrations_;
  const ActiveRequest request = it->second;
  requests_.erase(it);
  if (!request.granted) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), request_id));
    Finish(before, &effects);
    return effects;
  }

  const absl::Time now = clock_->Now();
  usage_[request.device_id].push_back(now);
  effects.store_status = store_->RecordUsage(request.device_id, now);

  auto jobs = jobs_in_flight_.find(request.device_id);
  if (--jobs->second == 0) {
    jobs_in_flight_.erase(jobs);
    EndJobs(request.device_id);
  }
  Finish(before, &effects);
  return effects;
}

Effects RegistrationController::ExpireWaiting() {
  Effects effects;
  const Registrations before = registrations_;
  const absl::Time now = clock_->Now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const ActiveRequest& request = requests_.at(*it);
    if (now < request.deadline) {
      ++it;
      continue;
    }
    effects.failed.push_back(
        Failure{*it, request.device_id,
                absl::DeadlineExceededError(
                    absl::StrCat("no registration slot became free within ",
                                 absl::FormatDuration(config_.wait_timeout),
                                 " for device ", request.device_id))});
    requests_.erase(*it);
    it = waiting_.erase(it);
  }
  Finish(before, &effects);
  return effects;
}

std::optional<absl::Time> RegistrationController::NextWaitDeadline() const {
  std::optional<absl::Time> next;
  for (const std::string& request_id : waiting_) {
    const absl::Time deadline = requests_.at(request_id).deadline;
    if (!next.has_value() || deadline < *next) next = deadline;
  }
  return next;
}

Effects RegistrationController::Rebalance() {
  Effects effects;
  const Registrations before = registrations_;
  const absl::Time now = clock_->Now();
  PruneUsage(now);
  effects.store_status = store_->PruneUsageBefore(now - config_.usage_period);

  std::vector<std::string> others;
  for (const std::string& id : present_) {
    if (!IsSelf(id)) others.push_back(id);
  }
  others = Ranked(std::move(others));
  const int wanted =
      PreRegistrationTarget() - (config_.self_device_id.empty() ? 0 : 1);
  const std::set<std::string> desired(
      others.begin(),
      others.begin() + std::min<size_t>(others.size(), std::max(wanted, 0)));
  std::vector<std::string> surplus;
  for (const auto& [id, r] : registrations_) {
    if (IsSelf(id) || r.kind != RegistrationKind::kPreRegistered) continue;
    if (jobs_in_flight_.count(id) > 0 || desired.count(id) > 0) continue;
    surplus.push_back(id);
  }
  for (const std::string& id : surplus) Unregister(id);

  Finish(before, &effects);
  return effects;
}

std::vector<DeviceRegistration> RegistrationController::Snapshot() const {
  std::vector<DeviceRegistration> rows;
  auto row = [&](const std::string& id, bool present) {
    DeviceRegistration d;
    d.device_id = id;
    auto r = registrations_.find(id);
    d.registered = r != registrations_.end();
    if (d.registered) d.kind = r->second.kind;
    auto jobs = jobs_in_flight_.find(id);
    d.jobs_in_flight = jobs == jobs_in_flight_.end() ? 0 : jobs->second;
    d.self = IsSelf(id);
    d.present = present;
    return d;
  };
  for (const std::string& id : present_) rows.push_back(row(id, true));
  for (const auto& [id, r] : registrations_) {
    if (!IsPresent(id)) rows.push_back(row(id, false));
  }
  return rows;
}

}  // namespace relay::gateway
