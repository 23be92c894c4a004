#include "ghostwatch/engine/timer_queue.h"

#include <algorithm>

namespace gw {

void TimerQueue::push(const Timer& t) {
  if (fifo_.empty() || !before(t, fifo_.back())) {
    fifo_.push_back(t);
    return;
  }
  heap_.push_back(t);
  std::push_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
}

Timer TimerQueue::pop() {
  if (from_fifo()) {
    Timer t = fifo_.front();
    fifo_.pop_front();
    return t;
  }
  std::pop_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
  Timer t = heap_.back();
  heap_.pop_back();
  return t;
}

}  // namespace gw
