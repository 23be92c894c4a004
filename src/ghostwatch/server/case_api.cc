#include "ghostwatch/server/case_api.h"

#include <string>

#include "ghostwatch/server/case_json.h"
#include "ghostwatch/server/http_support.h"

namespace gw {
namespace {

using http::object_body;
using http::send_error;
using http::send_json;
using http::string_field;
using Json = nlohmann::ordered_json;

std::int64_t case_id(const httplib::Request& req) { return std::stoll(req.matches[1]); }

}  // namespace

void CaseApi::list(const httplib::Request& req, httplib::Response& res) {
  const bool ndjson = http::wants_ndjson(req);
  CaseQuery q;
  q.contract = http::param(req, "contract").value_or("");
  q.team = http::param(req, "team").value_or("");
  q.freelancer = http::param(req, "freelancer").value_or("");
  q.client = http::param(req, "client").value_or("");
  q.assignee = http::param(req, "assignee").value_or("");
  q.status = http::enum_param<CaseStatus>(req, "status", parse_case_status, "new, open, pending, solved");
  q.after_id = http::int_param(req, "after", 0, 0, INT64_MAX);
  q.limit = static_cast<std::size_t>(http::int_param(req, "limit", 100, 1, http::kMaxPageSize));
  if (ndjson) {
    // Every matching case, one JSON object a line (for the experiment report).
    std::string out;
    q.limit = http::kMaxPageSize;
    for (;;) {
      auto page = store_.cases(q);
      if (!page) return send_error(res, 503, "store_unavailable", page.message());
      for (const CaseRow& c : *page)
        out += case_json(c).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      if (page->size() < q.limit) break;
      q.after_id = page->back().id;
    }
    res.set_content(out, "application/x-ndjson");
    return;
  }
  auto rows = store_.cases(q);
  if (!rows) return send_error(res, 503, "store_unavailable", rows.message());
  Json items = Json::array();
  for (const CaseRow& c : *rows) items.push_back(case_json(c));
  send_json(res,
            {{"items", std::move(items)}, {"next_after", rows->size() == q.limit ? Json(rows->back().id) : Json()}});
}

void CaseApi::get(const httplib::Request& req, httplib::Response& res) {
  const std::int64_t id = case_id(req);
  auto c = store_.find_case(id);
  if (!c) return send_error(res, 503, "store_unavailable", c.message());
  if (!c->has_value()) return send_error(res, 404, "not_found", fmt::format("no case {}", id));
  auto entries = store_.case_timeline(id);
  if (!entries) return send_error(res, 503, "store_unavailable", entries.message());
  Json body = case_json(**c);
  Json timeline = Json::array();
  for (const CaseEntry& e : *entries) timeline.push_back(case_entry_json(e));
  body["timeline"] = std::move(timeline);
  send_json(res, body);
}

void CaseApi::update(const httplib::Request& req, httplib::Response& res) {
  const auto body = object_body(req, res);
  if (!body) return;
  bool failed = false;
  CaseUpdate u;
  const auto status = string_field(*body, "status", res, failed);
  const auto outcome = string_field(*body, "outcome", res, failed);
  u.assignee = string_field(*body, "assignee", res, failed);
  u.author = string_field(*body, "author", res, failed).value_or("");
  if (failed) return;
  if (status) {
    u.status = parse_case_status(*status);
    if (!u.status) {
      return send_error(res, 400, "bad_body",
                        fmt::format("status: must be one of new, open, pending, solved, not \"{}\"", *status));
    }
  }
  if (outcome) {
    u.outcome = parse_case_outcome(*outcome);
    if (!u.outcome || outcome->empty()) {
      return send_error(res, 400, "bad_body",
                        fmt::format("outcome: must be one of freelancer_responded, freelancer_replaced, "
                                    "client_withdrew, no_action, not \"{}\"",
                                    *outcome));
    }
  }
  auto done = store_.update_case(case_id(req), u, clock_.now());
  if (!done) return send_error(res, 503, "store_unavailable", done.message());
  if (!*done) return send_error(res, 404, "not_found", fmt::format("no case {}", case_id(req)));
  get(req, res);
}

void CaseApi::add_note(const httplib::Request& req, httplib::Response& res) {
  const auto body = object_body(req, res);
  if (!body) return;
  bool failed = false;
  const auto text = string_field(*body, "text", res, failed);
  const std::string author = string_field(*body, "author", res, failed).value_or("");
  if (failed) return;
  if (!text || text->empty()) return send_error(res, 400, "bad_body", "text: a note needs a non-empty text");
  auto done = store_.add_case_note(case_id(req), author, *text, clock_.now());
  if (!done) return send_error(res, 503, "store_unavailable", done.message());
  if (!*done) return send_error(res, 404, "not_found", fmt::format("no case {}", case_id(req)));
  res.status = 201;
  get(req, res);
  res.status = 201;
}

}  // namespace gw
