// The publish side of the event log: takes NDJSON bodies (POST /v1/events
// in bus mode, `ghostwatch publish`), rejects bad lines with replay's
// reasons (EventRouter), and publishes every other line to its partition's
// subject, or to all of them, with the headers
//   Nats-Msg-Id       <Gw-Seq>:<partition>
//   Gw-Seq            the line's number in the order of the whole log (1, 2, ...)
//   Gw-Partition-Seq  the message's number in its partition (1, 2, ...)
//   Gw-Watermark      the largest event time (ms) of the lines up to this one
// and answers once JetStream has stored every message.
//
// Record, then publish: publishers take turns (a PostgreSQL session
// advisory lock). In its turn a publisher first publishes what earlier
// turns recorded and JetStream did not acknowledge (pending), in the log's
// order; then, in one transaction, it routes the body against the contracts
// the log knows, numbers its messages and writes the new contracts, the
// position, the rejects, the idempotent response and the messages as
// pending; commits; publishes them and, once JetStream acknowledged them,
// forgets them. So nothing reaches the stream that the log did not record,
// a recorded message reaches it even if its publisher dies, and each
// partition's messages are numbered without a gap in the order they are
// recorded; a message published again after its ack was lost is dropped by
// the stream (same Nats-Msg-Id) within its duplicate window, or by the
// partition's consumer (Gw-Partition-Seq already applied) after it.
//
// Answers: 200 recorded and stored by JetStream; 202 recorded, not yet
// stored (the bus failed after the commit: the messages go out before any
// later request's, at the next request or flush_pending(); do not send the
// body again, a retry with the same Idempotency-Key answers 200 once they
// are stored); 503 nothing recorded (PostgreSQL failed, or the bus refused
// the pending messages before this body was recorded); 422 an
// Idempotency-Key reused with another body.
//
// Thread-safe: bodies are published one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/bus/bus_ledger.h"
#include "ghostwatch/bus/bus_metrics.h"
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

  // Publishes `body`, its lines numbered from `first_line` (the answers
  // are listed above). With a non-empty `idempotency_key`, a repeat of the
  // same body returns the first response and records nothing; the same key
  // with another body is refused (422). `messages` and `duplicates` count
  // the pending messages of earlier turns published first, too.
  PublishReply publish(std::string_view body, const std::string& idempotency_key, std::uint64_t first_line = 1);

  // Publishes a control message to every partition, numbered in the log
  // like a line (partition_consumer.h lists them): an advance (POST
  // /v1/advance under --clock events; `data` the time in ms), after which
  // each partition's engine evaluates every step due at or before it, or a
  // bounce (`data` as bounce_text gives it). Returns once every partition
  // has it; an error says whether it was recorded (and so reaches the
  // partitions later) or not.
  Status publish_control(std::string_view control, std::string_view data);

  // Publishes the messages recorded and not yet stored (a failed or dead
  // publisher's), in order; what they count. Serve calls it every second.
  Result<JetStream::Acks> flush_pending();

  // Counts what it publishes into `metrics` (which must outlive it) from now on.
  void report_to(BusMetrics* metrics) { metrics_ = metrics; }

  const BusSettings& settings() const { return settings_; }

 private:
  EventPublisher(BusSettings settings, std::string store_url, const Clock& clock,
                 std::unique_ptr<pqxx::connection> conn, std::unique_ptr<JetStream> js);
  // The PostgreSQL connection, opened again if it was lost.
  pqxx::connection& connection();
  // These run in the publisher's turn.
  PublishReply publish_in_turn(std::string_view body, const std::string& key, std::uint64_t first_line);
  Result<JetStream::Acks> flush_in_turn();
  // Publishes `messages` (recorded as pending) and waits for their acks;
  // then forgets them, so they are not published again.
  Result<JetStream::Acks> send(const std::vector<PendingMessage>& messages);

  BusSettings settings_;
  std::string store_url_;
  const Clock& clock_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<JetStream> js_;
  BusMetrics* metrics_ = nullptr;
};

}  // namespace gw::bus
