// Routes NDJSON event lines to the partitions of the event log
// (docs/operations.md, "Scaling out: the event log"), deciding every reject
// exactly as replay would: rules 1-7 by LineParser, and the state rules
// (rule 8) from a ContractBook, which remembers what they need of each
// contract. So every line that is routed will be accepted by the partition's
// engine, and a rejected line is never published.
//
//   contract_started            -> partition_of(freelancer): a freelancer's
//                                  contracts share one partition, so the
//                                  frequency cap sees all their nudges
//   message, contract_ended     -> the contract's partition, as remembered
//   user, opt_out, opt_in       -> every partition (each engine needs every
//                                  user's attributes)
//
// Not thread-safe; pure (no I/O): the caller loads the book and saves what
// changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/store/rows.h"

namespace gw::bus {

// XXH64 (seed 0) of `key`'s bytes, modulo `partitions`: stable across
// processes, builds and machines (a changed partition count moves keys,
// which is why the count is fixed once the log has events).
std::uint32_t partition_of(std::string_view key, std::uint32_t partitions);

// "ghostwatch.events.<p>"
std::string subject_of(std::uint32_t partition);

// What the log remembers of a contract.
struct ContractRoute {
  std::uint32_t partition = 0;
  std::string client;
  std::string freelancer;
  bool ended = false;
  bool changed = false;  // by this body: to be saved with it
};
using ContractBook = std::unordered_map<std::string, ContractRoute>;

// A line that passed rules 1-7, with what routing needs.
struct ParsedLine {
  std::uint64_t line = 0;  // 1-based
  std::string raw;
  EventType type = EventType::kUser;
  Instant at = 0;
  std::string contract, client, freelancer, from;
};

struct ParsedBody {
  std::vector<ParsedLine> lines;       // in body order
  std::vector<RejectRow> rejects;      // rules 1-7, in body order
  std::vector<std::string> contracts;  // every contract id the lines name, once each
};

// Parses every line of `body` (numbered from `first_line`); blank lines are
// skipped and counted, as in replay.
ParsedBody parse_body(std::string_view body, std::uint64_t first_line);

struct RoutedLine {
  const ParsedLine* parsed = nullptr;
  std::uint32_t partition = 0;
  bool every_partition = false;
};

struct Routing {
  std::vector<RoutedLine> lines;   // accepted, in body order
  std::vector<RejectRow> rejects;  // all of them, in line order
};

// Applies the state rules to `body`'s lines in order against `book` (which
// must hold every contract of body.contracts that the log knows), adding
// new contracts and marking ended ones. `body` must outlive the result.
Routing route(ParsedBody& body, ContractBook& book, std::uint32_t partitions);

}  // namespace gw::bus
