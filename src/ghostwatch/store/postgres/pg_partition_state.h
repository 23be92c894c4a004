// The partitions' contract and user state in PostgreSQL (store.h,
// "Partition state"; migration 7): written with each partition's batch, in
// a few multi-row statements, and read by id for the API. Shared by the
// PostgreSQL store's files; every function throws what pqxx throws.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ghostwatch/store/rows.h"

namespace gw::pg {

// A partition's batch's contract_states: an upsert by contract (with
// replaces_contract_states, the partition's rows are deleted first). Throws
// std::logic_error for a batch of no log partition (`partition` < 0).
void write_contract_states(pqxx::work& tx, const Batch& batch, int partition);

// A partition's batch's users (rows.h, Batch::user_states, named_users):
// partition 0 upserts both; another partition inserts its named users
// that have no row yet and leaves the rest to partition 0, which applies
// the same user events. A user named twice is written once.
void write_user_states(pqxx::work& tx, const Batch& batch, int partition);

// The rows of those of `ids` that are stored, in no particular order.
std::vector<ContractStateRow> read_contract_states(pqxx::transaction_base& tx, const std::vector<std::string>& ids);
std::vector<UserStateRow> read_user_states(pqxx::transaction_base& tx, const std::vector<std::string>& ids);

}  // namespace gw::pg
