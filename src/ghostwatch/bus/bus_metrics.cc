#include "ghostwatch/bus/bus_metrics.h"

#include <fmt/format.h>

namespace gw::bus {
namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void BusMetrics::published(std::uint64_t stored, std::uint64_t duplicates, double ack_seconds) {
  std::lock_guard lock(mu_);
  stored_ += stored;
  duplicates_ += duplicates;
  ++ack_waits_;
  ack_seconds_ += ack_seconds;
}

void BusMetrics::publish_failed() {
  std::lock_guard lock(mu_);
  ++publish_failures_;
}

void BusMetrics::set_pending(std::uint64_t pending) {
  std::lock_guard lock(mu_);
  pending_ = pending;
}

void BusMetrics::committed(std::uint64_t messages, double seconds) {
  std::lock_guard lock(mu_);
  applied_ += messages;
  ++batches_;
  commit_seconds_ += seconds;
}

void BusMetrics::set_partitions(std::map<std::uint32_t, std::uint64_t> lag) {
  std::lock_guard lock(mu_);
  lag_ = std::move(lag);
}

void BusMetrics::render(std::string& out) const {
  std::lock_guard lock(mu_);
  family(out, "ghostwatch_bus_messages_published_total", "counter",
         "Messages this process published that JetStream stored.");
  out += fmt::format("ghostwatch_bus_messages_published_total {}\n", stored_);
  family(out, "ghostwatch_bus_duplicates_dropped_total", "counter",
         "Messages this process published again that JetStream had already (dropped).");
  out += fmt::format("ghostwatch_bus_duplicates_dropped_total {}\n", duplicates_);
  family(out, "ghostwatch_bus_publish_failures_total", "counter",
         "Publishing turns whose messages JetStream refused or did not acknowledge.");
  out += fmt::format("ghostwatch_bus_publish_failures_total {}\n", publish_failures_);
  family(out, "ghostwatch_bus_ack_wait_seconds", "summary", "How long publishing turns waited for JetStream's acks.");
  out += fmt::format("ghostwatch_bus_ack_wait_seconds_sum {}\nghostwatch_bus_ack_wait_seconds_count {}\n", ack_seconds_,
                     ack_waits_);
  family(out, "ghostwatch_bus_pending_messages", "gauge",
         "Messages recorded in the log and not yet stored by JetStream (every publisher's).");
  out += fmt::format("ghostwatch_bus_pending_messages {}\n", pending_);
  family(out, "ghostwatch_bus_partitions_held", "gauge", "Partitions of the event log this worker applies.");
  out += fmt::format("ghostwatch_bus_partitions_held {}\n", lag_.size());
  family(out, "ghostwatch_bus_partition_lag_messages", "gauge",
         "Messages of a partition this worker holds that the stream has and it has not applied yet.");
  for (const auto& [partition, lag] : lag_) {
    out += fmt::format("ghostwatch_bus_partition_lag_messages{{partition=\"{}\"}} {}\n", partition, lag);
  }
  family(out, "ghostwatch_bus_messages_applied_total", "counter", "Messages of the event log this worker applied.");
  out += fmt::format("ghostwatch_bus_messages_applied_total {}\n", applied_);
  family(out, "ghostwatch_bus_batch_seconds", "summary",
         "How long this worker took to apply and commit a partition's batch.");
  out += fmt::format("ghostwatch_bus_batch_seconds_sum {}\nghostwatch_bus_batch_seconds_count {}\n", commit_seconds_,
                     batches_);
}

}  // namespace gw::bus
