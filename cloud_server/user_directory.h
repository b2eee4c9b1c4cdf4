#ifndef RELAY_CLOUD_SERVER_USER_DIRECTORY_H_
#define RELAY_CLOUD_SERVER_USER_DIRECTORY_H_

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cloud_server/device_mirror.h"
#include "common/sqlite_db.h"

namespace relay::cloud {

// A user of the cloud API and what they may reach.
struct UserRecord {
  std::string name;
  // SHA-256 (hex) of the user's bearer token; the token itself is never
  // stored.
  std::string token_sha256;
  // Gateways whose printers the user may list and print to, and whose scans
  // may be stored for them. "*" in the list: every gateway.
  std::vector<std::string> gateways;
  absl::Time created = absl::InfinitePast();
};

// The users table, in the cloud's database file (cloud.db), on a connection
// of its own: the `cloud_server users` commands write it while the server
// runs.
class UserStore {
 public:
  static absl::StatusOr<std::unique_ptr<UserStore>> Open(const std::string& path);

  absl::StatusOr<std::vector<UserRecord>> List();
  // ALREADY_EXISTS if the name is taken.
  absl::Status Add(const UserRecord& user);
  // NOT_FOUND for an unknown user.
  absl::Status SetToken(const std::string& name, const std::string& token_sha256);
  absl::Status SetGateways(const std::string& name, const std::vector<std::string>& gateways);
  absl::Status Remove(const std::string& name);

 private:
  explicit UserStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

// Who is calling the cloud API. Keeps an in-memory copy of the users table
// (re-read every `poll`, so `cloud_server users add|rotate|remove` takes
// effect on a running server), so authenticating a call never blocks a gRPC
// callback.
//
//   UserDirectory users(store.get(), absl::Seconds(1));
//   RETURN_IF_ERROR(users.Start());
//   ASSIGN_OR_RETURN(std::string user, users.Authenticate("Bearer rly_..."));
//   if (!users.MayUseGateway(user, "gw-1")) ...
class UserDirectory : public GatewayAccess {
 public:
  UserDirectory(UserStore* store, absl::Duration poll);
  ~UserDirectory() override;

  absl::Status Start();
  void Stop();
  absl::Status Reload();

  // The user whose token the "authorization" metadata value carries
  // ("Bearer <token>"). UNAUTHENTICATED with the reason otherwise.
  absl::StatusOr<std::string> Authenticate(absl::string_view authorization) const;
  bool Exists(const std::string& user) const;
  // GatewayAccess.
  bool MayUseGateway(const std::string& user, const std::string& gateway_id) const override;

 private:
  struct Entry {
    std::string name;
    bool all_gateways = false;
    std::set<std::string> gateways;
  };
  void Loop();

  UserStore* const store_;
  const absl::Duration poll_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_token_hash_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Entry> by_name_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // An unknown token asks for a re-read now (a user added a moment ago).
  mutable bool reload_now_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// A new random bearer token: "rly_" + 64 hex digits (32 random bytes).
std::string NewUserToken();
// SHA-256 hex of a token, as stored.
std::string HashUserToken(absl::string_view token);
// OK for a user name of 1..64 characters in [A-Za-z0-9._-].
absl::Status ValidateUserName(absl::string_view name);
// "*" or "gw-a,gw-b" -> the list; INVALID_ARGUMENT for a bad id.
absl::StatusOr<std::vector<std::string>> ParseGatewayList(absl::string_view text);

// The directory CloudApi calls authenticate against (UserOf in
// api_service.h). Set by CloudServer::Start, cleared at its shutdown: one
// cloud server per process.
void SetApiUserDirectory(const UserDirectory* directory);
const UserDirectory* ApiUserDirectory();

// `cloud_server users add NAME [--gateways=..] [--token_file=F]`,
// `users list`, `users rotate NAME [--token_file=F]`,
// `users set-gateways NAME --gateways=..`, `users remove NAME`, on the
// database at `db_path`. Prints a new token once (and writes it to
// `token_file`, mode 0600, if set). Returns the exit code.
int RunUsersCommand(const std::vector<std::string>& args, const std::string& db_path,
                    const std::string& gateways, const std::string& token_file);

}  // namespace relay::cloud

#endif  // RELAY_CLOUD_SERVER_USER_DIRECTORY_H_
