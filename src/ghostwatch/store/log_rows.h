// The operation log as every store keeps it (rows.h, LogEntry): one row per
// run of consecutive event lines of the same kind (the lines joined by '\n',
// `entries` of them, `at` 0; a kPartitionEvent line preceded by its `at` and
// a space), and one row per other entry (its `at` and text). Grouping makes a request of a thousand events one row, not
// a thousand. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/store/rows.h"

namespace gw {

struct LogRow {
  LogKind kind = LogKind::kEvent;
  Instant at = 0;
  std::int64_t entries = 1;
  std::string text;  // the joined lines, or the entry's text
};

// The rows that store `log`, in order.
std::vector<LogRow> log_rows(const std::vector<LogEntry>& log);

// Calls `fn` with each entry a stored row holds, in order; stops at fn's
// first error. A kind this build does not know is an error naming it.
Status for_each_log_entry(int kind, Instant at, std::int64_t entries, std::string_view text,
                          const std::function<Status(const LogEntry&)>& fn);

}  // namespace gw
