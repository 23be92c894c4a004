// The simulator's agenda: what happens next in the simulated marketplace,
// in time order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ghostwatch/core/time.h"

namespace gw::sim {

enum class ActionKind : std::uint8_t {
  kFreelancerJoins,
  kClientJoins,
  kOffer,
  kReplacement,
  kProfileChange,
  kOptOut,
  kOptIn,
  kContract
};

struct Action {
  Instant at;
  // Insertion order << 8 | kind. The order makes ties total, so the output is
  // deterministic; packing the kind keeps the action at 24 bytes.
  std::uint64_t key;
  std::uint32_t target;      // a freelancer, client or contract slot, by kind
  std::uint32_t freelancer;  // kContract: its freelancer, to prefetch; kReplacement: the replaced
  ActionKind kind() const { return static_cast<ActionKind>(key & 0xff); }
};

struct Later {
  bool operator()(const Action& a, const Action& b) const { return a.at != b.at ? a.at > b.at : a.key > b.key; }
};

// A priority queue of actions in (at, key) order, as a calendar of one-hour
// buckets: only the current hour is a heap, so the heap stays small and in
// cache, and a push into a later hour is an append. Actions at or after the
// end of the run are dropped; they would never run.
class ActionQueue {
 public:
  ActionQueue(Instant origin, Instant end)
      : origin_(origin), end_(end), buckets_(static_cast<std::size_t>((end - origin) / kHour + 1)) {}

  void push(const Action& a) {
    if (a.at >= end_) return;
    const std::int64_t hour = floor_div(a.at - origin_, kHour);
    if (hour <= hour_) {
      current_.push_back(a);
      std::push_heap(current_.begin(), current_.end(), Later{});
    } else {
      buckets_[static_cast<std::size_t>(hour)].push_back(a);
    }
  }

  bool pop(Action& a) {
    while (current_.empty()) {
      if (++hour_ >= static_cast<std::int64_t>(buckets_.size())) return false;
      std::vector<Action>& bucket = buckets_[static_cast<std::size_t>(hour_)];
      current_.assign(bucket.begin(), bucket.end());
      std::vector<Action>().swap(bucket);  // give the memory back
      std::make_heap(current_.begin(), current_.end(), Later{});
    }
    std::pop_heap(current_.begin(), current_.end(), Later{});
    a = current_.back();
    current_.pop_back();
    return true;
  }

  // The action pop() returns next, if it is already known.
  const Action* peek() const { return current_.empty() ? nullptr : &current_.front(); }

 private:
  Instant origin_;
  Instant end_;
  std::int64_t hour_ = -1;
  std::vector<Action> current_;
  std::vector<std::vector<Action>> buckets_;
};

}  // namespace gw::sim
