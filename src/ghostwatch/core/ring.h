// Ring<T>: a first-in, first-out queue in one contiguous buffer whose
// capacity is a power of two, so that size(), operator[] and both ends cost
// a mask and an add (std::deque's cost a division-like walk over its
// blocks). Appending when full doubles the buffer (amortised O(1)); the
// buffer never shrinks, so capacity() is the most ever held, rounded up to
// a power of two (at least kMinCapacity). T must be default-constructible
// and copyable. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "ghostwatch/core/huge_page_allocator.h"

namespace gw {

template <typename T>
class Ring {
 public:
  static constexpr std::size_t kMinCapacity = 16;

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }

  // The i-th element from the front. REQUIRES: i < size().
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & mask()]; }
  // REQUIRES: !empty()
  const T& front() const { return slots_[head_]; }

  void push_back(const T& value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & mask()] = value;
    ++size_;
  }
  // Inserts `value` with the last `behind` elements after it (0: as
  // push_back), moving those one place back. REQUIRES: behind <= size().
  void insert_before_back(std::size_t behind, const T& value) {
    push_back(value);
    std::size_t i = size_ - 1;
    for (std::size_t k = 0; k < behind; ++k, --i) slot(i) = slot(i - 1);
    slot(i) = value;
  }
  // REQUIRES: !empty()
  void pop_front() {
    head_ = (head_ + 1) & mask();
    --size_;
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }
  T& slot(std::size_t i) { return slots_[(head_ + i) & mask()]; }
  // Doubles the buffer, the elements moved to its start in order.
  void grow() {
    std::vector<T, HugePageAllocator<T>> bigger(std::max(kMinCapacity, 2 * slots_.size()));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    slots_.swap(bigger);
    head_ = 0;
  }

  // size() is 0 or a power of two; a ring grown to megabytes is on huge pages.
  std::vector<T, HugePageAllocator<T>> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace gw
