// A worker's reader of one partition of the event log: the durable pull
// consumer "ghostwatch-p<partition>" on the stream, filtered to the
// partition's subject, acknowledging cumulatively (AckAll).
//
// Opening it replaces any consumer of that name, delivering from the message
// after `after_seq` (the partition's position in PostgreSQL, read under the
// worker's claim): the position that decides what comes next is the one
// committed with the state, so a message delivered to a worker that died
// before committing comes again, and one committed and then redelivered is
// never fetched by the next owner.
//
// No message is skipped: a delivery lost in transit (a NATS server that
// went down with messages on their way) would otherwise be acknowledged
// with the next ones. So fetch() asks the stream's leader which message of
// the partition follows the last one handed out, and refuses a batch that
// does not start there (the worker then starts the partition again from its
// committed position). Messages handed out before are dropped from a batch
// (redeliveries).
//
// Not thread-safe: one thread per consumer.
#pragma once

#include <cstdint>
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
  // `js` must outlive the consumer.
  static Result<std::unique_ptr<PartitionConsumer>> open(JetStream& js, const BusSettings& settings,
                                                         std::uint32_t partition, std::uint64_t after_seq);
  ~PartitionConsumer();
  PartitionConsumer(const PartitionConsumer&) = delete;
  PartitionConsumer& operator=(const PartitionConsumer&) = delete;

  // The next messages, at most `max`, waiting up to `wait` for the first;
  // none when none came. An error names a message whose headers are not
  // the log's, or the gap when a message was lost on its way.
  Result<std::vector<PartitionMessage>> fetch(int max, Duration wait);
  // Acknowledges every message fetched so far (after they are committed).
  Status ack();

  std::uint32_t partition() const { return partition_; }

 private:
  struct Subscription;
  PartitionConsumer(JetStream& js, std::string stream, std::uint32_t partition, std::uint64_t after_seq,
                    std::unique_ptr<Subscription> sub);
  // The stream sequence of the partition's first message after `seq`
  // (0: none yet), as the stream's leader says.
  Result<std::uint64_t> next_after(std::uint64_t seq);

  JetStream& js_;
  std::string stream_;
  std::uint32_t partition_;
  std::uint64_t last_;  // the stream sequence of the last message handed out
  std::unique_ptr<Subscription> sub_;
};

}  // namespace gw::bus
