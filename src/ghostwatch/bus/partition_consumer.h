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

// The header a control message carries (docs/operations.md); its data is
// the time, in ms since the epoch, to evaluate through.
inline constexpr const char* kControlHeader = "Gw-Control";
inline constexpr const char* kEvaluateThrough = "evaluate_through";

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
  // the log's.
  Result<std::vector<PartitionMessage>> fetch(int max, Duration wait);
  // Acknowledges every message fetched so far (after they are committed).
  Status ack();

  std::uint32_t partition() const { return partition_; }

 private:
  struct Subscription;
  PartitionConsumer(std::uint32_t partition, std::unique_ptr<Subscription> sub);

  std::uint32_t partition_;
  std::unique_ptr<Subscription> sub_;
};

}  // namespace gw::bus
