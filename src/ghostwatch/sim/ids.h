// The simulated marketplace's ids, as its lines write them: freelancer i is
// "fl<i>", client i "cl<i>", contract n "c" and n in six digits or more.
#pragma once

#include <cstdint>

#include "ghostwatch/sim/line_buffer.h"

namespace gw::sim {

inline void put_freelancer_id(LineBuffer& out, std::uint64_t i) {
  out.lit("fl");
  out.put_uint(i);
}

inline void put_client_id(LineBuffer& out, std::uint64_t i) {
  out.lit("cl");
  out.put_uint(i);
}

inline void put_contract_id(LineBuffer& out, std::uint64_t n) {
  out.put('c');
  out.put_uint(n, 6);
}

}  // namespace gw::sim
