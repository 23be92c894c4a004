#include "ghostwatch/bus/event_publisher.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ghostwatch/bus/bus_ledger.h"
#include "ghostwatch/bus/event_router.h"
#include "ghostwatch/bus/partition_consumer.h"
#include "ghostwatch/core/hex.h"
#include "ghostwatch/store/postgres/pg_schema.h"

namespace gw::bus {
namespace {

// How long a body may wait for JetStream's acks before it is refused.
constexpr Duration kAckTimeout = 30 * kSecond;

std::string publisher_error(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

}  // namespace

EventPublisher::EventPublisher(BusSettings settings, std::string store_url, const Clock& clock,
                               std::unique_ptr<pqxx::connection> conn, std::unique_ptr<JetStream> js)
    : settings_(std::move(settings)),
      store_url_(std::move(store_url)),
      clock_(clock),
      conn_(std::move(conn)),
      js_(std::move(js)) {}

EventPublisher::~EventPublisher() = default;

Result<std::unique_ptr<EventPublisher>> EventPublisher::open(const BusSettings& settings, const std::string& store_url,
                                                             const Clock& clock, std::int64_t in_flight) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(store_url);
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: cannot connect to PostgreSQL: {}", e.what()));
  }
  if (auto version = pg::migrate(*conn); !version) return version.status();
  try {  // the partition count, fixed by the first publisher, before anything is published
    pqxx::work tx(*conn);
    if (auto position = lock_position(tx, settings.partitions); !position) return position.status();
    tx.commit();
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: reading the event log's position failed: {}", e.what()));
  }
  auto js = JetStream::connect(settings, in_flight);
  if (!js) return js.status();
  return std::unique_ptr<EventPublisher>(
      new EventPublisher(settings, store_url, clock, std::move(conn), std::move(*js)));
}

PublishReply EventPublisher::publish(std::string_view body, const std::string& idempotency_key,
                                     std::uint64_t first_line) {
  std::lock_guard lock(mu_);
  LogPosition sent;  // how far this body's messages went, when it fails
  PublishReply reply;
  try {
    if (!conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(store_url_);
    reply = publish_locked(body, idempotency_key, first_line, sent);
  } catch (const std::exception& e) {
    reply = PublishReply{};
    reply.status = 503;
    reply.body = publisher_error("store_unavailable",
                                 fmt::format("store: publishing failed, nothing was recorded: {}", e.what()));
  }
  if (reply.status == 503 && sent.seq > 0) skip_past(sent);
  return reply;
}

Status EventPublisher::publish_control(std::string_view control, std::string_view data) {
  std::lock_guard lock(mu_);
  LogPosition sent;  // how far the messages went, when it fails
  Status status = Status::ok();
  try {
    if (!conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(store_url_);
    pqxx::work tx(*conn_);
    auto position = lock_position(tx, settings_.partitions);
    if (!position) return position.status();
    LogPosition at = *position;
    ++at.seq;
    for (std::uint32_t p = 0; p < settings_.partitions && status; ++p) {
      const std::string msg_id = fmt::format("{}:{}:{}", control, at.seq, p);
      const std::string subject = subject_of(p);
      sent = at;
      status = js_->publish(LogMessage{subject, msg_id, at.seq, at.watermark, control, data});
    }
    if (auto acks = js_->wait_acks(kAckTimeout); status && !acks) status = acks.status();
    if (status) {
      save_position(tx, at);
      tx.commit();
    }
  } catch (const std::exception& e) {
    status = Status::error(fmt::format("store: publishing a control message ({}) failed: {}", control, e.what()));
  }
  if (!status && sent.seq > 0) skip_past(sent);
  return status;
}

void EventPublisher::skip_past(const LogPosition& sent) {
  try {
    pqxx::work tx(*conn_);
    auto position = lock_position(tx, settings_.partitions);
    if (!position) return;
    save_position(tx, LogPosition{std::max(position->seq, sent.seq), std::max(position->watermark, sent.watermark)});
    tx.commit();
  } catch (const std::exception&) {
    // PostgreSQL is what failed: the numbers may be given again (docs/operations.md, the known gap).
  }
}

PublishReply EventPublisher::publish_locked(std::string_view body, const std::string& key, std::uint64_t first_line,
                                            LogPosition& sent) {
  PublishReply reply;
  const Instant now = clock_.now();
  const std::string digest = sha256_hex(body);
  pqxx::work tx(*conn_);
  auto position = lock_position(tx, settings_.partitions);
  if (!position) {
    reply.status = 503;
    reply.body = publisher_error("bus_misconfigured", position.message());
    return reply;
  }
  if (!key.empty()) {
    if (auto earlier = find_response(tx, key)) {
      if (earlier->request_sha256 != digest) {
        reply.status = 422;
        reply.body =
            publisher_error("idempotency_key_reused",
                            "this Idempotency-Key was used with a different body; use a new key for new events");
        return reply;
      }
      reply.status = earlier->status;
      reply.body = earlier->body;
      reply.replayed = true;
      return reply;
    }
  }

  ParsedBody parsed = parse_body(body, first_line);
  ContractBook book;
  load_contracts(tx, parsed.contracts, book);
  const Routing routing = route(parsed, book, settings_.partitions);

  // Publish every accepted line, numbered and stamped in order.
  const std::string& id_base = key.empty() ? digest : key;
  std::string msg_id;
  std::string subject;
  LogPosition at = *position;
  for (const RoutedLine& r : routing.lines) {
    ++at.seq;
    at.watermark = std::max(at.watermark, r.parsed->at);
    const std::uint32_t first = r.every_partition ? 0 : r.partition;
    const std::uint32_t last = r.every_partition ? settings_.partitions - 1 : r.partition;
    sent = at;
    for (std::uint32_t p = first; p <= last; ++p) {
      msg_id = fmt::format("{}:{}:{}", id_base, r.parsed->line, p);
      subject = subject_of(p);
      if (Status s = js_->publish(LogMessage{subject, msg_id, at.seq, at.watermark, {}, r.parsed->raw}); !s) {
        // The messages sent so far are settled here, not counted in the next body's acks.
        [[maybe_unused]] auto settled = js_->wait_acks(kAckTimeout);
        reply.status = 503;
        reply.body = publisher_error(
            "bus_unavailable", s.message() + "; the request was not recorded: retry it with the same Idempotency-Key");
        return reply;
      }
    }
  }

  nlohmann::ordered_json rejects = nlohmann::ordered_json::array();
  for (const RejectRow& r : routing.rejects) {
    rejects.push_back({{"line", r.line}, {"reason", reject_reason_name(r.reason)}});
  }
  reply.accepted = routing.lines.size();
  reply.rejected = routing.rejects.size();
  reply.body =
      nlohmann::ordered_json{{"accepted", reply.accepted}, {"rejected", reply.rejected}, {"rejects", rejects}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
  save_contracts(tx, book);
  save_position(tx, at);
  save_rejects(tx, routing.rejects, now);
  if (!key.empty()) save_response(tx, IdempotentResponse{key, digest, 200, reply.body}, now);

  auto acks = js_->wait_acks(kAckTimeout);
  if (!acks) {
    reply = PublishReply{};
    reply.status = 503;
    reply.body = publisher_error(
        "bus_unavailable", acks.message() + "; the request was not recorded: retry it with the same Idempotency-Key");
    return reply;
  }
  reply.messages = acks->stored;
  reply.duplicates = acks->duplicates;
  tx.commit();
  return reply;
}

}  // namespace gw::bus
