#include "ghostwatch/store/postgres/pg_partition_state.h"

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <string_view>

#include "ghostwatch/store/postgres/pg_rows.h"
#include "ghostwatch/store/postgres/pg_values.h"

namespace gw::pg {
namespace {

std::string state_user_values(const StatementRows& rows, const UserStateRow& u) {
  return fmt::format("({},{},{},{},{},{})", rows.text(u.user), rows.text(u.country), rows.text(u.kind), rows.text(u.tz),
                     StatementRows::boolean(u.opted_out), StatementRows::boolean(u.bouncing));
}

constexpr const char* kUserStateInsert = "INSERT INTO user_states(id, country, kind, tz, opted_out, bouncing) VALUES ";

}  // namespace

void write_contract_states(pqxx::work& tx, const Batch& batch, int partition) {
  if (batch.contract_states.empty() && !batch.replaces_contract_states) return;
  if (partition < 0) throw std::logic_error("contract states in a batch of no log partition");
  if (batch.replaces_contract_states) tx.exec_params0("DELETE FROM contract_states WHERE partition = $1", partition);
  StatementRows rows(tx,
                     "INSERT INTO contract_states(contract, partition, client, freelancer, last_freelancer_at, "
                     "last_client_at, episodes, ended, open, pending_since, steps_sent, tier) VALUES ",
                     " ON CONFLICT(contract) DO UPDATE SET partition = EXCLUDED.partition, client = EXCLUDED.client, "
                     "freelancer = EXCLUDED.freelancer, last_freelancer_at = EXCLUDED.last_freelancer_at, "
                     "last_client_at = EXCLUDED.last_client_at, episodes = EXCLUDED.episodes, ended = "
                     "EXCLUDED.ended, open = EXCLUDED.open, pending_since = EXCLUDED.pending_since, steps_sent = "
                     "EXCLUDED.steps_sent, tier = EXCLUDED.tier");
  for (const ContractStateRow& c : batch.contract_states) {
    rows.add(fmt::format("({},{},{},{},{},{},{},{},{},{},{},{})", rows.text(c.contract), partition, rows.text(c.client),
                         rows.text(c.freelancer), StatementRows::instant_or_null(c.last_fl_at),
                         StatementRows::instant_or_null(c.last_client_at), c.episodes, StatementRows::boolean(c.ended),
                         StatementRows::boolean(c.open), StatementRows::instant_or_null(c.pending_since), c.steps_sent,
                         c.tier));
  }
  rows.flush();
}

void write_user_states(pqxx::work& tx, const Batch& batch, int partition) {
  if (batch.user_states.empty() && batch.named_users.empty()) return;
  if (partition < 0) throw std::logic_error("user states in a batch of no log partition");
  if (partition != 0) {
    StatementRows rows(tx, kUserStateInsert, " ON CONFLICT(id) DO NOTHING");
    for (const UserStateRow& u : batch.named_users) rows.add(state_user_values(rows, u));
    rows.flush();
    return;
  }
  // Both lists hold the engine's users as of the batch's end: one row each.
  std::map<std::string_view, const UserStateRow*> once;
  for (const UserStateRow& u : batch.user_states) once[u.user] = &u;
  for (const UserStateRow& u : batch.named_users) once[u.user] = &u;
  StatementRows rows(tx, kUserStateInsert,
                     " ON CONFLICT(id) DO UPDATE SET country = EXCLUDED.country, kind = EXCLUDED.kind, tz = "
                     "EXCLUDED.tz, opted_out = EXCLUDED.opted_out, bouncing = EXCLUDED.bouncing");
  for (const auto& [id, u] : once) rows.add(state_user_values(rows, *u));
  rows.flush();
}

std::vector<ContractStateRow> read_contract_states(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::vector<ContractStateRow> out;
  select_by_ids(tx,
                "SELECT contract, client, freelancer, last_freelancer_at, last_client_at, episodes, ended, open, "
                "pending_since, steps_sent, tier FROM contract_states WHERE contract IN ",
                ids, [&](const pqxx::row& r) {
                  ContractStateRow c;
                  c.contract = text(r[0]);
                  c.client = text(r[1]);
                  c.freelancer = text(r[2]);
                  c.last_fl_at = instant_or_none(r[3]);
                  c.last_client_at = instant_or_none(r[4]);
                  c.episodes = static_cast<std::uint32_t>(int64(r[5]));
                  c.ended = r[6].as<bool>();
                  c.open = r[7].as<bool>();
                  c.pending_since = instant_or_none(r[8]);
                  c.steps_sent = static_cast<std::uint32_t>(int64(r[9]));
                  c.tier = static_cast<std::uint32_t>(int64(r[10]));
                  out.push_back(std::move(c));
                });
  return out;
}

std::vector<UserStateRow> read_user_states(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::vector<UserStateRow> out;
  select_by_ids(
      tx, "SELECT id, country, kind, tz, opted_out, bouncing FROM user_states WHERE id IN ", ids,
      [&](const pqxx::row& r) {
        out.push_back(UserStateRow{text(r[0]), text(r[1]), text(r[2]), text(r[3]), r[4].as<bool>(), r[5].as<bool>()});
      });
  return out;
}

}  // namespace gw::pg
