#include "ghostwatch/server/request_metrics.h"

#include <fmt/format.h>

namespace gw {

void RequestMetrics::observe(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = latency_[route];
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
  ++counts_[{route, status}];
}

void RequestMetrics::render(std::string& out) const {
  std::lock_guard lock(mu_);
  out += "# HELP ghostwatch_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE ghostwatch_http_requests_total counter\n";
  for (const auto& [key, n] : counts_) {
    out += fmt::format("ghostwatch_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  }
  out += "# HELP ghostwatch_http_request_duration_seconds HTTP request latency by route.\n";
  out += "# TYPE ghostwatch_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += fmt::format("ghostwatch_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
                         kBuckets[i], cumulative);
    }
    out += fmt::format("ghostwatch_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
                       h.count);
    out += fmt::format("ghostwatch_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("ghostwatch_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
}

}  // namespace gw
