// A bus worker's partition keeps its contracts' and users' state in
// PostgreSQL (store.h, "Partition state"), in process against a real
// server: after every batch the rows are what its engine shows of every
// contract and user, a takeover leaves them right even when they were
// wrong, and another partition than 0 stores only the users its contracts
// name, leaving the rest to partition 0.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "partition_support.h"
#include "pg_server.h"

namespace gw::test {
namespace {

// The contract and user ids of a partition's messages (replay-accepted
// lines), each once, and the users its contracts name.
struct LogIds {
  std::vector<std::string> contracts, users;
  std::set<std::string> parties;
};

LogIds ids_of(const std::vector<PartitionMessage>& messages) {
  std::set<std::string> contracts, users, parties;
  for (const PartitionMessage& m : messages) {
    if (m.control != PartitionControl::kNone) continue;
    const auto e = nlohmann::json::parse(m.line);
    if (e.contains("contract")) contracts.insert(e["contract"].get<std::string>());
    for (const char* field : {"id", "user", "client", "freelancer"}) {
      if (e.contains(field) && e["type"] != "message") users.insert(e[field].get<std::string>());
    }
    if (e["type"] == "contract_started") {
      parties.insert(e["client"].get<std::string>());
      parties.insert(e["freelancer"].get<std::string>());
    }
  }
  return {{contracts.begin(), contracts.end()}, {users.begin(), users.end()}, parties};
}

std::string contract_text(const ContractStateRow& c) {
  return fmt::format("{} {} {} {} {} {} {} {} {} {} {}", c.contract, c.client, c.freelancer, c.last_fl_at,
                     c.last_client_at, c.episodes, c.ended, c.open, c.pending_since, c.steps_sent, c.tier);
}

std::string user_text(const UserStateRow& u) {
  return fmt::format("{} '{}' '{}' '{}' {} {}", u.user, u.country, u.kind, u.tz, u.opted_out, u.bouncing);
}

std::set<std::string> stored_contract_states(Store& store, const LogIds& ids) {
  std::set<std::string> out;
  for (const ContractStateRow& c : store.contract_states(ids.contracts).value()) out.insert(contract_text(c));
  return out;
}

std::set<std::string> engine_contract_states(const Service& service, const LogIds& ids) {
  std::set<std::string> out;
  EXPECT_TRUE(service.with_contracts(ids.contracts, [&](std::string_view id, const ContractSnapshot& c) {
    out.insert(contract_text(ContractStateRow::from(id, c)));
  }));
  return out;
}

std::set<std::string> stored_user_states(Store& store, const LogIds& ids) {
  std::set<std::string> out;
  for (const UserStateRow& u : store.user_states(ids.users).value()) out.insert(user_text(u));
  return out;
}

std::set<std::string> engine_user_states(const Service& service, const LogIds& ids) {
  std::set<std::string> out;
  EXPECT_TRUE(service.with_users(ids.users, [&](std::string_view id, const UserSnapshot& u) {
    out.insert(user_text(UserStateRow::from(id, u)));
  }));
  return out;
}

TEST(PartitionStateTest, RowsAreTheCommittedEnginesThroughTakeovers) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  TempDir dir;
  const std::vector<PartitionMessage> messages = simulated_partition(dir, 31, 80, 30, 12);
  const LogIds ids = ids_of(messages);
  ASSERT_GT(ids.contracts.size(), 50u);
  FixedPartitionClock clock;
  auto shared = PostgresStore::open(*url).value();

  PartitionOwner first = take_partition(*url, clock);
  ASSERT_TRUE(first.service);
  const std::size_t half = messages.size() / 2;
  for (std::size_t at = 0; at < half; at += 89) {
    ASSERT_TRUE(apply_range(*first.service, messages, at, std::min(at + 89, half)));
    ASSERT_EQ(stored_contract_states(*shared, ids), engine_contract_states(*first.service, ids))
        << "after message " << at;
    ASSERT_EQ(stored_user_states(*shared, ids), engine_user_states(*first.service, ids)) << "after message " << at;
  }
  ASSERT_GT(stored_user_states(*shared, ids).size(), 20u);

  // Rows gone wrong are right again once the partition is taken over.
  {
    pqxx::connection c(*url);
    pqxx::work tx(c);
    tx.exec0("DELETE FROM contract_states WHERE contract = (SELECT MIN(contract) FROM contract_states)");
    tx.exec0("UPDATE contract_states SET steps_sent = 99 WHERE contract = (SELECT MAX(contract) FROM contract_states)");
    tx.exec0("DELETE FROM user_states WHERE id = (SELECT MIN(id) FROM user_states)");
    tx.exec0("UPDATE user_states SET country = 'ZZ', bouncing = true WHERE id = (SELECT MAX(id) FROM user_states)");
    tx.commit();
  }
  PartitionOwner second = take_partition(*url, clock);
  ASSERT_TRUE(second.service);
  EXPECT_EQ(stored_contract_states(*shared, ids), engine_contract_states(*second.service, ids));
  EXPECT_EQ(stored_user_states(*shared, ids), engine_user_states(*second.service, ids));
  for (std::size_t at = half; at < messages.size(); at += 233) {
    ASSERT_TRUE(apply_range(*second.service, messages, at, std::min(at + 233, messages.size())));
  }
  EXPECT_EQ(stored_contract_states(*shared, ids), engine_contract_states(*second.service, ids));
  EXPECT_EQ(stored_user_states(*shared, ids), engine_user_states(*second.service, ids));
}

TEST(PartitionStateTest, AnotherPartitionStoresTheUsersItsContractsNameOnly) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  TempDir dir;
  const std::vector<PartitionMessage> messages = simulated_partition(dir, 37, 40, 20, 6);
  const LogIds ids = ids_of(messages);
  FixedPartitionClock clock;
  auto shared = PostgresStore::open(*url).value();

  // Partition 1 alone: the users its contracts name, no others.
  PartitionOwner one = take_partition(*url, clock, 1);
  ASSERT_TRUE(one.service);
  ASSERT_TRUE(apply_range(*one.service, messages, 0, messages.size()));
  std::set<std::string> stored_ids;
  for (const UserStateRow& u : shared->user_states(ids.users).value()) stored_ids.insert(u.user);
  EXPECT_EQ(stored_ids, ids.parties);
  EXPECT_LT(ids.parties.size(), ids.users.size()) << "the log must name users no contract names";
  EXPECT_EQ(stored_contract_states(*shared, ids), engine_contract_states(*one.service, ids));
}

}  // namespace
}  // namespace gw::test
