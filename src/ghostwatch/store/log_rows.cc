#include "ghostwatch/store/log_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace gw {
namespace {

bool is_event_kind(LogKind k) {
  return k == LogKind::kEvent || k == LogKind::kLiveEvent || k == LogKind::kPartitionEvent;
}

void append_event(std::string& text, const LogEntry& e) {
  if (e.kind == LogKind::kPartitionEvent) text += fmt::format("{} ", e.at);
  text += e.line;
}

}  // namespace

std::vector<LogRow> log_rows(const std::vector<LogEntry>& log) {
  std::vector<LogRow> rows;
  for (std::size_t i = 0; i < log.size();) {
    const LogEntry& first = log[i];
    if (!is_event_kind(first.kind)) {
      rows.push_back(LogRow{first.kind, first.at, 1, first.line});
      ++i;
      continue;
    }
    LogRow row{first.kind, 0, 1, {}};
    append_event(row.text, first);
    for (++i; i < log.size() && log[i].kind == first.kind; ++i, ++row.entries) {
      row.text += '\n';
      append_event(row.text, log[i]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status for_each_log_entry(int kind, Instant at, std::int64_t entries, std::string_view text,
                          const std::function<Status(const LogEntry&)>& fn) {
  if (kind < 0 || kind > static_cast<int>(LogKind::kModel)) {
    return Status::error(fmt::format("store: log entry of unknown kind {}", kind));
  }
  LogEntry e;
  e.kind = static_cast<LogKind>(kind);
  if (!is_event_kind(e.kind)) {
    e.at = at;
    e.line = std::string(text);
    return fn(e);
  }
  e.at = kNoInstant;
  for (std::int64_t k = 0; k < entries; ++k) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (e.kind == LogKind::kPartitionEvent) {
      const std::size_t space = line.find(' ');
      const auto [end, ec] = std::from_chars(line.data(), line.data() + std::min(space, line.size()), e.at);
      if (space == std::string_view::npos || ec != std::errc() || end != line.data() + space) {
        return Status::error(fmt::format("store: a partition's log entry without its watermark: {}", line));
      }
      line.remove_prefix(space + 1);
    }
    e.line.assign(line);
    if (Status st = fn(e); !st) return st;
  }
  return Status::ok();
}

}  // namespace gw
