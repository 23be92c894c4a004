// A connection to NATS JetStream (nats.c) for the event log: connects to
// the servers of BusSettings::url, creates the stream (file storage,
// subjects ghostwatch.events.*, the configured replicas, a 10-minute
// duplicate window) or checks that the one there has that shape, and
// publishes asynchronously with a bounded number of unacknowledged messages
// (publish() blocks while the window is full), until wait_acks() says every
// message since the last wait was stored.
//
// Thread-compatible: one publishing thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"

namespace gw::bus {

// The window JetStream drops a repeated Nats-Msg-Id in.
inline constexpr Duration kDuplicateWindow = 10 * kMinute;

// One message of the log (docs/operations.md lists its headers).
struct LogMessage {
  std::string_view subject;
  std::string_view msg_id;  // Nats-Msg-Id
  std::uint64_t seq = 0;    // Gw-Seq
  std::uint64_t partition_seq = 0;  // Gw-Partition-Seq (0: none, as before the log numbered partitions)
  Instant watermark = 0;    // Gw-Watermark (ms)
  std::string_view control;  // Gw-Control: empty for an event; "evaluate_through" (data: the time, ms)
  std::string_view data;
};

class JetStream {
 public:
  // Connects and creates or checks the stream; errors name the server or
  // the stream setting that differs.
  static Result<std::unique_ptr<JetStream>> connect(const BusSettings& settings, std::int64_t max_pending = 4096);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Sends `m` (asynchronously: its ack is awaited by wait_acks).
  Status publish(const LogMessage& m);

  struct Acks {
    std::uint64_t stored = 0;
    std::uint64_t duplicates = 0;  // dropped by the stream: a Nats-Msg-Id seen within the window
  };
  // Waits until every message published since the last call is
  // acknowledged; an error (naming the first failure) when one was refused
  // or `timeout` passed.
  Result<Acks> wait_acks(Duration timeout);

  struct Handles;  // jetstream_handles.h
  Handles& handles() { return *h_; }

 private:
  explicit JetStream(std::unique_ptr<Handles> h);
  std::unique_ptr<Handles> h_;
};

}  // namespace gw::bus
