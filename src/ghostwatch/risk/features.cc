#include "ghostwatch/risk/features.h"

namespace gw::risk {

bool is_heavy_tailed(NumericFeature f) {
  switch (f) {
    case NumericFeature::kFlUnanswered24Share:
    case NumericFeature::kFlUnanswered72Share:
    case NumericFeature::kLocalHour:
    case NumericFeature::kLocalWeekday: return false;
    default: return true;
  }
}

}  // namespace gw::risk
