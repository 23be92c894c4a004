// Summaries of a benchmark's repeated measurements.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace gw::bench {

// The median of `v` (of an even count, the upper of the two middle values).
// REQUIRES: `v` is not empty.
inline double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace gw::bench
