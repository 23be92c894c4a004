// The publish side of the event log: takes NDJSON bodies (POST /v1/events
// in bus mode, `ghostwatch publish`), rejects bad lines with replay's
// reasons (EventRouter), and publishes every other line to its partition's
// subject, or to all of them, with the headers
//   Nats-Msg-Id   <idempotency key or sha256 of the body>:<line>:<partition>
//   Gw-Seq        the line's number in the order of the whole log (1, 2, ...)
//   Gw-Watermark  the largest event time (ms) of the lines up to this one
// and answers once JetStream has stored every message.
//
// One body is one PostgreSQL transaction: it locks the log's position,
// routes against the contracts the log knows, writes the new contracts, the
// position, the rejects and the idempotent response, publishes, waits for
// every ack, and only then commits. So the sequence follows publish order
// across publishers (they take turns on the row lock), and a body is either
// answered and recorded entirely or refused (503) with nothing recorded; a
// retry with the same Idempotency-Key re-sends the same Nats-Msg-Ids, which
// the stream drops within its duplicate window. A refused body's Gw-Seq
// numbers are skipped, never given to another line.
//
// Thread-safe: bodies are published one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/bus/bus_ledger.h"
#include "ghostwatch/bus/jetstream.h"
#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"

namespace gw::bus {

struct PublishReply {
  int status = 200;
  std::string body;       // JSON: {"accepted":N,"rejected":M,"rejects":[{"line":L,"reason":"..."}]}
  bool replayed = false;  // an earlier response to the same Idempotency-Key
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t messages = 0;    // stored by the stream (a user event counts once per partition)
  std::uint64_t duplicates = 0;  // dropped by the stream as seen before
};

class EventPublisher {
 public:
  // Connects to PostgreSQL at `store_url` (migrating its schema; refusing
  // a partition count other than the log's) and to the bus (creating or
  // checking the stream). `clock` must outlive it.
  // `in_flight`: messages sent and not yet acknowledged at most (publish
  // blocks while the window is full).
  static Result<std::unique_ptr<EventPublisher>> open(const BusSettings& settings, const std::string& store_url,
                                                      const Clock& clock, std::int64_t in_flight = 4096);
  ~EventPublisher();

  // Publishes `body`, its lines numbered from `first_line`. With a
  // non-empty `idempotency_key`, a repeat of the same body returns the
  // first response and publishes nothing; the same key with another body
  // is refused (422). 503 when PostgreSQL or JetStream failed (nothing
  // recorded; retry with the same key).
  PublishReply publish(std::string_view body, const std::string& idempotency_key, std::uint64_t first_line = 1);

  // Publishes a control message to every partition, numbered in the log
  // like a line (partition_consumer.h lists them): an advance (POST
  // /v1/advance under --clock events; `data` the time in ms), after which
  // each partition's engine evaluates every step due at or before it, or a
  // bounce (`data` as bounce_text gives it). Returns once every partition
  // has it.
  Status publish_control(std::string_view control, std::string_view data);

  const BusSettings& settings() const { return settings_; }

 private:
  EventPublisher(BusSettings settings, std::string store_url, const Clock& clock,
                 std::unique_ptr<pqxx::connection> conn, std::unique_ptr<JetStream> js);
  // `sent`: the position of the last line whose messages were handed to
  // JetStream, so that a failed body's numbers are never given again.
  PublishReply publish_locked(std::string_view body, const std::string& key, std::uint64_t first_line,
                              LogPosition& sent);
  // After a failure: moves the log's position past `sent` (messages of the
  // failed body may be in the stream with those numbers).
  void skip_past(const LogPosition& sent);

  BusSettings settings_;
  std::string store_url_;
  const Clock& clock_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<JetStream> js_;
};

}  // namespace gw::bus
