#include "cloud_server/box_broker.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/sha256.h"

namespace relay::cloud {
namespace {

constexpr size_t kMaxIdBytes = 128;

bool IsCleanId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

absl::Status ValidateRequest(const relay::v1::BoxAccessRequest& request) {
  if (!IsCleanId(request.device_id())) {
    return absl::InvalidArgumentError("device_id is missing or malformed");
  }
  if (!IsCleanId(request.box_id())) {
    return absl::InvalidArgumentError("box_id is missing or malformed");
  }
  switch (request.operation()) {
    case relay::v1::BOX_OPERATION_LIST:
      break;
    case relay::v1::BOX_OPERATION_READ:
    case relay::v1::BOX_OPERATION_DELETE:
      if (!IsCleanId(request.document_id())) {
        return absl::InvalidArgumentError(
            "document_id is missing or malformed (READ and DELETE name a document)");
      }
      break;
    default:
      return absl::InvalidArgumentError("operation must be LIST, READ or DELETE");
  }
  if (!request.client_id().empty() && !IsCleanId(request.client_id())) {
    return absl::InvalidArgumentError("client_id is malformed");
  }
  return absl::OkStatus();
}

}  // namespace

BoxBroker::BoxBroker(DeviceMirror* mirror, AccessRouter* router,
                     const TunnelTokenSigner* signer, const Clock* clock,
                     absl::Duration timeout)
    : mirror_(mirror), router_(router), signer_(signer), clock_(clock), timeout_(timeout) {
  expirer_ = std::thread([this] { ExpireLoop(); });
}

BoxBroker::~BoxBroker() {
  Shutdown();
  if (expirer_.joinable()) expirer_.join();
}

void BoxBroker::Shutdown() {
  std::vector<Done> dones;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    for (auto& [id, pending] : pending_) dones.push_back(std::move(pending.done));
    pending_.clear();
  }
  for (Done& done : dones) {
    done(absl::UnavailableError("the cloud server is shutting down"));
  }
}

void BoxBroker::Submit(const std::string& user, const relay::v1::BoxAccessRequest& request,
                       Done done) {
  absl::Status valid = ValidateRequest(request);
  if (!valid.ok()) {
    done(valid);
    return;
  }
  routing_.Post([this, user, request, done = std::move(done)]() mutable {
    Route(user, request, std::move(done));
  });
}

void BoxBroker::Route(const std::string& user, const relay::v1::BoxAccessRequest& request,
                      Done done) {
  // Only among the gateways the user may use: another tenant's device is as
  // unknown as a missing one.
  absl::StatusOr<DeviceLocation> location = mirror_->Locate(request.device_id(), user);
  if (!location.ok()) {
    done(location.status());
    return;
  }
  const std::string id = absl::StrCat("box-", RandomHex(8));
  relay::v1::BoxRequest box;
  box.set_box_id(request.box_id());
  box.set_operation(request.operation());
  box.set_document_id(request.document_id());
  box.set_client_id(request.client_id());
  box.set_user_id(user);  // from the credentials, never from the caller
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      done(absl::UnavailableError("the cloud server is shutting down"));
      return;
    }
    // Recorded before routing: the tunnel may open before RequestAccess
    // returns.
    Pending& pending = pending_[id];
    pending.user = user;
    pending.gateway_id = location->gateway_id;
    pending.device_id = request.device_id();
    pending.request = box;
    pending.deadline = clock_->Now() + timeout_;
    pending.done = std::move(done);
  }
  TunnelClaims claims;
  claims.direction = relay::v1::DIRECTION_BOX;
  claims.access_id = id;
  claims.gateway_id = location->gateway_id;
  claims.device_id = request.device_id();
  claims.user_id = user;
  relay::v1::AccessRequest access;
  access.set_job_id(id);
  access.set_device_id(request.device_id());
  access.set_direction(relay::v1::DIRECTION_BOX);
  access.set_tunnel_token(signer_->Issue(claims));
  access.set_user_id(user);
  *access.mutable_box() = box;
  LogInfo("event=box_request job=%s gateway=%s device=%s box=%s operation=%s user=%s "
          "client=%s",
          id, location->gateway_id, request.device_id(), request.box_id(),
          relay::v1::BoxOperation_Name(request.operation()), user, request.client_id());
  AccessRouter::Reply reply = router_->RequestAccess(access);
  if (!reply.gateway_id.ok()) {
    const absl::Status& error = reply.gateway_id.status();
    LogWarning("event=box_request_not_routed job=%s gateway=%s device=%s error=\"%s\"", id,
               location->gateway_id, request.device_id(), error.ToString());
    absl::Status status = error;
    if (absl::IsUnavailable(error) && !reply.server_answered) {
      status = absl::UnavailableError(absl::StrCat(
          "the management server is unreachable: ", error.message()));
    } else if (absl::IsUnavailable(error)) {
      status = absl::UnavailableError(
          absl::StrCat("gateway ", location->gateway_id, " cannot be reached now: ",
                       error.message()));
    }
    Resolve(id, status);
    return;
  }
  mirror_->SetGatewayOnline(location->gateway_id, true);
  LogInfo("event=box_request_routed job=%s gateway=%s device=%s substitute=%s", id,
          location->gateway_id, request.device_id(),
          reply.substitute_gateway_id.empty() ? "none" : reply.substitute_gateway_id);
}

absl::StatusOr<relay::v1::BoxRequest> BoxBroker::OpenTunnel(const TunnelClaims& claims) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(claims.access_id);
  if (it == pending_.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "box request ", claims.access_id, " is not pending (answered, expired or unknown)"));
  }
  Pending& pending = it->second;
  if (pending.opened) {
    return absl::PermissionDeniedError(
        absl::StrCat("box request ", claims.access_id, " already has a tunnel"));
  }
  if (pending.gateway_id != claims.gateway_id || pending.device_id != claims.device_id ||
      pending.user != claims.user_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the tunnel's claims do not match box request ", claims.access_id));
  }
  pending.opened = true;
  return pending.request;
}

absl::Status BoxBroker::Complete(const std::string& request_id,
                                 relay::v1::BoxResult result) {
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(request_id);
    if (it == pending_.end() || !it->second.opened) {
      return absl::FailedPreconditionError(
          absl::StrCat("box request ", request_id, " is not waiting for an answer"));
    }
  }
  LogInfo("event=box_result job=%s permitted=%d failed_condition=%s documents=%d bytes=%d",
          request_id, result.permitted() ? 1 : 0,
          result.failed_condition().empty() ? "none" : result.failed_condition(),
          result.documents_size(), static_cast<int64_t>(result.content().size()));
  Resolve(request_id, std::move(result));
  return absl::OkStatus();
}

void BoxBroker::Abandon(const std::string& request_id, const std::string& why) {
  Resolve(request_id, absl::UnavailableError(absl::StrCat(
                          "the gateway's tunnel ended without an answer: ", why)));
}

void BoxBroker::Resolve(const std::string& request_id,
                        absl::StatusOr<relay::v1::BoxResult> result) {
  Done done;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(request_id);
    if (it == pending_.end()) return;
    done = std::move(it->second.done);
    pending_.erase(it);
  }
  if (done) done(std::move(result));
}

void BoxBroker::ExpireLoop() {
  while (true) {
    std::vector<std::string> expired;
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shut_down_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(200));
      if (shut_down_) return;
      absl::Time now = clock_->Now();
      for (const auto& [id, pending] : pending_) {
        if (pending.deadline <= now) expired.push_back(id);
      }
    }
    for (const std::string& id : expired) {
      LogWarning("event=box_request_timeout job=%s", id);
      Resolve(id, absl::DeadlineExceededError(absl::StrCat(
                      "the gateway did not answer the box request within ",
                      absl::FormatDuration(timeout_))));
    }
  }
}

}  // namespace relay::cloud
