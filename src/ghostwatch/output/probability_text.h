// A risk score as the episode records write it: six decimals, the float's
// exact value rounded to the nearest millionth (ties to even), the bytes
// printf("%.6f") and fmt's "{:.6f}" give for it (tested), without a format
// string to parse or a general float formatter: replay --model writes one
// per episode record. Thread-safe: a pure function.
#pragma once

namespace gw {

// Writes `v` at `p` (8 bytes: "0.412345", "1.000000") and returns the end.
// REQUIRES: 0 <= v <= 1.
char* write_probability(char* p, float v);

}  // namespace gw
