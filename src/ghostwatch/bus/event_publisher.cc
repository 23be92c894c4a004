#include "ghostwatch/bus/event_publisher.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
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
// Any fixed number: the key of the advisory lock publishers take turns on.
constexpr std::int64_t kPublishTurn = 0x67772d707562;  // "gw-pub"
// Pending messages published at a time when catching up.
constexpr std::size_t kPendingPage = 10'000;

std::string publisher_error(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

// A publisher's turn: a PostgreSQL session advisory lock on its connection,
// from the first pending message it publishes to the last ack it waits for.
// If the connection dies, the lock goes with it.
class PublishTurn {
 public:
  explicit PublishTurn(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", kPublishTurn);
  }
  ~PublishTurn() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", kPublishTurn);
    } catch (const std::exception&) {
      // The connection is gone, and the lock with it.
    }
  }
  PublishTurn(const PublishTurn&) = delete;
  PublishTurn& operator=(const PublishTurn&) = delete;

 private:
  pqxx::connection& conn_;
};

// Numbers one message of the log for `partition` after `position`'s
// (whose seq and watermark the caller moved to this line's).
PendingMessage next_message(LogPosition& position, std::uint32_t partition, std::string_view control,
                            std::string_view data) {
  const std::uint64_t partition_seq = ++position.partition_seqs[partition];
  return PendingMessage{partition,
                        partition_seq,
                        position.seq,
                        position.watermark,
                        fmt::format("{}:{}", position.seq, partition),
                        std::string(control),
                        std::string(data)};
}

// A recorded body's answer while its messages wait for the bus.
std::string not_yet_published(const std::string& body, std::string_view why) {
  auto answer = nlohmann::ordered_json::parse(body);
  answer["published"] = false;
  answer["error"] = {{"code", "bus_unavailable"},
                     {"message", fmt::format("{}; the events are recorded and reach the log before any later "
                                             "request's once the bus takes them: do not send them again",
                                             why)}};
  return answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

pqxx::connection& EventPublisher::connection() {
  if (!conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(store_url_);
  return *conn_;
}

PublishReply EventPublisher::publish(std::string_view body, const std::string& idempotency_key,
                                     std::uint64_t first_line) {
  std::lock_guard lock(mu_);
  try {
    PublishTurn turn(connection());
    return publish_in_turn(body, idempotency_key, first_line);
  } catch (const std::exception& e) {
    PublishReply reply;
    reply.status = 503;
    reply.body = publisher_error("store_unavailable",
                                 fmt::format("store: publishing failed, nothing was recorded: {}", e.what()));
    return reply;
  }
}

Status EventPublisher::publish_control(std::string_view control, std::string_view data) {
  std::lock_guard lock(mu_);
  try {
    PublishTurn turn(connection());
    if (auto flushed = flush_in_turn(); !flushed) {
      return Status::error(fmt::format("{}; the {} was not recorded", flushed.message(), control));
    }
    std::vector<PendingMessage> messages;
    {
      pqxx::work tx(*conn_);
      auto position = lock_position(tx, settings_.partitions);
      if (!position) return position.status();
      ++position->seq;
      for (std::uint32_t p = 0; p < settings_.partitions; ++p) {
        messages.push_back(next_message(*position, p, control, data));
      }
      save_position(tx, *position);
      save_pending(tx, messages);
      tx.commit();
    }
    if (auto sent = send(messages); !sent) {
      return Status::error(
          fmt::format("{}; the {} is recorded and reaches the partitions before anything later once the bus takes it",
                      sent.message(), control));
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: publishing a control message ({}) failed: {}", control, e.what()));
  }
}

Result<JetStream::Acks> EventPublisher::flush_pending() {
  std::lock_guard lock(mu_);
  try {
    {  // the usual case, without taking a turn
      pqxx::nontransaction tx(connection());
      const auto pending = tx.exec1("SELECT COUNT(*) FROM bus_pending")[0].as<std::uint64_t>();
      if (metrics_ != nullptr) metrics_->set_pending(pending);
      if (pending == 0) return JetStream::Acks{};
    }
    PublishTurn turn(*conn_);
    auto flushed = flush_in_turn();
    if (flushed && metrics_ != nullptr) metrics_->set_pending(0);
    return flushed;
  } catch (const std::exception& e) {
    return Status::error(fmt::format("store: publishing the recorded messages failed: {}", e.what()));
  }
}

Result<JetStream::Acks> EventPublisher::flush_in_turn() {
  JetStream::Acks total;
  for (;;) {
    std::vector<PendingMessage> page;
    {
      pqxx::work tx(*conn_);
      page = load_pending(tx, kPendingPage);
      tx.commit();
    }
    if (page.empty()) return total;
    auto acks = send(page);
    if (!acks) return acks.status();
    total.stored += acks->stored;
    total.duplicates += acks->duplicates;
  }
}

Result<JetStream::Acks> EventPublisher::send(const std::vector<PendingMessage>& messages) {
  const auto started = std::chrono::steady_clock::now();
  std::string subject;
  for (const PendingMessage& m : messages) {
    subject = subject_of(m.partition);
    if (Status s = js_->publish(LogMessage{subject, m.msg_id, m.seq, m.partition_seq, m.watermark, m.control, m.data});
        !s) {
      // The messages sent so far are settled here, not counted in the next acks.
      [[maybe_unused]] auto settled = js_->wait_acks(kAckTimeout);
      if (metrics_ != nullptr) metrics_->publish_failed();
      return s;
    }
  }
  auto acks = js_->wait_acks(kAckTimeout);
  if (metrics_ != nullptr) {
    if (acks) {
      metrics_->published(acks->stored, acks->duplicates,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    } else {
      metrics_->publish_failed();
    }
  }
  if (!acks || messages.empty()) return acks;
  try {
    pqxx::work tx(*conn_);
    drop_pending_through(tx, messages.back());
    tx.commit();
  } catch (const std::exception&) {
    // Stored all the same; published again later, the copies are dropped
    // by the stream or by the partitions' consumers.
  }
  return acks;
}

PublishReply EventPublisher::publish_in_turn(std::string_view body, const std::string& key, std::uint64_t first_line) {
  PublishReply reply;
  const Instant now = clock_.now();
  const std::string digest = sha256_hex(body);
  std::optional<IdempotentResponse> earlier;
  if (!key.empty()) {
    pqxx::work tx(*conn_);
    earlier = find_response(tx, key);
    tx.commit();
    if (earlier && earlier->request_sha256 != digest) {
      reply.status = 422;
      reply.body = publisher_error("idempotency_key_reused",
                                   "this Idempotency-Key was used with a different body; use a new key for new events");
      return reply;
    }
  }
  auto flushed = flush_in_turn();
  if (flushed) {
    reply.messages = flushed->stored;
    reply.duplicates = flushed->duplicates;
  }
  if (earlier) {
    // Its messages were recorded with it: stored now, unless the bus still refuses them.
    reply.status = flushed ? earlier->status : 202;
    reply.body = flushed ? earlier->body : not_yet_published(earlier->body, flushed.message());
    reply.replayed = true;
    return reply;
  }
  if (!flushed) {
    reply.status = 503;
    reply.body =
        publisher_error("bus_unavailable",
                        flushed.message() +
                            "; earlier requests' events wait for the bus, and this request was not recorded: send it "
                            "again");
    return reply;
  }

  std::vector<PendingMessage> messages;
  {
    pqxx::work tx(*conn_);
    auto position = lock_position(tx, settings_.partitions);
    if (!position) {
      reply.status = 503;
      reply.body = publisher_error("bus_misconfigured", position.message());
      return reply;
    }
    ParsedBody parsed = parse_body(body, first_line);
    ContractBook book;
    load_contracts(tx, parsed.contracts, book);
    const Routing routing = route(parsed, book, settings_.partitions);
    for (const RoutedLine& r : routing.lines) {
      ++position->seq;
      position->watermark = std::max(position->watermark, r.parsed->at);
      const std::uint32_t first = r.every_partition ? 0 : r.partition;
      const std::uint32_t last = r.every_partition ? settings_.partitions - 1 : r.partition;
      for (std::uint32_t p = first; p <= last; ++p) messages.push_back(next_message(*position, p, {}, r.parsed->raw));
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
    save_position(tx, *position);
    save_rejects(tx, routing.rejects, now);
    if (!key.empty()) save_response(tx, IdempotentResponse{key, digest, 200, reply.body}, now);
    save_pending(tx, messages);
    tx.commit();
  }
  auto acks = send(messages);
  if (!acks) {
    reply.status = 202;
    reply.body = not_yet_published(reply.body, acks.message());
    return reply;
  }
  reply.messages += acks->stored;
  reply.duplicates += acks->duplicates;
  return reply;
}

}  // namespace gw::bus
