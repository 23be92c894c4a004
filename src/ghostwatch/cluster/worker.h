// A bus worker (docs/operations.md, "Workers"): the part of `serve --store
// postgres://... --bus nats://...` that applies the event log. On a thread
// of its own it takes partitions through PartitionLeases, and for each one
// it holds: claims it in PostgreSQL, recovers the partition's engine from
// the partition's log (Service over a PostgresStore of that partition),
// reads the stream after the partition's committed position
// (PartitionConsumer), and applies what comes in batches, each committed
// with the new position under the claim before it is acknowledged.
//
// Guarantees: a message of the log is applied once, whatever dies when
// (the position moves with the state, and a stale owner's commits fail
// against the newer claim); partitions of a dead worker are taken by the
// others within about kWorkerTimeoutSeconds; decisions go to the shared
// outbox, which the holder of the delivery lease drains.
//
// A config reload (reload(), on SIGHUP) reaches every partition this worker
// runs: between two batches each one switches through Service::reload (and
// Service::reload_model), which logs the switch in the partition's log, so
// whoever recovers the partition later switches at the same point;
// partitions started after it start with the new policy and model. With a
// risk model (WorkerSettings::model_text) every partition scores its
// episodes as they open, as `replay --model`.
//
// Thread-safe: holds_delivery() and reload() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/bus/bus_metrics.h"
#include "ghostwatch/bus/jetstream.h"
#include "ghostwatch/cluster/partition_leases.h"
#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/server/access_log.h"
#include "ghostwatch/server/service.h"

namespace gw::cluster {

struct WorkerSettings {
  bus::BusSettings bus;
  std::string store_url;    // postgres://...
  std::string policy_text;  // the config's policy part
  std::string model_text;   // the risk model (a model.json's text); empty: none
  std::string model_source;  // its file, for errors
  ClockMode mode = ClockMode::kWall;
  std::string id;          // unique among the workers (host:pid by default)
  int fetch_batch = 2000;  // messages per fetch and commit, at most
  bus::BusMetrics* metrics = nullptr;  // counts the batches and partitions; must outlive the worker
  // Each partition's snapshots (Service::set_snapshots).
  std::uint64_t snapshot_every = 0;
  bool compact_log = false;
};

class Worker {
 public:
  // Connects to the store and the bus, then starts the worker's thread.
  // `clock` and `logger` must outlive it.
  static Result<std::unique_ptr<Worker>> start(WorkerSettings settings, const Clock& clock, Logger& logger);
  // Stops the thread; the partitions are given back for the others.
  ~Worker();

  // Whether this worker holds the delivery lease (drains the outbox).
  bool holds_delivery() const { return delivery_.load(); }

  // `policy_text` (a config's policy part, already validated as the front's
  // reload validates it) becomes the rules of every partition this worker
  // runs, from a point between two batches, and of those it starts later;
  // so does `model_text` (a model.json's, validated; empty when the worker
  // runs without a model). Returns at once; the worker's thread applies
  // them and logs, per partition, the switch or its error (a partition that
  // failed to switch is stopped, and starts again under the new ones).
  void reload(std::string policy_text, std::string model_text);

 private:
  struct Partition;
  Worker(WorkerSettings settings, const Clock& clock, Logger& logger, std::unique_ptr<bus::JetStream> js,
         std::unique_ptr<PartitionLeases> leases);
  void run();
  // Applies the policy reload() left, if any, to every running partition.
  void apply_reload();
  // Takes or gives back partitions, and the delivery lease.
  void lease_round();
  void start_partition(std::uint32_t p);
  void stop_partition(std::uint32_t p);
  // Applies the next messages of `p`, waiting up to `wait` for them;
  // returns how many (0: none came).
  Result<std::size_t> pump(Partition& p, Duration wait);

  WorkerSettings settings_;  // policy_text: the latest reload's (the worker's thread only)
  const Clock& clock_;
  Logger& logger_;
  std::unique_ptr<bus::JetStream> js_;
  std::unique_ptr<PartitionLeases> leases_;
  std::map<std::uint32_t, std::unique_ptr<Partition>> running_;  // the worker's thread only
  std::atomic<bool> stopping_{false};
  std::atomic<bool> delivery_{false};
  std::mutex reload_mu_;
  // Under reload_mu_: a policy and model not applied yet.
  std::optional<std::pair<std::string, std::string>> reload_text_;
  std::thread thread_;
};

}  // namespace gw::cluster
