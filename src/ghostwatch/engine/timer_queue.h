// Pending step evaluations, ordered by (effective time, contract id bytes,
// step index): the order in which the spec evaluates due steps. Not
// thread-safe.
//
// Most timers arrive in order: a step's first due time is its episode's
// opening plus the step's fixed delay, and episodes open in event order. And
// most are stale by the time they are due (a reply came first). So each of
// the first kFifoSteps ladder steps has a FIFO, and a timer that sorts at or
// after all but at most kMaxBehind of its step's FIFO goes into its place
// there (most late events' timers are only a place or two late); only the
// others (deferrals, later steps, events later than that) go to a binary
// heap. The next timer is the smallest of the heads. Every container is
// sorted, so the pop order is exactly the total order, while the common
// case costs a sequential append and read instead of heap sifts through
// memory.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "ghostwatch/core/interner.h"
#include "ghostwatch/core/ring.h"
#include "ghostwatch/core/time.h"

namespace gw {

struct Timer {
  Instant at;                // effective time
  std::uint64_t order;       // Interner::prefix_key of the contract id: most ties end here
  std::uint32_t contract;    // id in the engine's contract interner
  std::uint32_t episode;     // the episode it belongs to; stale once that closes
  std::uint32_t freelancer;  // the contract's freelancer (user id): evaluation reads their state
  std::uint16_t step;        // 0-based ladder index
  bool first;                // first evaluation (not a deferral): schedules the next step
  bool caught_up = false;    // re-stamped to the current time after an outage (live service)
};

class TimerQueue {
 public:
  // `contract_ids` orders ties on time; it must outlive the queue.
  explicit TimerQueue(const Interner& contract_ids) : ids_(&contract_ids) { std::ranges::fill(head_at_, kEmpty); }

  static constexpr std::size_t kFifoSteps = 4;
  // How many timers of a FIFO a pushed timer may sort before and still go
  // into it (moving them back); on the benchmark file 95 % of the timers
  // that sort before a FIFO's newest sort before at most 4.
  static constexpr std::size_t kMaxBehind = 8;

  void push(const Timer& t);
  bool empty() const { return size_ == 0; }
  // REQUIRES: !empty()
  const Timer& top() const { return front(smallest_); }
  // top().at, or the largest Instant when empty: one load.
  Instant top_at() const { return head_at_[smallest_]; }
  Timer pop();
  // A timer that pop() returns some pops from now, for loading its state
  // ahead (a hint): the one `distance` places behind the head of the FIFO
  // the last pop() took from; nullptr when that is the heap or the FIFO is
  // shorter. It comes after the `distance` timers ahead of it in that FIFO.
  const Timer* upcoming(std::size_t distance) const {
    if (popped_ == kHeap || distance >= fifos_[popped_].size()) return nullptr;
    return &fifos_[popped_][distance];
  }
  std::size_t size() const { return size_; }
  // Every pending timer, in the order pop() would return them; timers equal
  // in that order (an episode's stale timer beside its successor's) are
  // ordered by episode, then by their flags.
  std::vector<Timer> sorted() const;
  std::size_t memory_bytes() const {
    std::size_t slots = heap_.capacity();
    for (const Ring<Timer>& fifo : fifos_) slots += fifo.capacity();
    return slots * sizeof(Timer);
  }

 private:
  // Strict "a is due before b".
  bool before(const Timer& a, const Timer& b) const {
    if (a.at != b.at) return a.at < b.at;
    if (a.order != b.order) return a.order < b.order;
    if (a.contract != b.contract) return ids_->view(a.contract) < ids_->view(b.contract);
    return a.step < b.step;
  }
  // A container: a FIFO's index, or kHeap.
  static constexpr std::size_t kHeap = kFifoSteps;
  const Timer& front(std::size_t c) const { return c == kHeap ? heap_.front() : fifos_[c].front(); }
  // Sets smallest_ by comparing the heads.
  void find_smallest();
  // A container's head's time when it is empty (a timer may have it too).
  static constexpr Instant kEmpty = std::numeric_limits<Instant>::max();
  bool holds(std::size_t c) const { return c == kHeap ? !heap_.empty() : !fifos_[c].empty(); }

  const Interner* ids_;
  Ring<Timer> fifos_[kFifoSteps];  // sorted: push puts each timer in its place
  std::vector<Timer> heap_;
  std::size_t size_ = 0;
  // The container holding the smallest timer (when any), kept by push and
  // pop: the engine asks for top() before every event, far more often than
  // the smallest timer changes.
  std::size_t smallest_ = kHeap;
  // Each container's head's time (kEmpty when it is empty), by container:
  // find_smallest compares these and loads a head only on a tie.
  Instant head_at_[kHeap + 1];
  std::size_t popped_ = kHeap;  // the container of the last pop
};

}  // namespace gw
