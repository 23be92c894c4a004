// The event log's bookkeeping in PostgreSQL (schema migrations 2 and 6):
// the log's position (one row: the last line's sequence number, the running
// maximum event time, the partition count, each partition's last
// Gw-Partition-Seq), what the router remembers of each contract
// (ContractBook), and the messages recorded but not yet acknowledged by
// JetStream (pending). Every call runs in the caller's transaction and
// throws what libpqxx throws; lock_position() first.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ghostwatch/bus/event_router.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/store/rows.h"

namespace gw::bus {

struct LogPosition {
  std::uint64_t seq = 0;                      // of the last line recorded (0: none yet)
  Instant watermark = kNoInstant;             // max event time of the lines recorded
  std::vector<std::uint64_t> partition_seqs;  // per partition: its last message's number (0: none yet)
};

// A message of the log as recorded before it is published: it stays in
// PostgreSQL until JetStream acknowledged it, and is published again, with
// the same Nats-Msg-Id and numbers, until it is.
struct PendingMessage {
  std::uint32_t partition = 0;
  std::uint64_t partition_seq = 0;  // Gw-Partition-Seq
  std::uint64_t seq = 0;            // Gw-Seq
  Instant watermark = 0;            // Gw-Watermark
  std::string msg_id;               // Nats-Msg-Id
  std::string control;              // Gw-Control (empty: an event line)
  std::string data;
};

// Locks the position row until the transaction ends. The first publisher
// fixes the partition count; another count is refused (contracts would move
// partitions). partition_seqs has one entry per partition.
Result<LogPosition> lock_position(pqxx::work& tx, std::uint32_t partitions);
void save_position(pqxx::work& tx, const LogPosition& position);

// The messages recorded and not acknowledged yet, in the log's order
// (Gw-Seq, then partition), at most `limit`.
std::vector<PendingMessage> load_pending(pqxx::work& tx, std::size_t limit);
void save_pending(pqxx::work& tx, const std::vector<PendingMessage>& messages);
// Forgets the pending messages up to `last` in the log's order (JetStream
// has them).
void drop_pending_through(pqxx::work& tx, const PendingMessage& last);

// Adds to `book` every contract of `ids` the log knows.
void load_contracts(pqxx::work& tx, const std::vector<std::string>& ids, ContractBook& book);
// Writes the contracts `book` marks changed.
void save_contracts(pqxx::work& tx, const ContractBook& book);

// Rejected lines, kept with the others (GET /v1/rejects).
void save_rejects(pqxx::work& tx, const std::vector<RejectRow>& rejects, Instant received_at);

// The idempotent responses, in the table the store keeps them in.
std::optional<IdempotentResponse> find_response(pqxx::work& tx, const std::string& key);
void save_response(pqxx::work& tx, const IdempotentResponse& r, Instant created_at);

}  // namespace gw::bus
