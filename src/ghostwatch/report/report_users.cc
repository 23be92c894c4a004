#include "ghostwatch/report/report_users.h"

#include "ghostwatch/core/ascii.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"

namespace gw::report {

Status load_report_users(const std::string& events_path, ReportFreelancers& freelancers) {
  if (events_path == "-") return Status::error("--events: - (standard input) is not accepted here: name a file");
  LineReader reader;
  if (Status opened = reader.open(events_path); !opened) return opened;
  LineParser parser;
  Event e;
  std::string_view line;
  std::size_t capacity = 0;
  std::string key;
  while (reader.next(line, capacity)) {
    if (is_blank_line(line) || parser.parse(line, capacity, e) != RejectReason::kNone) continue;
    const bool user = e.type == EventType::kUser;
    if (!user && e.type != EventType::kOptOut) continue;
    key.assign(e.get(user ? Field::kId : Field::kUser));
    const auto found = freelancers.find(key);
    if (found == freelancers.end()) continue;
    ReportFreelancer& f = found->second;
    if (user) {
      if (e.at > f.first_trigger) continue;
      if (e.has(Field::kCountry)) f.country = to_upper_ascii(e.get(Field::kCountry));
      if (e.has(Field::kKind)) f.kind.assign(e.get(Field::kKind));
    } else if (e.at > f.first_trigger && (f.opted_out_at == kNoInstant || e.at < f.opted_out_at)) {
      f.opted_out_at = e.at;
    }
  }
  return reader.status();
}

}  // namespace gw::report
