#include "ghostwatch/bus/event_router.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <unordered_set>

#include "ghostwatch/ingest/line_parser.h"

namespace gw::bus {

std::uint32_t partition_of(std::string_view key, std::uint32_t partitions) {
  return static_cast<std::uint32_t>(XXH64(key.data(), key.size(), 0) % partitions);
}

std::string subject_of(std::uint32_t partition) { return fmt::format("ghostwatch.events.{}", partition); }

ParsedBody parse_body(std::string_view body, std::uint64_t first_line) {
  ParsedBody out;
  std::unordered_set<std::string_view> named;
  LineParser parser;
  Event e;
  std::uint64_t number = first_line - 1;
  while (!body.empty()) {
    const std::string_view line = take_body_line(body);
    ++number;
    if (is_blank_line(line)) continue;
    const RejectReason r = parser.parse_copy(line, e);
    if (r != RejectReason::kNone) {
      out.rejects.push_back(RejectRow{number, r, std::string(line)});
      continue;
    }
    // Only the fields this event has: an absent field's slot still holds a
    // view into an earlier line, which the parser has since reused.
    const auto field = [&](Field f) { return e.has(f) ? std::string(e.get(f)) : std::string(); };
    ParsedLine p{number,
                 std::string(line),
                 e.type,
                 e.at,
                 {},
                 field(Field::kClient),
                 field(Field::kFreelancer),
                 field(Field::kFrom)};
    if (e.type != EventType::kUser) p.contract = field(Field::kContract);
    out.lines.push_back(std::move(p));
  }
  for (const ParsedLine& p : out.lines) {
    if (!p.contract.empty() && named.insert(p.contract).second) out.contracts.push_back(p.contract);
  }
  return out;
}

namespace {

// Spec rule 8 for a line of a contract, updating `book` when accepted.
RejectReason router_apply(const ParsedLine& p, ContractBook& book, std::uint32_t partitions, std::uint32_t& partition) {
  auto it = book.find(p.contract);
  if (p.type == EventType::kContractStarted) {
    if (it != book.end()) return RejectReason::kDuplicateContract;
    if (p.client == p.freelancer) return RejectReason::kBadField;
    partition = partition_of(p.freelancer, partitions);
    book.emplace(p.contract, ContractRoute{partition, p.client, p.freelancer, false, true});
    return RejectReason::kNone;
  }
  if (it == book.end()) return RejectReason::kUnknownContract;
  ContractRoute& c = it->second;
  if (c.ended) return RejectReason::kContractEnded;
  if (p.type == EventType::kMessage && p.from != c.client && p.from != c.freelancer) return RejectReason::kNotAParty;
  if (p.type == EventType::kContractEnded) {
    c.ended = true;
    c.changed = true;
  }
  partition = c.partition;
  return RejectReason::kNone;
}

}  // namespace

Routing route(ParsedBody& body, ContractBook& book, std::uint32_t partitions) {
  Routing out;
  out.lines.reserve(body.lines.size());
  for (const ParsedLine& p : body.lines) {
    if (p.type == EventType::kUser || p.type == EventType::kOptOut || p.type == EventType::kOptIn) {
      out.lines.push_back(RoutedLine{&p, 0, true});
      continue;
    }
    std::uint32_t partition = 0;
    const RejectReason r = router_apply(p, book, partitions, partition);
    if (r != RejectReason::kNone) {
      out.rejects.push_back(RejectRow{p.line, r, p.raw});
      continue;
    }
    out.lines.push_back(RoutedLine{&p, partition, false});
  }
  out.rejects.insert(out.rejects.end(), body.rejects.begin(), body.rejects.end());
  std::sort(out.rejects.begin(), out.rejects.end(),
            [](const RejectRow& a, const RejectRow& b) { return a.line < b.line; });
  return out;
}

}  // namespace gw::bus
