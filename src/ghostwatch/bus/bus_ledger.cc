#include "ghostwatch/bus/bus_ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "ghostwatch/store/postgres/pg_rows.h"
#include "ghostwatch/store/postgres/pg_values.h"

namespace gw::bus {
namespace {

// A PostgreSQL array literal of `values` ({"a","b"}), for $n::text[].
template <typename T, typename F>
std::string ledger_array(const std::vector<T>& values, F&& element) {
  std::string out = "{";
  for (const T& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : std::string(element(v))) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

Result<LogPosition> lock_position(pqxx::work& tx, std::uint32_t partitions) {
  const pqxx::row r = tx.exec1(
      "SELECT seq, watermark, partitions, array_to_string(partition_seqs, ',') FROM bus_position WHERE id = 1 FOR "
      "UPDATE");
  const auto fixed = r[2].as<std::int64_t>();
  if (fixed == 0) {
    tx.exec_params0("UPDATE bus_position SET partitions = $1 WHERE id = 1", static_cast<std::int64_t>(partitions));
  } else if (fixed != partitions) {
    return Status::error(fmt::format(
        "bus.partitions: the event log was started with {} partitions; it cannot change to {} (contracts would move "
        "partitions)",
        fixed, partitions));
  }
  LogPosition position{r[0].as<std::uint64_t>(), r[1].as<Instant>(), {}};
  position.partition_seqs.reserve(partitions);
  const std::string_view seqs = r[3].c_str();
  for (std::size_t start = 0; start < seqs.size();) {
    const std::size_t comma = std::min(seqs.find(',', start), seqs.size());
    std::uint64_t n = 0;
    std::from_chars(seqs.data() + start, seqs.data() + comma, n);
    position.partition_seqs.push_back(n);
    start = comma + 1;
  }
  position.partition_seqs.resize(partitions, 0);  // a log from before migration 6 starts every partition at 0
  return position;
}

void save_position(pqxx::work& tx, const LogPosition& position) {
  tx.exec_params0("UPDATE bus_position SET seq = $1, watermark = $2, partition_seqs = $3::bigint[] WHERE id = 1",
                  static_cast<std::int64_t>(position.seq), position.watermark,
                  ledger_array(position.partition_seqs, [](std::uint64_t n) { return std::to_string(n); }));
}

std::vector<PendingMessage> load_pending(pqxx::work& tx, std::size_t limit) {
  const pqxx::result rows = tx.exec_params(
      "SELECT partition, partition_seq, seq, watermark, msg_id, control, data FROM bus_pending ORDER BY seq, "
      "partition LIMIT $1",
      static_cast<std::int64_t>(limit));
  std::vector<PendingMessage> out;
  out.reserve(rows.size());
  for (const pqxx::row& r : rows) {
    out.push_back(PendingMessage{r[0].as<std::uint32_t>(), r[1].as<std::uint64_t>(), r[2].as<std::uint64_t>(),
                                 r[3].as<Instant>(), pg::text(r[4]), pg::text(r[5]), pg::bytes(r[6])});
  }
  return out;
}

void save_pending(pqxx::work& tx, const std::vector<PendingMessage>& messages) {
  pg::StatementRows rows(
      tx, "INSERT INTO bus_pending(partition, partition_seq, seq, watermark, msg_id, control, data) VALUES ");
  for (const PendingMessage& m : messages) {
    rows.add(fmt::format("({},{},{},{},{},{},{})", m.partition, m.partition_seq, m.seq, m.watermark,
                         rows.text(m.msg_id), rows.text(m.control), tx.quote_raw(m.data)));
  }
  rows.flush();
}

void drop_pending_through(pqxx::work& tx, const PendingMessage& last) {
  tx.exec_params0("DELETE FROM bus_pending WHERE (seq, partition) <= ($1, $2)", static_cast<std::int64_t>(last.seq),
                  static_cast<std::int64_t>(last.partition));
}

void load_contracts(pqxx::work& tx, const std::vector<std::string>& ids, ContractBook& book) {
  if (ids.empty()) return;
  const pqxx::result rows = tx.exec_params(
      "SELECT contract, partition, client, freelancer, ended FROM contract_partitions WHERE contract = ANY($1::text[])",
      ledger_array(ids, [](const std::string& s) { return s; }));
  for (const pqxx::row& r : rows) {
    book.emplace(pg::text(r[0]),
                 ContractRoute{r[1].as<std::uint32_t>(), pg::text(r[2]), pg::text(r[3]), r[4].as<bool>(), false});
  }
}

void save_contracts(pqxx::work& tx, const ContractBook& book) {
  std::vector<const ContractBook::value_type*> changed;
  for (const auto& entry : book) {
    if (entry.second.changed) changed.push_back(&entry);
  }
  if (changed.empty()) return;
  using Entry = const ContractBook::value_type*;
  tx.exec_params0(
      "INSERT INTO contract_partitions(contract, partition, client, freelancer, ended) SELECT * FROM "
      "unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bool[]) ON CONFLICT (contract) DO UPDATE SET ended "
      "= EXCLUDED.ended",
      ledger_array(changed, [](Entry e) { return e->first; }),
      ledger_array(changed, [](Entry e) { return std::to_string(e->second.partition); }),
      ledger_array(changed, [](Entry e) { return e->second.client; }),
      ledger_array(changed, [](Entry e) { return e->second.freelancer; }),
      ledger_array(changed, [](Entry e) { return std::string(e->second.ended ? "t" : "f"); }));
}

void save_rejects(pqxx::work& tx, const std::vector<RejectRow>& rejects, Instant received_at) {
  for (const RejectRow& r : rejects) {
    tx.exec_params0("INSERT INTO rejects(received_at, line, reason, raw) VALUES($1, $2, $3, $4)", received_at,
                    static_cast<std::int64_t>(r.line), std::string(reject_reason_name(r.reason)),
                    pqxx::binarystring(r.raw.data(), r.raw.size()));
  }
}

std::optional<IdempotentResponse> find_response(pqxx::work& tx, const std::string& key) {
  const pqxx::result rows = tx.exec_params("SELECT request_sha256, status, body FROM idempotency WHERE key = $1", key);
  if (rows.empty()) return std::nullopt;
  return IdempotentResponse{key, pg::text(rows[0][0]), rows[0][1].as<int>(), pg::text(rows[0][2])};
}

void save_response(pqxx::work& tx, const IdempotentResponse& r, Instant created_at) {
  tx.exec_params0("INSERT INTO idempotency(key, request_sha256, status, body, created_at) VALUES($1, $2, $3, $4, $5)",
                  r.key, r.request_sha256, r.status, r.body, created_at);
}

}  // namespace gw::bus
