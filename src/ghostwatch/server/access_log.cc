#include "ghostwatch/server/access_log.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "ghostwatch/core/time.h"

namespace gw {

void Logger::log(std::string_view level, std::string_view message, const Fields& fields) {
  std::string line;
  const std::string ts = format_rfc3339(clock_.now());
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j{{"ts", ts}, {"level", level}, {"msg", message}};
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts + " " + std::string(level) + " " + std::string(message);
    // append, not `" " + std::string(k)`: GCC 12 reports a false
    // -Wstringop-overflow on that operator+ when the unity batch inlines it.
    for (const auto& [k, v] : fields) line.append(" ").append(k).append("=").append(v);
  }
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace gw
