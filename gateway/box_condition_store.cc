#include "gateway/box_condition_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace relay::gateway {
namespace {

const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      R"sql(
      CREATE TABLE box_conditions (
        device_id TEXT NOT NULL,
        box_id TEXT NOT NULL,
        condition BLOB NOT NULL,
        accesses INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, box_id)
      );
      )sql",
  };
  return *migrations;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BoxConditionStore>> BoxConditionStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<BoxConditionStore>(new BoxConditionStore(std::move(db)));
}

absl::Status BoxConditionStore::Put(const relay::v1::BoxAccessCondition& condition) {
  std::string invalid = ValidateBoxCondition(condition);
  if (!invalid.empty()) return absl::InvalidArgumentError(invalid);
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("INSERT OR REPLACE INTO box_conditions "
                                "(device_id, box_id, condition, accesses) VALUES (?, ?, ?, 0)"));
  st.BindText(1, condition.device_id())
      .BindText(2, condition.box_id())
      .BindBlob(3, condition.SerializeAsString());
  return st.Run();
}

absl::StatusOr<std::optional<std::pair<relay::v1::BoxAccessCondition, int64_t>>>
BoxConditionStore::Load(const std::string& device_id, const std::string& box_id) {
  ASSIGN_OR_RETURN(Statement st,
                   db_->Prepare("SELECT condition, accesses FROM box_conditions "
                                "WHERE device_id = ? AND box_id = ?"));
  st.BindText(1, device_id).BindText(2, box_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::nullopt;
  relay::v1::BoxAccessCondition condition;
  if (!condition.ParseFromString(st.ColumnText(0))) {
    return absl::DataLossError(
        absl::StrCat("the conditions of box ", box_id, " of ", device_id, " are corrupt"));
  }
  return std::make_pair(std::move(condition), st.ColumnInt(1));
}

absl::StatusOr<std::optional<relay::v1::BoxAccessCondition>> BoxConditionStore::Get(
    const std::string& device_id, const std::string& box_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto loaded, Load(device_id, box_id));
  if (!loaded.has_value()) return std::nullopt;
  return loaded->first;
}

absl::StatusOr<int64_t> BoxConditionStore::AccessCount(const std::string& device_id,
                                                       const std::string& box_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto loaded, Load(device_id, box_id));
  return loaded.has_value() ? loaded->second : 0;
}

absl::StatusOr<BoxDecision> BoxConditionStore::Authorize(const std::string& device_id,
                                                         const relay::v1::BoxRequest& request,
                                                         absl::Time now) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto loaded, Load(device_id, request.box_id()));
  std::optional<relay::v1::BoxAccessCondition> condition;
  int64_t accesses = 0;
  if (loaded.has_value()) {
    condition = loaded->first;
    accesses = loaded->second;
  }
  BoxDecision decision = EvaluateBoxAccess(condition, request, now, accesses);
  if (decision.permitted) {
    ASSIGN_OR_RETURN(Statement st,
                     db_->Prepare("UPDATE box_conditions SET accesses = accesses + 1 "
                                  "WHERE device_id = ? AND box_id = ?"));
    st.BindText(1, device_id).BindText(2, request.box_id());
    RETURN_IF_ERROR(st.Run());
  }
  return decision;
}

}  // namespace relay::gateway
