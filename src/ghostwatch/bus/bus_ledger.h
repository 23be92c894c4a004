// The event log's bookkeeping in PostgreSQL (schema migration 2): the log's
// position (one row: the last line's sequence number, the running maximum
// event time, the partition count) and what the router remembers of each
// contract (ContractBook). Every call runs in the caller's transaction and
// throws what libpqxx throws; lock_position() first, so publishers take
// turns and the sequence follows publish order.
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
  std::uint64_t seq = 0;           // of the last line published (0: none yet)
  Instant watermark = kNoInstant;  // max event time of the lines published
};

// Locks the position row until the transaction ends. The first publisher
// fixes the partition count; another count is refused (contracts would move
// partitions).
Result<LogPosition> lock_position(pqxx::work& tx, std::uint32_t partitions);
void save_position(pqxx::work& tx, const LogPosition& position);

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
