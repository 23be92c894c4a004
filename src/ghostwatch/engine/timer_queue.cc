#include "ghostwatch/engine/timer_queue.h"

#include <algorithm>
#include <tuple>

namespace gw {

void TimerQueue::push(const Timer& t) {
  const bool smallest = size_ == 0 || before(t, top());
  ++size_;
  std::size_t container = kHeap;
  if (t.step < kFifoSteps) {
    Ring<Timer>& fifo = fifos_[t.step];
    if (fifo.empty() || !before(t, fifo.back())) {
      fifo.push_back(t);
      container = t.step;
    }
  }
  if (container == kHeap) {
    heap_.push_back(t);
    std::push_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
  }
  if (smallest) smallest_ = container;
}

void TimerQueue::find_smallest() {
  smallest_ = kHeap;
  const Timer* best = heap_.empty() ? nullptr : &heap_.front();
  for (std::size_t i = 0; i < kFifoSteps; ++i) {
    if (!fifos_[i].empty() && (best == nullptr || before(fifos_[i].front(), *best))) {
      best = &fifos_[i].front();
      smallest_ = i;
    }
  }
}

Timer TimerQueue::pop() {
  --size_;
  popped_ = smallest_;
  Timer t;
  if (smallest_ != kHeap) {
    t = fifos_[smallest_].front();
    fifos_[smallest_].pop_front();
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
    t = heap_.back();
    heap_.pop_back();
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
