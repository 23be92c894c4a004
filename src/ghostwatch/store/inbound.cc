#include "ghostwatch/store/inbound.h"

#include <array>

namespace gw {
namespace {

constexpr std::array<std::string_view, kInboundRouteCount> kRouteNames = {"case", "unmatched", "bounce", "opt_out"};

}  // namespace

std::string_view inbound_route_name(InboundRoute r) { return kRouteNames[static_cast<std::size_t>(r)]; }

std::optional<InboundRoute> parse_inbound_route(std::string_view name) {
  for (std::size_t i = 0; i < kRouteNames.size(); ++i) {
    if (kRouteNames[i] == name) return static_cast<InboundRoute>(i);
  }
  return std::nullopt;
}

}  // namespace gw
