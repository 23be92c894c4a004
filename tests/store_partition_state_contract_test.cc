// The store contract of the partitions' contract and user state (store.h,
// "Partition state"), for every backend: PostgreSQL keeps what a
// partition's batch last committed, keyed by contract and by user, users
// from partition 0's batches and, from the others, the ones the store does
// not have yet; SQLite holds none and refuses a batch that carries any.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "store_backends.h"

namespace gw::test {
namespace {

class PartitionStateStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!opener_.available()) GTEST_SKIP() << kNoPostgres;
  }

  TempDir dir_;
  StoreOpener opener_{GetParam(), dir_};
};

ContractStateRow contract_state(std::string contract, std::uint32_t episodes, bool open) {
  ContractStateRow c;
  c.contract = std::move(contract);
  c.client = "k1";
  c.freelancer = "f1";
  c.last_client_at = 1000;
  c.episodes = episodes;
  c.open = open;
  if (open) {
    c.pending_since = 1000;
    c.steps_sent = 1;
    c.tier = 2;
  }
  return c;
}

UserStateRow user_state(std::string id, std::string country) {
  return UserStateRow{std::move(id), std::move(country), "freelancer", "Europe/Lisbon", false, false};
}

// "contract:episodes:open:steps_sent:tier:last_fl_at", sorted.
std::vector<std::string> stored_contracts(Store& store, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const ContractStateRow& c : store.contract_states(ids).value()) {
    out.push_back(fmt::format("{}:{}:{}:{}:{}:{}", c.contract, c.episodes, c.open, c.steps_sent, c.tier,
                              c.last_fl_at == kNoInstant ? "none" : std::to_string(c.last_fl_at)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "user:country:opted_out:bouncing", sorted.
std::vector<std::string> stored_users(Store& store, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const UserStateRow& u : store.user_states(ids).value()) {
    out.push_back(fmt::format("{}:{}:{}:{}", u.user, u.country, u.opted_out, u.bouncing));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Batch fenced(std::uint64_t epoch) {
  Batch b;
  b.fence = PartitionFence{epoch, std::nullopt};
  return b;
}

TEST_P(PartitionStateStoreContract, ContractsAreWhatTheirPartitionCommittedLast) {
  auto shared = opener_.open();
  if (GetParam() == Backend::kSqlite) {
    // A single serve's contracts and users are its engine's: SQLite holds none.
    Batch b;
    b.contract_states.push_back(contract_state("a", 1, true));
    EXPECT_FALSE(shared->commit(b));
    Batch u;
    u.named_users.push_back(user_state("f1", "PT"));
    EXPECT_FALSE(shared->commit(u));
    EXPECT_TRUE(shared->contract_states({"a"}).value().empty());
    EXPECT_TRUE(shared->user_states({"f1"}).value().empty());
    EXPECT_EQ(shared->contract_state_count().value(), 0u);
    return;
  }
  auto p0 = opener_.open_partition(0);
  auto p1 = opener_.open_partition(1);
  const std::uint64_t claim0 = p0->claim_partition().value().epoch;
  const std::uint64_t claim1 = p1->claim_partition().value().epoch;
  Batch first = fenced(claim0);
  ContractStateRow full = contract_state("a", 3, true);
  full.last_fl_at = 900;
  full.ended = true;
  first.contract_states = {full, contract_state("b", 0, false)};
  ASSERT_TRUE(p0->commit(first));
  Batch other = fenced(claim1);
  other.contract_states = {contract_state("\xC3\xA9", 1, false)};
  ASSERT_TRUE(p1->commit(other));

  const std::vector<std::string> all = {"a", "b", "\xC3\xA9", "unknown"};
  EXPECT_EQ(stored_contracts(*shared, all),
            (std::vector<std::string>{"a:3:true:1:2:900", "b:0:false:0:0:none", "\xC3\xA9:1:false:0:0:none"}));
  const ContractStateRow a = shared->contract_states({"a"}).value().at(0);
  EXPECT_EQ(a.client, "k1");
  EXPECT_EQ(a.freelancer, "f1");
  EXPECT_EQ(a.last_client_at, 1000);
  EXPECT_TRUE(a.ended);
  EXPECT_EQ(a.pending_since, 1000);
  EXPECT_EQ(shared->contract_states({"b"}).value().at(0).pending_since, kNoInstant);
  EXPECT_EQ(shared->contract_state_count().value(), 3u);
  // More ids than one query takes.
  std::vector<std::string> many(1200, "x");
  many.push_back("b");
  EXPECT_EQ(stored_contracts(*shared, many), (std::vector<std::string>{"b:0:false:0:0:none"}));

  // A change replaces the row; committing it again changes nothing.
  Batch next = fenced(claim0);
  next.contract_states = {contract_state("a", 3, false)};
  ASSERT_TRUE(p0->commit(next));
  Batch again = fenced(claim0);
  again.contract_states = next.contract_states;
  ASSERT_TRUE(p0->commit(again));
  EXPECT_EQ(stored_contracts(*shared, {"a"}), (std::vector<std::string>{"a:3:false:0:0:none"}));

  // Recovery replaces one partition's rows, and only that partition's.
  Batch replaced = fenced(claim0);
  replaced.replaces_contract_states = true;
  replaced.contract_states = {contract_state("c", 1, true)};
  ASSERT_TRUE(p0->commit(replaced));
  EXPECT_EQ(stored_contracts(*shared, all), (std::vector<std::string>{"\xC3\xA9:1:false:0:0:none"}));
  EXPECT_EQ(stored_contracts(*shared, {"c"}), (std::vector<std::string>{"c:1:true:1:2:none"}));

  // A stale claim changes nothing; a store of no partition stores none.
  ASSERT_TRUE(opener_.open_partition(0)->claim_partition());
  Batch stale = fenced(claim0);
  stale.contract_states = {contract_state("c", 2, false)};
  EXPECT_FALSE(p0->commit(stale));
  Batch unfenced;
  unfenced.contract_states = {contract_state("z", 1, false)};
  EXPECT_FALSE(shared->commit(unfenced));
  EXPECT_EQ(stored_contracts(*shared, {"c", "z"}), (std::vector<std::string>{"c:1:true:1:2:none"}));
}

TEST_P(PartitionStateStoreContract, UsersArePartitionZerosAndTheOthersAddOnlyTheMissingOnes) {
  if (GetParam() == Backend::kSqlite) GTEST_SKIP() << "SQLite holds none (the test above)";
  auto shared = opener_.open();
  auto p0 = opener_.open_partition(0);
  auto p1 = opener_.open_partition(1);
  const std::uint64_t claim0 = p0->claim_partition().value().epoch;
  const std::uint64_t claim1 = p1->claim_partition().value().epoch;
  const std::vector<std::string> ids = {"f1", "f2", "k1", "k2"};

  // Partition 1 applies the same user events as partition 0, which stores
  // them; it adds the users its contracts name, when missing.
  Batch b1 = fenced(claim1);
  b1.user_states = {user_state("f1", "DE")};
  b1.named_users = {user_state("k1", "IN"), user_state("f2", "BR")};
  ASSERT_TRUE(p1->commit(b1));
  EXPECT_EQ(stored_users(*shared, ids), (std::vector<std::string>{"f2:BR:false:false", "k1:IN:false:false"}));

  // Partition 0's rows win, a user named twice in a batch is written once.
  Batch b0 = fenced(claim0);
  UserStateRow opted = user_state("f1", "PT");
  opted.opted_out = true;
  UserStateRow bouncing = user_state("k1", "FR");
  bouncing.bouncing = true;
  b0.user_states = {opted, bouncing};
  b0.named_users = {bouncing, user_state("k2", "")};
  ASSERT_TRUE(p0->commit(b0));
  EXPECT_EQ(stored_users(*shared, ids),
            (std::vector<std::string>{"f1:PT:true:false", "f2:BR:false:false", "k1:FR:false:true", "k2::false:false"}));
  const UserStateRow f1 = shared->user_states({"f1"}).value().at(0);
  EXPECT_EQ(f1.kind, "freelancer");
  EXPECT_EQ(f1.tz, "Europe/Lisbon");

  // Another partition never overwrites a stored user.
  Batch late = fenced(claim1);
  late.named_users = {user_state("f1", "DE")};
  ASSERT_TRUE(p1->commit(late));
  EXPECT_EQ(stored_users(*shared, {"f1"}), (std::vector<std::string>{"f1:PT:true:false"}));
  Batch unfenced;
  unfenced.user_states = {user_state("z", "DE")};
  EXPECT_FALSE(shared->commit(unfenced));
}

INSTANTIATE_TEST_SUITE_P(Backends, PartitionStateStoreContract, GW_ALL_BACKENDS);

}  // namespace
}  // namespace gw::test
