// Arm assignment (spec section 4, rule 5): a freelancer's bucket is the first
// 8 bytes, big-endian, of SHA-256(salt ":" freelancer_id), mod 10000; the
// control arm is every bucket below the holdout threshold. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace gw {

enum class Arm : std::uint8_t { kTreatment, kControl };

std::uint32_t arm_bucket(std::string_view salt, std::string_view freelancer_id);

// floor(holdout_percent * 100 + 0.5): buckets below it are in control.
std::uint32_t holdout_threshold(double holdout_percent);

inline Arm assign_arm(std::string_view salt, std::string_view freelancer_id, std::uint32_t threshold) {
  return arm_bucket(salt, freelancer_id) < threshold ? Arm::kControl : Arm::kTreatment;
}

inline std::string_view arm_name(Arm a) { return a == Arm::kControl ? "control" : "treatment"; }

}  // namespace gw
