// The JSON forms of a case and of a timeline entry, as the API answers them
// and the ticket connectors send them (docs/api.md, "Cases").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ghostwatch/core/time.h"
#include "ghostwatch/server/http_support.h"
#include "ghostwatch/store/cases.h"

namespace gw {

inline nlohmann::ordered_json case_json(const CaseRow& c) {
  return {{"id", c.id},
          {"team", c.team},
          {"contract", c.contract},
          {"episode", c.episode},
          {"freelancer", c.freelancer},
          {"client", c.client},
          {"status", case_status_name(c.status)},
          {"outcome", http::text_or_null(case_outcome_name(c.outcome))},
          {"assignee", http::text_or_null(c.assignee)},
          {"opened_at", format_rfc3339(c.opened_at)},
          {"updated_at", format_rfc3339(c.updated_at)}};
}

// `at` and `kind`; `episode`, `author` and `text` where they apply.
inline nlohmann::ordered_json case_entry_json(const CaseEntry& e) {
  nlohmann::ordered_json entry = {{"at", format_rfc3339(e.at)}, {"kind", e.kind}};
  if (e.episode != 0) entry["episode"] = e.episode;
  if (!e.author.empty()) entry["author"] = e.author;
  if (!e.text.empty()) entry["text"] = e.text;
  return entry;
}

}  // namespace gw
