#include "ghostwatch/policy/arm.h"

#include <openssl/sha.h>

#include <cmath>
#include <string>

namespace gw {

std::uint32_t arm_bucket(std::string_view salt, std::string_view freelancer_id) {
  std::string input;
  input.reserve(salt.size() + 1 + freelancer_id.size());
  input.append(salt).push_back(':');
  input.append(freelancer_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return static_cast<std::uint32_t>(v % 10000);
}

std::uint32_t holdout_threshold(double holdout_percent) {
  return static_cast<std::uint32_t>(std::floor(holdout_percent * 100 + 0.5));
}

}  // namespace gw
