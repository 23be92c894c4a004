// The policy in force as JSON for people (GET /v1/campaign): the window,
// arms, segment, limits and ladder, with durations both as text ("72h") and
// in hours. The arm salt is left out: it is not needed to read the policy,
// and it would let a reader predict arms. Thread-safe: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "ghostwatch/policy/policy.h"

namespace gw {

nlohmann::ordered_json campaign_json(const Policy& policy);

}  // namespace gw
