#include "ghostwatch/engine/timer_queue.h"

#include <algorithm>
#include <tuple>

namespace gw {

void TimerQueue::push(const Timer& t) {
  const bool smallest = size_ == 0 || before(t, top());
  ++size_;
  std::size_t container = kHeap;
  if (t.step < kFifoSteps) {
    // The timers of the FIFO that `t` sorts before, up to one more than
    // kMaxBehind.
    Ring<Timer>& fifo = fifos_[t.step];
    std::size_t behind = 0;
    while (behind <= kMaxBehind && behind < fifo.size() && before(t, fifo[fifo.size() - 1 - behind])) ++behind;
    if (behind <= kMaxBehind) {
      fifo.insert_before_back(behind, t);
      container = t.step;
    }
  }
  if (container == kHeap) {
    heap_.push_back(t);
    std::push_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
  }
  head_at_[container] = front(container).at;
  if (smallest) smallest_ = container;
}

void TimerQueue::find_smallest() {
  // By the heads' times, without loading the heads; equal times (rare, but
  // for empty containers) are decided by the full order.
  std::size_t best = kHeap;
  for (std::size_t i = 0; i < kFifoSteps; ++i) {
    if (head_at_[i] < head_at_[best] ||
        (head_at_[i] == head_at_[best] && holds(i) && (!holds(best) || before(front(i), front(best))))) {
      best = i;
    }
  }
  smallest_ = best;
}

Timer TimerQueue::pop() {
  --size_;
  popped_ = smallest_;
  Timer t;
  if (smallest_ != kHeap) {
    Ring<Timer>& fifo = fifos_[smallest_];
    t = fifo.front();
    fifo.pop_front();
    head_at_[smallest_] = fifo.empty() ? kEmpty : fifo.front().at;
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
    t = heap_.back();
    heap_.pop_back();
    head_at_[kHeap] = heap_.empty() ? kEmpty : heap_.front().at;
  }
  find_smallest();
  return t;
}

std::vector<Timer> TimerQueue::sorted() const {
  std::vector<Timer> all(heap_.begin(), heap_.end());
  for (const Ring<Timer>& fifo : fifos_) {
    for (std::size_t i = 0; i < fifo.size(); ++i) all.push_back(fifo[i]);
  }
  std::sort(all.begin(), all.end(), [this](const Timer& a, const Timer& b) {
    if (before(a, b) || before(b, a)) return before(a, b);
    return std::tie(a.episode, a.first, a.caught_up) < std::tie(b.episode, b.first, b.caught_up);
  });
  return all;
}

}  // namespace gw
