#include "ghostwatch/engine/timer_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace gw {
namespace {

// Reference order of the spec: (time, contract id bytes, step).
struct Key {
  Instant at;
  std::string contract;
  std::uint16_t step;
  bool operator<(const Key& o) const { return std::tie(at, contract, step) < std::tie(o.at, o.contract, o.step); }
  bool operator==(const Key& o) const { return std::tie(at, contract, step) == std::tie(o.at, o.contract, o.step); }
};

TEST(TimerQueue, PopsInSpecOrderWhateverThePushOrder) {
  Interner ids;
  // Ids whose byte order differs from numeric order, share long prefixes,
  // or differ only past the 8-byte key, or by a NUL byte.
  const std::vector<std::string> names = {"c9", "c10", "B", "a", "contract-000001", "contract-000002",
                                          "ab", std::string("ab\0", 3), "\xC3\xA9", "zz"};
  for (const auto& n : names) ids.intern(n);
  TimerQueue q(ids);
  std::mt19937 rng(42);
  std::vector<Key> pushed;
  std::vector<Key> popped;
  Instant clock = 0;
  for (int round = 0; round < 2000; ++round) {
    // Mostly increasing times with some late ones, interleaved with pops.
    const std::uint32_t c = rng() % names.size();
    const Instant at = clock + static_cast<Instant>(rng() % 5) - (rng() % 4 == 0 ? 50 : 0);
    clock += rng() % 3;
    const auto step = static_cast<std::uint16_t>(rng() % 3);
    q.push(Timer{at, Interner::prefix_key(names[c]), c, 1, 0, step, true});
    pushed.push_back({at, names[c], step});
    if (rng() % 3 == 0) {
      // Whatever is popped must be the minimum of what is pending.
      Timer t = q.pop();
      Key k{t.at, names[t.contract], t.step};
      auto it = std::min_element(pushed.begin(), pushed.end());
      ASSERT_EQ(k, *it) << "round " << round;
      pushed.erase(it);
    }
  }
  while (!q.empty()) {
    Timer t = q.pop();
    popped.push_back({t.at, names[t.contract], t.step});
  }
  std::sort(pushed.begin(), pushed.end());
  EXPECT_EQ(popped, pushed);
}

TEST(TimerQueue, TopIsTheNextPop) {
  Interner ids;
  ids.intern("a");
  TimerQueue q(ids);
  EXPECT_TRUE(q.empty());
  q.push(Timer{10, Interner::prefix_key("a"), 0, 1, 0, 0, true});
  q.push(Timer{5, Interner::prefix_key("a"), 0, 1, 0, 1, false});  // late: goes to the heap
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.top().at, 5);
  EXPECT_EQ(q.pop().at, 5);
  EXPECT_EQ(q.top().at, 10);
  EXPECT_EQ(q.pop().at, 10);
  EXPECT_TRUE(q.empty());
}

// The queue compares its containers' heads by time first: a timer at the
// largest instant must still be found, in a FIFO or in the heap, and
// ordered by the contract's bytes against another at that instant.
TEST(TimerQueue, TimersAtTheLargestInstantArePopped) {
  Interner ids;
  ids.intern("b");
  ids.intern("a");
  TimerQueue q(ids);
  constexpr Instant kLast = std::numeric_limits<Instant>::max();
  q.push(Timer{kLast, Interner::prefix_key("b"), 0, 1, 0, 1, true});   // FIFO 1
  q.push(Timer{kLast, Interner::prefix_key("a"), 1, 1, 0, 9, false});  // the heap
  q.push(Timer{5, Interner::prefix_key("b"), 0, 1, 0, 0, true});       // FIFO 0
  EXPECT_EQ(q.pop().at, 5);
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.top().contract, 1u);  // "a" before "b"
  EXPECT_EQ(q.pop().step, 9);
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.pop().contract, 0u);
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, UpcomingIsPoppedLaterFromTheSameFifo) {
  Interner ids;
  ids.intern("a");
  ids.intern("b");
  TimerQueue q(ids);
  // Two FIFOs (steps 0 and 1), interleaved in time.
  for (Instant at = 0; at < 10; ++at) {
    q.push(Timer{at * 10, Interner::prefix_key("a"), 0, static_cast<std::uint32_t>(at), 0, 0, true});
    q.push(Timer{at * 10 + 5, Interner::prefix_key("b"), 1, static_cast<std::uint32_t>(at), 0, 1, true});
  }
  EXPECT_EQ(q.upcoming(0), nullptr);  // nothing popped yet
  EXPECT_EQ(q.pop().at, 0);           // from step 0's FIFO
  ASSERT_NE(q.upcoming(2), nullptr);
  EXPECT_EQ(q.upcoming(2)->at, 30);   // step 0's third timer from here
  EXPECT_EQ(q.upcoming(9), nullptr);  // beyond that FIFO
  EXPECT_EQ(q.pop().at, 5);           // from step 1's FIFO
  EXPECT_EQ(q.upcoming(0)->at, 15);
}

}  // namespace
}  // namespace gw
