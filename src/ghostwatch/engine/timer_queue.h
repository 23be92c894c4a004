// Pending step evaluations, ordered by (effective time, contract id bytes,
// step index): the order in which the spec evaluates due steps. A binary
// heap over a flat vector. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "ghostwatch/core/interner.h"
#include "ghostwatch/core/time.h"

namespace gw {

struct Timer {
  Instant at;               // effective time
  std::uint64_t order;      // Interner::prefix_key of the contract id: most ties end here
  std::uint32_t contract;   // id in the engine's contract interner
  std::uint32_t episode;    // the episode it belongs to; stale once that closes
  std::uint16_t step;       // 0-based ladder index
  bool first;               // first evaluation (not a deferral): schedules the next step
};

class TimerQueue {
 public:
  // `contract_ids` orders ties on time; it must outlive the queue.
  explicit TimerQueue(const Interner& contract_ids) : ids_(&contract_ids) {}

  void push(const Timer& t);
  bool empty() const { return heap_.empty(); }
  const Timer& top() const { return heap_.front(); }
  Timer pop();
  std::size_t size() const { return heap_.size(); }
  std::size_t memory_bytes() const { return heap_.capacity() * sizeof(Timer); }

 private:
  // Strict "a is due before b".
  bool before(const Timer& a, const Timer& b) const {
    if (a.at != b.at) return a.at < b.at;
    if (a.order != b.order) return a.order < b.order;
    if (a.contract != b.contract) return ids_->view(a.contract) < ids_->view(b.contract);
    return a.step < b.step;
  }

  const Interner* ids_;
  std::vector<Timer> heap_;
};

}  // namespace gw
