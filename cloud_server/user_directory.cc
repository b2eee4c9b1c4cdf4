#include "cloud_server/user_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "common/tls_config.h"

namespace relay::cloud {
namespace {

// Created if missing, outside the store's numbered migrations (see
// sqlite_cloud_store.cc), so the table can be added to an existing cloud.db.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  gateways TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql";

constexpr absl::string_view kTokenPrefix = "rly_";
constexpr size_t kMaxAuthorizationBytes = 512;

std::atomic<const UserDirectory*> g_api_directory{nullptr};

}  // namespace

std::string NewUserToken() { return absl::StrCat(kTokenPrefix, RandomHex(32)); }

std::string HashUserToken(absl::string_view token) { return Sha256::HexOf(token); }

absl::Status ValidateUserName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError("a user name has 1 to 64 characters");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' &&
        c != '.') {
      return absl::InvalidArgumentError(
          absl::StrCat("user name '", name, "' has characters outside [A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseGatewayList(absl::string_view text) {
  std::vector<std::string> gateways;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (item != "*") {
      absl::StatusOr<std::string> id =
          ParseGatewayUri(absl::StrCat(kGatewayUriPrefix, item));
      if (!id.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad gateway id '", item, "' in --gateways"));
      }
    }
    gateways.emplace_back(item);
  }
  return gateways;
}

// --- UserStore ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<UserStore>> UserStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<UserStore>(new UserStore(std::move(db)));
}

absl::StatusOr<std::vector<UserRecord>> UserStore::List() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT name, token_sha256, gateways, "
                                              "created_ms FROM users ORDER BY name"));
  std::vector<UserRecord> users;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    UserRecord u;
    u.name = st.ColumnText(0);
    u.token_sha256 = st.ColumnText(1);
    u.gateways = absl::StrSplit(st.ColumnText(2), ',', absl::SkipEmpty());
    u.created = absl::FromUnixMillis(st.ColumnInt(3));
    users.push_back(std::move(u));
  }
  return users;
}

absl::Status UserStore::Add(const UserRecord& user) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("INSERT INTO users (name, token_sha256, gateways, "
                                "created_ms) VALUES (?, ?, ?, ?)"));
  st.BindText(1, user.name)
      .BindText(2, user.token_sha256)
      .BindText(3, absl::StrJoin(user.gateways, ","))
      .BindInt(4, absl::ToUnixMillis(absl::Now()));
  absl::Status status = st.Run();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("user ", user.name, " exists already"));
  }
  return status;
}

namespace {
absl::Status UpdateOne(SqliteDb& db, const std::string& sql, const std::string& value,
                       const std::string& name) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  st.BindText(1, value).BindText(2, name);
  RETURN_IF_ERROR(st.Run());
  if (db.ChangedRows() == 0) {
    return absl::NotFoundError(absl::StrCat("no user ", name));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status UserStore::SetToken(const std::string& name, const std::string& token_sha256) {
  absl::MutexLock lock(&mu_);
  return UpdateOne(*db_, "UPDATE users SET token_sha256 = ? WHERE name = ?", token_sha256,
                   name);
}

absl::Status UserStore::SetGateways(const std::string& name,
                                    const std::vector<std::string>& gateways) {
  absl::MutexLock lock(&mu_);
  return UpdateOne(*db_, "UPDATE users SET gateways = ? WHERE name = ?",
                   absl::StrJoin(gateways, ","), name);
}

absl::Status UserStore::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM users WHERE name = ?"));
  st.BindText(1, name);
  RETURN_IF_ERROR(st.Run());
  if (db_->ChangedRows() == 0) return absl::NotFoundError(absl::StrCat("no user ", name));
  return absl::OkStatus();
}

// --- UserDirectory -------------------------------------------------------------

UserDirectory::UserDirectory(UserStore* store, absl::Duration poll)
    : store_(store), poll_(poll) {}

UserDirectory::~UserDirectory() { Stop(); }

absl::Status UserDirectory::Start() {
  RETURN_IF_ERROR(Reload());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void UserDirectory::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status UserDirectory::Reload() {
  ASSIGN_OR_RETURN(std::vector<UserRecord> users, store_->List());
  absl::flat_hash_map<std::string, Entry> by_hash;
  absl::flat_hash_map<std::string, Entry> by_name;
  for (const UserRecord& u : users) {
    Entry e;
    e.name = u.name;
    for (const std::string& g : u.gateways) {
      if (g == "*") {
        e.all_gateways = true;
      } else {
        e.gateways.insert(g);
      }
    }
    by_hash[u.token_sha256] = e;
    by_name[u.name] = std::move(e);
  }
  absl::MutexLock lock(&mu_);
  if (by_name.size() != by_name_.size()) {
    LogInfo("event=users_loaded count=%d", static_cast<int>(by_name.size()));
  }
  by_token_hash_ = std::move(by_hash);
  by_name_ = std::move(by_name);
  return absl::OkStatus();
}

void UserDirectory::Loop() {
  absl::MutexLock lock(&mu_);
  auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || reload_now_; };
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&wake), poll_);
    if (stop_) break;
    reload_now_ = false;
    mu_.Unlock();
    absl::Status loaded = Reload();
    if (!loaded.ok()) {
      LogError("event=store_error op=users_reload reason=\"%s\"", loaded.ToString());
    }
    mu_.Lock();
    // At most ten re-reads a second, whatever unknown tokens arrive.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(100));
  }
}

absl::StatusOr<std::string> UserDirectory::Authenticate(
    absl::string_view authorization) const {
  if (authorization.size() > kMaxAuthorizationBytes) {
    return absl::UnauthenticatedError("authorization metadata is too long");
  }
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return absl::UnauthenticatedError(
        "authorization metadata must be \"Bearer <token>\"");
  }
  token = absl::StripAsciiWhitespace(token);
  if (!absl::StartsWith(token, kTokenPrefix)) {
    return absl::UnauthenticatedError("the bearer token is not a relay user token");
  }
  // Looked up by hash: a timing difference tells nothing about a token.
  std::string hash = HashUserToken(token);
  absl::MutexLock lock(&mu_);
  auto it = by_token_hash_.find(hash);
  if (it == by_token_hash_.end()) {
    reload_now_ = true;
    return absl::UnauthenticatedError(
        "the bearer token is unknown or was revoked (cloud_server users add|rotate)");
  }
  return it->second.name;
}

bool UserDirectory::Exists(const std::string& user) const {
  absl::MutexLock lock(&mu_);
  return by_name_.contains(user);
}

bool UserDirectory::MayUseGateway(const std::string& user,
                                  const std::string& gateway_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_name_.find(user);
  if (it == by_name_.end()) return false;
  return it->second.all_gateways || it->second.gateways.count(gateway_id) != 0;
}

void SetApiUserDirectory(const UserDirectory* directory) { g_api_directory = directory; }
const UserDirectory* ApiUserDirectory() { return g_api_directory.load(); }

// --- `cloud_server users ...` --------------------------------------------------

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "cloud_server: %s\n", std::string(status.message()).c_str());
  return 1;
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int PrintNewToken(const std::string& name, const std::string& token,
                  const std::string& token_file) {
  if (!token_file.empty()) {
    absl::Status written = WriteTokenFile(token_file, token);
    if (!written.ok()) return Fail(written);
    std::fprintf(stderr, "token of %s written to %s (mode 0600)\n", name.c_str(),
                 token_file.c_str());
  }
  std::printf("%s\n", token.c_str());
  std::fprintf(stderr,
               "This token is shown once; only its SHA-256 is stored. Use it with "
               "relayctl --token=..., RELAY_TOKEN=... or a token file.\n");
  return 0;
}

}  // namespace

int RunUsersCommand(const std::vector<std::string>& args, const std::string& db_path,
                    const std::string& gateways, const std::string& token_file) {
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: cloud_server users add NAME [--gateways=*|gw-a,gw-b] "
                 "[--token_file=F] --data_dir=DIR\n"
                 "       cloud_server users list --data_dir=DIR\n"
                 "       cloud_server users rotate NAME [--token_file=F] --data_dir=DIR\n"
                 "       cloud_server users set-gateways NAME --gateways=... "
                 "--data_dir=DIR\n"
                 "       cloud_server users remove NAME --data_dir=DIR\n");
    return 2;
  };
  if (args.size() < 2) return usage();
  const std::string& verb = args[1];
  absl::StatusOr<std::unique_ptr<UserStore>> store = UserStore::Open(db_path);
  if (!store.ok()) return Fail(store.status());
  if (verb == "list" && args.size() == 2) {
    absl::StatusOr<std::vector<UserRecord>> users = (*store)->List();
    if (!users.ok()) return Fail(users.status());
    std::printf("%-20s %-20s %s\n", "USER", "CREATED", "GATEWAYS");
    for (const UserRecord& u : *users) {
      std::printf("%-20s %-20s %s\n", u.name.c_str(),
                  absl::FormatTime("%Y-%m-%d %H:%M:%S", u.created, absl::LocalTimeZone())
                      .c_str(),
                  absl::StrJoin(u.gateways, ",").c_str());
    }
    return 0;
  }
  if (args.size() != 3) return usage();
  const std::string& name = args[2];
  absl::Status valid = ValidateUserName(name);
  if (!valid.ok()) return Fail(valid);
  if (verb == "add" || verb == "set-gateways") {
    absl::StatusOr<std::vector<std::string>> list = ParseGatewayList(gateways);
    if (!list.ok()) return Fail(list.status());
    if (list->empty()) {
      return Fail(absl::InvalidArgumentError(
          "--gateways is empty: give the gateways the user may use, or * for all"));
    }
    if (verb == "set-gateways") {
      absl::Status set = (*store)->SetGateways(name, *list);
      if (!set.ok()) return Fail(set);
      std::printf("user %s may use gateways %s\n", name.c_str(),
                  absl::StrJoin(*list, ",").c_str());
      return 0;
    }
    UserRecord user;
    user.name = name;
    user.gateways = *list;
    std::string token = NewUserToken();
    user.token_sha256 = HashUserToken(token);
    absl::Status added = (*store)->Add(user);
    if (!added.ok()) return Fail(added);
    return PrintNewToken(name, token, token_file);
  }
  if (verb == "rotate") {
    std::string token = NewUserToken();
    absl::Status set = (*store)->SetToken(name, HashUserToken(token));
    if (!set.ok()) return Fail(set);
    return PrintNewToken(name, token, token_file);
  }
  if (verb == "remove") {
    absl::Status removed = (*store)->Remove(name);
    if (!removed.ok()) return Fail(removed);
    std::printf("user %s removed (a running cloud server refuses the token within a "
                "second)\n",
                name.c_str());
    return 0;
  }
  return usage();
}

}  // namespace relay::cloud
