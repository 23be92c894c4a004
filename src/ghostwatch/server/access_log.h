// Structured log lines on standard error: human-readable text by default,
// one JSON object per line with --log-format json. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ghostwatch/core/clock.h"

namespace gw {

enum class LogFormat { kText, kJson };

class Logger {
 public:
  using Fields = std::vector<std::pair<std::string_view, std::string>>;

  Logger(LogFormat format, const Clock& clock) : format_(format), clock_(clock) {}

  // level: "info", "warn", "error".
  void log(std::string_view level, std::string_view message, const Fields& fields = {});

 private:
  const LogFormat format_;
  const Clock& clock_;
  std::mutex mu_;
};

}  // namespace gw
