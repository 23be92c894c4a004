#include "ghostwatch/cluster/partition_leases.h"

#include <fmt/format.h>

#include <pqxx/pqxx>

namespace gw::cluster {
namespace {

// The advisory locks' first key (pg_try_advisory_lock(int, int)): one class
// for the partitions (second key: the partition), one for the delivery.
constexpr int kPartitionLockClass = 0x67770001;
constexpr int kDeliveryLockClass = 0x67770002;

std::string held_text(const std::set<std::uint32_t>& held) {
  std::string out;
  for (std::uint32_t p : held) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

}  // namespace

PartitionLeases::PartitionLeases(std::string url, std::string worker_id, std::uint32_t partitions)
    : url_(std::move(url)), worker_id_(std::move(worker_id)), partitions_(partitions) {}

PartitionLeases::~PartitionLeases() = default;

Result<std::unique_ptr<PartitionLeases>> PartitionLeases::open(const std::string& url, std::string worker_id,
                                                               std::uint32_t partitions) {
  std::unique_ptr<PartitionLeases> leases(new PartitionLeases(url, std::move(worker_id), partitions));
  try {
    leases->conn();
  } catch (const std::exception& e) {
    return Status::error(fmt::format("workers: cannot connect to PostgreSQL: {}", e.what()));
  }
  return leases;
}

pqxx::connection& PartitionLeases::conn() {
  if (!conn_ || !conn_->is_open()) {
    drop_session();  // a new session holds nothing
    conn_ = std::make_unique<pqxx::connection>(url_);
  }
  return *conn_;
}

void PartitionLeases::drop_session() {
  conn_.reset();
  locked_.clear();
  delivery_ = false;
}

Result<PartitionLeases::Round> PartitionLeases::round(const std::set<std::uint32_t>& held) {
  Round r;
  try {
    pqxx::connection& c = conn();
    {
      pqxx::work tx(c);
      tx.exec_params0(
          "INSERT INTO workers(id, seen_at, partitions, delivery) VALUES($1, now(), $2, $3) ON CONFLICT(id) DO "
          "UPDATE SET seen_at = now(), partitions = $2, delivery = $3",
          worker_id_, held_text(held), delivery_);
      r.live_workers = static_cast<std::uint32_t>(tx.exec1(fmt::format(
          "SELECT COUNT(*) FROM workers WHERE seen_at > now() - interval '{} seconds'", kWorkerTimeoutSeconds))[0]
                                                      .as<std::int64_t>());
      tx.commit();
    }
    const std::uint32_t live = std::max<std::uint32_t>(r.live_workers, 1);
    const std::uint32_t share = (partitions_ + live - 1) / live;
    if (locked_.size() > share) {
      auto it = locked_.rbegin();
      for (std::size_t n = locked_.size() - share; n > 0; --n, ++it) r.surplus.push_back(*it);
      return r;
    }
    // A partition locked but not running (its engine stopped on an error)
    // starts again.
    for (std::uint32_t p : locked_) {
      if (held.count(p) == 0) r.acquired.push_back(p);
    }
    // Start at a place of the worker's own, so workers joining together
    // try different partitions first.
    const std::uint32_t start = static_cast<std::uint32_t>(std::hash<std::string>{}(worker_id_) % partitions_);
    pqxx::nontransaction tx(c);
    for (std::uint32_t k = 0; k < partitions_ && locked_.size() < share; ++k) {
      const std::uint32_t p = (start + k) % partitions_;
      if (locked_.count(p) != 0) continue;
      if (!tx.exec_params1("SELECT pg_try_advisory_lock($1, $2)", kPartitionLockClass, static_cast<int>(p))[0]
               .as<bool>()) {
        continue;
      }
      locked_.insert(p);
      r.acquired.push_back(p);
    }
    return r;
  } catch (const std::exception& e) {
    drop_session();
    return Status::error(fmt::format("workers: the lease connection failed (every partition is lost): {}", e.what()));
  }
}

Status PartitionLeases::release(std::uint32_t p) {
  if (locked_.erase(p) == 0) return Status::ok();
  try {
    pqxx::nontransaction tx(conn());
    tx.exec_params1("SELECT pg_advisory_unlock($1, $2)", kPartitionLockClass, static_cast<int>(p));
    return Status::ok();
  } catch (const std::exception& e) {
    drop_session();
    return Status::error(fmt::format("workers: releasing partition {} failed: {}", p, e.what()));
  }
}

Result<bool> PartitionLeases::hold_delivery() {
  if (delivery_) return true;
  try {
    pqxx::nontransaction tx(conn());
    delivery_ = tx.exec_params1("SELECT pg_try_advisory_lock($1, 0)", kDeliveryLockClass)[0].as<bool>();
    return delivery_;
  } catch (const std::exception& e) {
    drop_session();
    return Status::error(fmt::format("workers: the lease connection failed: {}", e.what()));
  }
}

void PartitionLeases::leave() {
  try {
    if (conn_ && conn_->is_open()) {
      pqxx::work tx(*conn_);
      tx.exec_params0("DELETE FROM workers WHERE id = $1", worker_id_);
      tx.commit();
    }
  } catch (const std::exception&) {
    // Gone either way: the others wait out its timeout.
  }
  drop_session();
}

}  // namespace gw::cluster
