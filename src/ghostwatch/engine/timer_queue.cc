#include "ghostwatch/engine/timer_queue.h"

#include <algorithm>

namespace gw {

void TimerQueue::push(const Timer& t) {
  ++size_;
  if (t.step < kFifoSteps) {
    std::deque<Timer>& fifo = fifos_[t.step];
    if (fifo.empty() || !before(t, fifo.back())) {
      fifo.push_back(t);
      return;
    }
  }
  heap_.push_back(t);
  std::push_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
}

std::deque<Timer>* TimerQueue::smallest_fifo() const {
  const Timer* best = heap_.empty() ? nullptr : &heap_.front();
  std::deque<Timer>* best_fifo = nullptr;
  for (const std::deque<Timer>& fifo : fifos_) {
    if (!fifo.empty() && (best == nullptr || before(fifo.front(), *best))) {
      best = &fifo.front();
      best_fifo = const_cast<std::deque<Timer>*>(&fifo);
    }
  }
  return best_fifo;
}

const Timer& TimerQueue::top() const {
  const std::deque<Timer>* fifo = smallest_fifo();
  return fifo != nullptr ? fifo->front() : heap_.front();
}

Timer TimerQueue::pop() {
  --size_;
  if (std::deque<Timer>* fifo = smallest_fifo()) {
    Timer t = fifo->front();
    fifo->pop_front();
    return t;
  }
  std::pop_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return before(b, a); });
  Timer t = heap_.back();
  heap_.pop_back();
  return t;
}

}  // namespace gw
