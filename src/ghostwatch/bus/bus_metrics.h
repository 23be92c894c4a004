// What a bus-mode process (`serve --bus`) counts of the event log, for GET
// /metrics (Prometheus text): its publisher's messages, acks and recorded
// messages still waiting for the bus, and its worker's partitions, batches
// and lag. Each process reports its own share; sum over the workers.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace gw::bus {

class BusMetrics {
 public:
  // The publisher: one turn's publishing (stored and dropped as
  // duplicates by JetStream; how long it waited for the acks).
  void published(std::uint64_t stored, std::uint64_t duplicates, double ack_seconds);
  // A turn whose messages JetStream refused or did not acknowledge.
  void publish_failed();
  // Messages recorded and not yet stored by JetStream (all publishers').
  void set_pending(std::uint64_t pending);

  // The worker: one batch of a partition applied and committed.
  void committed(std::uint64_t messages, double seconds);
  // The partitions this worker holds now, and for each how many messages
  // of the stream it has not applied yet (lag).
  void set_partitions(std::map<std::uint32_t, std::uint64_t> lag);

  // Appends the ghostwatch_bus_* families.
  void render(std::string& out) const;

 private:
  mutable std::mutex mu_;
  std::uint64_t stored_ = 0, duplicates_ = 0, publish_failures_ = 0, ack_waits_ = 0, pending_ = 0;
  double ack_seconds_ = 0;
  std::uint64_t applied_ = 0, batches_ = 0;
  double commit_seconds_ = 0;
  std::map<std::uint32_t, std::uint64_t> lag_;  // by partition held
};

}  // namespace gw::bus
