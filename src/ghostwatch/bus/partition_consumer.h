// A worker's reader of one partition of the event log: the durable pull
// consumer "ghostwatch-p<partition>" on the stream, filtered to the
// partition's subject, acknowledging cumulatively (AckAll).
//
// Opening it replaces any consumer of that name, delivering from the message
// after the partition's position in PostgreSQL (read under the worker's
// claim): the position that decides what comes next is the one committed
// with the state, so a message delivered to a worker that died before
// committing comes again, and one committed and then redelivered is never
// fetched by the next owner.
//
// No message is skipped, and each is handed out once, in its partition's
// order (Gw-Partition-Seq, which the publisher gives without a gap):
// * A delivery lost in transit (a NATS server that went down with messages
//   on their way) would otherwise be acknowledged with the next ones. So
//   fetch() asks the stream's leader which message of the partition follows
//   the last one delivered, and refuses a batch that does not start there
//   (the worker then starts the partition again from its committed
//   position). Messages delivered before are dropped (redeliveries).
// * A message the publisher had to send again (its ack lost) may be in the
//   stream after later ones, or twice: a message whose number was handed
//   out already is dropped, and one that comes before its turn is held
//   until the messages before it came. position() never passes a held
//   message, so a restart reads it again.
// A message without Gw-Partition-Seq (published before it existed) is
// handed out in stream order.
//
// A consumer that delivers nothing for `stall_after` while the stream has
// a message of the partition after the last one delivered (a JetStream
// consumer left without quorum by a server's restart has been seen to stall
// so for good) makes fetch() fail, naming it: the worker then starts the
// partition again, which replaces the consumer.
//
// Not thread-safe: one thread per consumer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/bus/jetstream.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/server/service.h"

namespace gw::bus {

// The header a control message carries (docs/operations.md), and its
// values: an advance (data: the time to evaluate through, ms since the
// epoch), a bounce (data: bounce_text()).
inline constexpr const char* kControlHeader = "Gw-Control";
inline constexpr const char* kEvaluateThrough = "evaluate_through";
inline constexpr const char* kBounce = "bounce";

class PartitionConsumer {
 public:
  // How long a consumer may deliver nothing while the stream has more.
  static constexpr Duration kStallAfter = 30 * kSecond;

  // `js` must outlive the consumer; reading starts after `after`.
  static Result<std::unique_ptr<PartitionConsumer>> open(JetStream& js, const BusSettings& settings,
                                                         std::uint32_t partition, const PartitionPosition& after,
                                                         Duration stall_after = kStallAfter);
  ~PartitionConsumer();
  PartitionConsumer(const PartitionConsumer&) = delete;
  PartitionConsumer& operator=(const PartitionConsumer&) = delete;

  // The next messages in the partition's order, from at most `max`
  // fetched, waiting up to `wait` for the first; none when none came or
  // all were held. An error names a message whose headers are not the
  // log's, the gap when a delivery was lost on its way, the missing
  // message when more than kMaxHeld wait for it, or a stalled consumer.
  Result<std::vector<PartitionMessage>> fetch(int max, Duration wait);
  // Where the partition stands once every message fetch() handed out is
  // applied: to commit with them.
  PartitionPosition position() const;
  // Messages of the partition the stream has that were not handed out yet
  // (not delivered, or held), as the stream's leader counts them.
  Result<std::uint64_t> lag();
  // Acknowledges every message fetched so far (after they are committed).
  Status ack();

  std::uint32_t partition() const { return partition_; }

  // Messages held for an earlier one at most, before fetch() fails.
  static constexpr std::size_t kMaxHeld = 100'000;

 private:
  struct Subscription;
  PartitionConsumer(JetStream& js, std::string stream, std::uint32_t partition, const PartitionPosition& after,
                    Duration stall_after, std::unique_ptr<Subscription> sub);
  // After a fetch that brought nothing: an error when the consumer has
  // delivered nothing for stall_after_ while the stream has more.
  Status check_stalled();
  // Hands out `delivered` (in stream order) in the partition's order.
  Result<std::vector<PartitionMessage>> in_order(std::vector<PartitionMessage> delivered);
  // The stream sequence of the partition's first message after `seq`
  // (0: none yet), as the stream's leader says.
  Result<std::uint64_t> next_after(std::uint64_t seq);

  JetStream& js_;
  std::string stream_;
  std::uint32_t partition_;
  std::uint64_t last_;                              // the stream sequence of the last message delivered
  std::uint64_t handed_out_;                        // Gw-Partition-Seq of the last message handed out
  std::map<std::uint64_t, PartitionMessage> held_;  // by Gw-Partition-Seq: came before their turn
  const Duration stall_after_;
  std::chrono::steady_clock::time_point quiet_since_;  // the last delivery, or the last check that found none due
  std::unique_ptr<Subscription> sub_;
};

}  // namespace gw::bus
