#include "ghostwatch/cluster/worker.h"

#include <fmt/format.h>

#include <chrono>

#include "ghostwatch/bus/partition_consumer.h"
#include "ghostwatch/store/postgres/postgres_store.h"

namespace gw::cluster {
namespace {

constexpr auto kLeaseRound = std::chrono::seconds(1);
// How long a fetch waits for messages when every partition was idle.
constexpr Duration kIdleWait = 50;

}  // namespace

struct Worker::Partition {
  std::unique_ptr<PostgresStore> store;
  std::unique_ptr<Service> service;
  std::unique_ptr<bus::PartitionConsumer> consumer;
};

Worker::Worker(WorkerSettings settings, const Clock& clock, Logger& logger, std::unique_ptr<bus::JetStream> js,
               std::unique_ptr<PartitionLeases> leases)
    : settings_(std::move(settings)), clock_(clock), logger_(logger), js_(std::move(js)), leases_(std::move(leases)) {}

Result<std::unique_ptr<Worker>> Worker::start(WorkerSettings settings, const Clock& clock, Logger& logger) {
  if (settings.id.empty()) return Status::error("workers: a worker needs an id");
  auto js = bus::JetStream::connect(settings.bus);
  if (!js) return js.status();
  auto leases = PartitionLeases::open(settings.store_url, settings.id, settings.bus.partitions);
  if (!leases) return leases.status();
  std::unique_ptr<Worker> worker(new Worker(std::move(settings), clock, logger, std::move(*js), std::move(*leases)));
  worker->thread_ = std::thread([w = worker.get()] { w->run(); });
  return worker;
}

Worker::~Worker() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  auto next_round = std::chrono::steady_clock::now();
  while (!stopping_) {
    apply_reload();
    if (std::chrono::steady_clock::now() >= next_round) {
      lease_round();
      next_round = std::chrono::steady_clock::now() + kLeaseRound;
    }
    std::size_t applied = 0;
    std::vector<std::uint32_t> failed;
    for (auto& [id, partition] : running_) {
      auto n = pump(*partition, running_.size() == 1 ? kIdleWait : 1);
      if (!n) {
        logger_.log("error", "partition stopped; it starts again from its log",
                    {{"partition", std::to_string(id)}, {"error", n.message()}});
        failed.push_back(id);
        continue;
      }
      applied += *n;
      if (settings_.mode == ClockMode::kWall) {
        if (Status s = partition->service->tick(); !s) {
          logger_.log("error", "partition clock tick failed",
                      {{"partition", std::to_string(id)}, {"error", s.message()}});
          failed.push_back(id);
        }
      }
    }
    // Stopped, not released: the next round starts them again under a new claim.
    for (std::uint32_t id : failed) stop_partition(id);
    if (applied == 0 && running_.size() != 1) std::this_thread::sleep_for(std::chrono::milliseconds(kIdleWait));
  }
  while (!running_.empty()) stop_partition(running_.begin()->first);
  leases_->leave();
  delivery_ = false;
}

void Worker::reload(std::string policy_text, std::string model_text) {
  std::lock_guard lock(reload_mu_);
  reload_text_.emplace(std::move(policy_text), std::move(model_text));
}

void Worker::apply_reload() {
  {
    std::lock_guard lock(reload_mu_);
    if (!reload_text_) return;
    settings_.policy_text = std::move(reload_text_->first);
    settings_.model_text = std::move(reload_text_->second);
    reload_text_.reset();
  }
  std::vector<std::uint32_t> failed;
  for (auto& [id, partition] : running_) {
    auto changed = partition->service->reload(settings_.policy_text);
    auto model_changed = changed && !settings_.model_text.empty()
                             ? partition->service->reload_model(settings_.model_text, settings_.model_source)
                             : Result<bool>(false);
    if (!changed || !model_changed) {
      logger_.log(
          "error", "partition reload failed; it starts again under the new config",
          {{"partition", std::to_string(id)}, {"error", changed ? model_changed.message() : changed.message()}});
      failed.push_back(id);
      continue;
    }
    if (*changed) {
      logger_.log("info", "partition reloaded: the new rules apply from now on", {{"partition", std::to_string(id)}});
    }
    if (*model_changed) {
      logger_.log("info", "partition's risk model reloaded: episodes opening from now on are scored with it",
                  {{"partition", std::to_string(id)}});
    }
  }
  // Stopped, not released: the next round starts them again, under the new policy.
  for (std::uint32_t id : failed) stop_partition(id);
}

void Worker::lease_round() {
  std::set<std::uint32_t> held;
  for (const auto& [id, partition] : running_) held.insert(id);
  auto round = leases_->round(held);
  if (!round) {
    logger_.log("error", "lost the partition leases; stopping every partition", {{"error", round.message()}});
    while (!running_.empty()) stop_partition(running_.begin()->first);
    delivery_ = false;
    if (settings_.metrics != nullptr) settings_.metrics->set_partitions({});
    return;
  }
  for (std::uint32_t p : round->surplus) {
    stop_partition(p);
    if (Status s = leases_->release(p); !s)
      logger_.log("warn", "releasing a partition failed", {{"error", s.message()}});
  }
  for (std::uint32_t p : round->acquired) start_partition(p);
  auto delivery = leases_->hold_delivery();
  delivery_ = delivery && *delivery;
  if (settings_.metrics != nullptr) {
    std::map<std::uint32_t, std::uint64_t> lag;
    for (const auto& [id, partition] : running_) {
      auto n = partition->consumer->lag();
      lag[id] = n ? *n : 0;  // not known this round: the next one says
    }
    settings_.metrics->set_partitions(std::move(lag));
  }
}

void Worker::start_partition(std::uint32_t p) {
  const auto started = std::chrono::steady_clock::now();
  auto fail = [&](const Status& s) {
    logger_.log("error", "starting a partition failed; the next round tries again",
                {{"partition", std::to_string(p)}, {"error", s.message()}});
  };
  auto part = std::make_unique<Partition>();
  auto store = PostgresStore::open(settings_.store_url, static_cast<int>(p));
  if (!store) return fail(store.status());
  part->store = std::move(*store);
  auto claim = part->store->claim_partition();
  if (!claim) return fail(claim.status());
  auto service = Service::open(settings_.policy_text, *part->store, clock_, settings_.mode, claim->epoch,
                               settings_.model_text, settings_.model_source);
  if (!service) return fail(service.status());
  part->service = std::move(*service);
  part->service->set_snapshots(settings_.snapshot_every, settings_.compact_log);
  auto consumer = bus::PartitionConsumer::open(*js_, settings_.bus, p, claim->consumed_through);
  if (!consumer) return fail(consumer.status());
  part->consumer = std::move(*consumer);
  logger_.log(
      "info", "partition started",
      {{"partition", std::to_string(p)},
       {"claim", std::to_string(claim->epoch)},
       {"position", std::to_string(claim->consumed_through.stream_seq)},
       {"log_entries", std::to_string(part->service->counters().log_entries)},
       {"seconds",
        fmt::format("{:.3f}", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())}});
  running_[p] = std::move(part);
}

void Worker::stop_partition(std::uint32_t p) {
  if (running_.erase(p) > 0) logger_.log("info", "partition stopped", {{"partition", std::to_string(p)}});
}

Result<std::size_t> Worker::pump(Partition& p, Duration wait) {
  auto fetched = p.consumer->fetch(settings_.fetch_batch, wait);
  if (!fetched) return fetched.status();
  const std::vector<PartitionMessage>& messages = *fetched;  // after the position, in order, none missing
  if (!messages.empty()) {
    const auto started = std::chrono::steady_clock::now();
    if (Status s = p.service->apply_partition(messages, p.consumer->position()); !s) return s;
    if (settings_.metrics != nullptr) {
      settings_.metrics->committed(messages.size(),
                                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }
  // Acknowledged after the commit: a crash before it only redelivers.
  if (Status s = p.consumer->ack(); !s) return s;
  return messages.size();
}

}  // namespace gw::cluster
