// Which partitions of the event log a worker owns (docs/operations.md,
// "Workers"): each partition is a PostgreSQL session advisory lock, held on
// a connection of the worker's own, so a worker that dies (its session
// ends) frees its partitions at once, and no two live sessions hold one.
//
// Workers spread the partitions evenly: each says it is alive every round
// (table `workers`), and takes free partitions up to its share,
// ceil(partitions / live workers), or gives back what is over it, so a new
// worker gets a share within a few rounds and a dead one's partitions are
// taken by the others within a round once it is gone. One more lock, the
// delivery lease, picks the one worker that drains the shared outbox.
//
// Not thread-safe: one thread (the worker's) calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <set>
#include <string>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::cluster {

// A worker is alive while it said so within this many seconds.
inline constexpr int kWorkerTimeoutSeconds = 5;

class PartitionLeases {
 public:
  // Connects to PostgreSQL at `url` (its schema already migrated).
  static Result<std::unique_ptr<PartitionLeases>> open(const std::string& url, std::string worker_id,
                                                       std::uint32_t partitions);
  ~PartitionLeases();

  struct Round {
    std::vector<std::uint32_t> acquired;  // held and not in `held`: start them
    std::vector<std::uint32_t> surplus;   // over the share: stop them, then release()
    std::uint32_t live_workers = 0;
  };
  // Says the worker is alive (with `held`, the partitions running, and
  // whether it holds the delivery lease, for the operators), and takes or
  // gives back partitions. An error means the lease connection failed: every
  // lock is gone with it, so the caller stops every partition (and the
  // delivery) before the next round, which reconnects.
  Result<Round> round(const std::set<std::uint32_t>& held);
  // Gives partition `p` back (its engine stopped first).
  Status release(std::uint32_t p);

  // Takes the delivery lease if it is free; true while this worker holds it.
  Result<bool> hold_delivery();

  // Says the worker is gone (a drain), so the others need not wait out its
  // timeout; its locks go with the connection.
  void leave();

 private:
  PartitionLeases(std::string url, std::string worker_id, std::uint32_t partitions);
  // The lease connection, reconnected (holding nothing) when it was lost.
  pqxx::connection& conn();
  // Closes the session: every lock it held is gone with it.
  void drop_session();

  std::string url_;
  std::string worker_id_;
  std::uint32_t partitions_;
  std::unique_ptr<pqxx::connection> conn_;
  std::set<std::uint32_t> locked_;  // held on conn_
  bool delivery_ = false;
};

}  // namespace gw::cluster
