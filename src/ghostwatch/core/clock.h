// The one place that reads the wall clock. Everything else takes a Clock, so
// tests drive time explicitly. Thread-safe.
#pragma once

#include <chrono>

#include "ghostwatch/core/time.h"

namespace gw {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace gw
