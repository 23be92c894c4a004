#include "ghostwatch/server/inbound_api.h"

#include <string>

#include "ghostwatch/server/http_support.h"

namespace gw {
namespace {

using http::send_error;
using http::send_json;
using Json = nlohmann::ordered_json;

Json inbound_json(const InboundRow& m) {
  return {{"id", m.id},
          {"received_at", format_rfc3339(m.received_at)},
          {"message_id", http::text_or_null(m.message_id)},
          {"from", http::text_or_null(m.from_address)},
          {"from_name", http::text_or_null(m.from_name)},
          {"subject", m.subject},
          {"text", m.text},
          {"auto_reply", m.auto_reply},
          {"bounce", m.bounce},
          {"route", inbound_route_name(m.route)},
          {"case", m.case_id == 0 ? Json() : Json(m.case_id)},
          {"reason", m.reason}};
}

std::int64_t message_id(const httplib::Request& req) { return std::stoll(req.matches[1]); }

}  // namespace

void InboundApi::take(const httplib::Request& req, httplib::Response& res) {
  std::string raw = req.body;
  if (req.is_multipart_form_data()) {
    // Inbound-parse webhooks: SendGrid's raw mode sends `email`, Mailgun's MIME route `body-mime`.
    const char* field = req.has_file("email") ? "email" : req.has_file("body-mime") ? "body-mime" : nullptr;
    if (field == nullptr) {
      return send_error(res, 400, "bad_body", "a multipart form needs the raw message in the field email or body-mime");
    }
    raw = req.get_file_value(field).content;
  }
  if (raw.empty()) return send_error(res, 400, "bad_body", "the body must be a raw RFC 5322 message");
  auto taken = intake_.take(raw, "POST /v1/inbound");
  if (!taken) return send_error(res, 503, "store_unavailable", taken.message());
  res.status = taken->duplicate ? 200 : 201;
  send_json(res, {{"id", taken->id},
                  {"route", inbound_route_name(taken->route)},
                  {"case", taken->case_id == 0 ? Json() : Json(taken->case_id)},
                  {"duplicate", taken->duplicate}});
}

void InboundApi::list(const httplib::Request& req, httplib::Response& res) {
  InboundQuery q;
  q.route = http::enum_param<InboundRoute>(req, "route", parse_inbound_route, "case, unmatched, bounce, opt_out");
  q.after_id = http::int_param(req, "after", 0, 0, INT64_MAX);
  q.limit = static_cast<std::size_t>(http::int_param(req, "limit", 100, 1, http::kMaxPageSize));
  auto page = store_.inbound(q);
  if (!page) return send_error(res, 503, "store_unavailable", page.message());
  Json items = Json::array();
  for (const InboundRow& m : *page) items.push_back(inbound_json(m));
  Json body = {{"items", std::move(items)}};
  body["next_after"] = page->size() == q.limit ? Json(page->back().id) : Json();
  send_json(res, body);
}

void InboundApi::get(const httplib::Request& req, httplib::Response& res) {
  auto m = store_.find_inbound(message_id(req));
  if (!m) return send_error(res, 503, "store_unavailable", m.message());
  if (!m->has_value()) return send_error(res, 404, "not_found", fmt::format("no inbound message {}", message_id(req)));
  send_json(res, inbound_json(**m));
}

void InboundApi::raw(const httplib::Request& req, httplib::Response& res) {
  auto m = store_.find_inbound(message_id(req));
  if (!m) return send_error(res, 503, "store_unavailable", m.message());
  if (!m->has_value()) return send_error(res, 404, "not_found", fmt::format("no inbound message {}", message_id(req)));
  res.set_content((*m)->raw, "message/rfc822");
}

void InboundApi::attach(const httplib::Request& req, httplib::Response& res) {
  const auto body = http::object_body(req, res);
  if (!body) return;
  bool failed = false;
  const std::string author = http::string_field(*body, "author", res, failed).value_or("");
  if (failed) return;
  if (!body->contains("case") || !(*body)["case"].is_number_integer()) {
    return send_error(res, 400, "bad_body", "case: must be the id of a case (an integer)");
  }
  const std::int64_t case_id = (*body)["case"].get<std::int64_t>();
  auto done = store_.attach_inbound(message_id(req), case_id, author, clock_.now());
  if (!done) return send_error(res, 503, "store_unavailable", done.message());
  switch (*done) {
    case AttachResult::kAttached: return get(req, res);
    case AttachResult::kNoMessage:
      return send_error(res, 404, "not_found", fmt::format("no inbound message {}", message_id(req)));
    case AttachResult::kNoCase: return send_error(res, 404, "not_found", fmt::format("no case {}", case_id));
    case AttachResult::kNotUnmatched:
      return send_error(res, 409, "not_unmatched",
                        fmt::format("inbound message {} is not in the unmatched queue", message_id(req)));
  }
}

}  // namespace gw
