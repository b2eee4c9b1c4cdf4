#ifndef RELAY_COMMON_STATUS_UTIL_H_
#define RELAY_COMMON_STATUS_UTIL_H_

// absl::Status helpers that Abseil 20220623 (Debian 12) does not ship, and the
// one conversion pair between absl::Status and grpc::Status used at every
// service edge.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

#define RELAY_STATUS_CONCAT_INNER_(a, b) a##b
#define RELAY_STATUS_CONCAT_(a, b) RELAY_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                       \
  do {                                              \
    ::absl::Status relay_status_ = (expr);          \
    if (!relay_status_.ok()) return relay_status_;  \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` assigns the value of an absl::StatusOr or
// returns its error status.
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  RELAY_ASSIGN_OR_RETURN_IMPL_(RELAY_STATUS_CONCAT_(relay_sor_, __LINE__), \
                               lhs, expr)
#define RELAY_ASSIGN_OR_RETURN_IMPL_(sor, lhs, expr) \
  auto sor = (expr);                                 \
  if (!sor.ok()) return std::move(sor).status();     \
  lhs = std::move(sor).value()

namespace relay {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

inline absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace relay

#endif  // RELAY_COMMON_STATUS_UTIL_H_
