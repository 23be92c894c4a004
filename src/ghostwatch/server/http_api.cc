#include "ghostwatch/server/http_api.h"

#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "ghostwatch/output/record_json.h"
#include "ghostwatch/server/case_api.h"
#include "ghostwatch/server/dashboard_api.h"
#include "ghostwatch/server/http_support.h"
#include "ghostwatch/server/inbound_api.h"

namespace gw {
namespace {

using namespace gw::http;  // NOLINT(google-build-using-namespace): the route helpers

enum class Scope { kNone, kRead, kWrite };

std::optional<Instant> time_param(const httplib::Request& req, const char* name) {
  auto v = param(req, name);
  if (!v) return std::nullopt;
  auto t = parse_rfc3339(*v);
  if (!t) throw BadParameter{fmt::format("{}: must be an RFC 3339 timestamp, not \"{}\"", name, *v)};
  return t;
}

EpisodeQuery episode_query(const httplib::Request& req) {
  EpisodeQuery q;
  if (auto s = param(req, "status")) {
    if (*s == "open") {
      q.state = EpisodeState::kOpen;
    } else if (*s == "closed") {
      q.state = EpisodeState::kClosed;
    } else {
      throw BadParameter{fmt::format("status: must be open or closed, not \"{}\"", *s)};
    }
  }
  q.freelancer = param(req, "freelancer").value_or("");
  q.contract = param(req, "contract").value_or("");
  q.arm = enum_param<Arm>(req, "arm", parse_arm, "treatment, control");
  q.opened_since = time_param(req, "opened_since");
  q.limit = static_cast<std::size_t>(int_param(req, "limit", 100, 1, kMaxPageSize));
  return q;
}

// Episode pages list closed episodes in closing order, then open ones by
// contract id bytes (the export's order). The cursor `after` is the last
// closed episode's id, or "open:" and the last open episode's contract.
struct EpisodeCursor {
  std::int64_t after_id = 0;
  std::optional<std::string> after_contract;  // set: the page starts among open episodes
};

constexpr std::string_view kOpenCursor = "open:";

EpisodeCursor episode_cursor(const httplib::Request& req) {
  EpisodeCursor c;
  auto v = param(req, "after");
  if (v && v->rfind(kOpenCursor, 0) == 0) {
    c.after_contract = v->substr(kOpenCursor.size());
  } else {
    c.after_id = int_param(req, "after", 0, 0, INT64_MAX);
  }
  return c;
}

DecisionQuery decision_query(const httplib::Request& req) {
  DecisionQuery q;
  q.since_id = int_param(req, "since", 0, 0, INT64_MAX);
  q.status = enum_param<DecisionStatus>(req, "status", parse_decision_status, "sent, held_out, suppressed, skipped");
  q.action = enum_param<StepAction>(req, "action", parse_step_action, "nudge, escalate");
  q.contract = param(req, "contract").value_or("");
  q.limit = static_cast<std::size_t>(int_param(req, "limit", 100, 1, kMaxPageSize));
  return q;
}

// A spec record line ("{...}\n") as an API item with its id first (null
// for an open episode, which gets its id when it closes).
void append_item(std::string& out, std::optional<std::int64_t> id, std::string_view record_line) {
  if (out.back() != '[') out += ',';
  out += id ? fmt::format("{{\"id\":{},", *id) : std::string("{\"id\":null,");
  out.append(record_line.substr(1, record_line.size() - 2));  // drop '{' and '\n'
}

std::string decision_items(const std::vector<DecisionRow>& rows) {
  std::string out = "[";
  std::string line;
  for (const DecisionRow& r : rows) {
    line.clear();
    append_decision_json(line, r.view());
    append_item(out, r.id, line);
  }
  return out + "]";
}

std::string episode_items(const std::vector<EpisodeRow>& rows) {
  std::string out = "[";
  std::string line;
  for (const EpisodeRow& r : rows) {
    line.clear();
    append_episode_json(line, r.view());
    append_item(out, r.outcome == Outcome::kOpen ? std::nullopt : std::optional<std::int64_t>(r.id), line);
  }
  return out + "]";
}

bool media_type_is(const std::string& header, std::string_view type) {
  std::string_view v = header;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() != type.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != type[i]) return false;
  }
  return true;
}

bool token_in(const std::vector<std::string>& tokens, std::string_view t) {
  bool found = false;
  for (const std::string& x : tokens) {
    // No early exit on the first differing byte: timing tells nothing.
    if (x.size() == t.size()) {
      unsigned char diff = 0;
      for (std::size_t i = 0; i < t.size(); ++i) diff |= static_cast<unsigned char>(x[i] ^ t[i]);
      found |= diff == 0;
    }
  }
  return found;
}

}  // namespace

struct HttpApi::Impl {
  Impl(Service& s, Store& st, const Clock& clock, RequestMetrics& m, Logger& l, HttpOptions o)
      : service(s), store(st), cases(st, clock), metrics(m), logger(l), options(std::move(o)) {
    if (options.intake != nullptr) inbound.emplace(*options.intake, st, clock);
  }

  Service& service;
  Store& store;
  CaseApi cases;
  std::optional<InboundApi> inbound;
  DashboardApi dashboard{service, store};
  RequestMetrics& metrics;
  Logger& logger;
  HttpOptions options;
  httplib::Server server;
  std::atomic<bool> draining{false};

  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Wraps a handler with the scope check, parameter errors, metrics and the
  // access log.
  httplib::Server::Handler route(std::string name, Scope scope, Handler h) {
    return [this, name = std::move(name), scope, h = std::move(h)](const httplib::Request& req,
                                                                   httplib::Response& res) {
      const auto started = std::chrono::steady_clock::now();
      if (authorize(req, res, scope)) {
        try {
          h(req, res);
        } catch (const BadParameter& e) {
          send_error(res, 400, "bad_parameter", e.message);
        }
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const int status = res.status == -1 ? 200 : res.status;  // httplib's "not set": it sends 200
      metrics.observe(name, status, seconds);
      if (status >= 400 || name == "events" || name == "advance") {
        logger.log(status >= 500 ? "error" : "info", "request",
                   {{"method", req.method},
                    {"path", req.path},
                    {"status", std::to_string(status)},
                    {"ms", fmt::format("{:.3f}", seconds * 1000)},
                    {"remote", req.remote_addr}});
      }
    };
  }

  bool authorize(const httplib::Request& req, httplib::Response& res, Scope scope) {
    if (scope == Scope::kNone || !options.tokens.enabled()) return true;
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "unauthorized", "an Authorization: Bearer <token> header is required");
      return false;
    }
    const std::string_view token = std::string_view(auth).substr(kBearer.size());
    const bool writer = token_in(options.tokens.write, token);
    const bool reader = writer || token_in(options.tokens.read, token);
    if (!reader) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      send_error(res, 401, "unauthorized", "unknown token");
      return false;
    }
    if (scope == Scope::kWrite && !writer) {
      send_error(res, 403, "forbidden", "this token has the read scope; this request needs write");
      return false;
    }
    return true;
  }

  void post_events(const httplib::Request& req, httplib::Response& res) {
    if (!media_type_is(req.get_header_value("Content-Type"), "application/x-ndjson")) {
      send_error(res, 415, "unsupported_media_type",
                 fmt::format("Content-Type must be application/x-ndjson, not \"{}\"",
                             req.get_header_value("Content-Type")));
      return;
    }
    const std::string key = req.get_header_value("Idempotency-Key");
    IngestReply reply = service.ingest(req.body, key);
    res.status = reply.status;
    if (reply.replayed) res.set_header("Idempotent-Replayed", "true");
    res.set_content(reply.body, "application/json");
  }

  void post_advance(const httplib::Request& req, httplib::Response& res) {
    auto to = time_param(req, "to");
    if (!to) throw BadParameter{"to: required, an RFC 3339 timestamp"};
    auto decisions = service.advance_to(*to);
    if (!decisions) {
      send_error(res, service.mode() == ClockMode::kEvents ? 503 : 409,
                 service.mode() == ClockMode::kEvents ? "store_unavailable" : "wrong_clock", decisions.message());
      return;
    }
    if (service.bus_front()) {
      // On the event log: each partition's worker evaluates when it reaches it.
      res.status = 202;
      res.set_content(nlohmann::json{{"evaluated_through", format_rfc3339(*to)}, {"published", true}}.dump(),
                      "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"evaluated_through", format_rfc3339(*to)}, {"decisions", *decisions}}.dump(),
                    "application/json");
  }

  // Streams every matching record as NDJSON in the spec's order: the
  // store's rows, then `tail` (the open episodes of the same moment).
  template <typename Query, typename Row>
  void export_ndjson(httplib::Response& res, Query q,
                     Status (Store::*exporter)(const Query&, const std::function<void(const Row&)>&),
                     void (*append)(std::string&, const decltype(std::declval<Row>().view())&),
                     std::vector<Row> tail = {}) {
    res.set_chunked_content_provider(
        "application/x-ndjson",
        [this, q, exporter, append, tail = std::move(tail)](std::size_t, httplib::DataSink& sink) {
          std::string buf;
          bool open = true;
          auto write = [&](const Row& row) {
            if (!open) return;
            append(buf, row.view());
            if (buf.size() >= (64u << 10)) {
              open = sink.write(buf.data(), buf.size());
              buf.clear();
            }
          };
          Status s = (store.*exporter)(q, write);
          for (const Row& row : tail) write(row);
          if (!s) {
            logger.log("error", "export failed", {{"error", s.message()}});
            return false;  // the client sees a truncated chunked body, never a silently short file
          }
          if (open && !buf.empty()) sink.write(buf.data(), buf.size());
          sink.done();
          return true;
        });
  }

  void get_episodes(const httplib::Request& req, httplib::Response& res) {
    EpisodeQuery q = episode_query(req);
    if (wants_ndjson(req)) {
      Service::EpisodeSnapshot snap = service.episode_snapshot(q);
      q.through_id = snap.closed_through;
      export_ndjson<EpisodeQuery, EpisodeRow>(res, q, &Store::export_episodes, append_episode_json,
                                              std::move(snap.open));
      return;
    }
    const EpisodeCursor cursor = episode_cursor(req);
    std::vector<EpisodeRow> rows;
    if (!cursor.after_contract) {
      q.after_id = cursor.after_id;
      auto closed = store.episodes(q);
      if (!closed) return send_error(res, 503, "store_unavailable", closed.message());
      rows = std::move(*closed);
    }
    if (rows.size() < q.limit) {
      std::optional<std::string_view> after;
      if (cursor.after_contract) after = *cursor.after_contract;
      auto open = service.open_episodes(q, after, q.limit - rows.size());
      if (!open) return send_error(res, 503, "store_unavailable", open.message());
      for (EpisodeRow& r : *open) rows.push_back(std::move(r));
    }
    std::string next = "null";
    if (rows.size() == q.limit) {
      const EpisodeRow& last = rows.back();
      next = last.outcome == Outcome::kOpen ? nlohmann::json(std::string(kOpenCursor) + last.contract).dump()
                                            : nlohmann::json(std::to_string(last.id)).dump();
    }
    res.set_content(fmt::format("{{\"items\":{},\"next_after\":{}}}", episode_items(rows), next),
                    "application/json");
  }

  void get_decisions(const httplib::Request& req, httplib::Response& res) {
    DecisionQuery q = decision_query(req);
    if (wants_ndjson(req)) {
      export_ndjson<DecisionQuery, DecisionRow>(res, q, &Store::export_decisions, append_decision_json);
      return;
    }
    auto rows = store.decisions(q);
    if (!rows) return send_error(res, 503, "store_unavailable", rows.message());
    // The cursor to poll with: the last id seen (unchanged when nothing new).
    const std::int64_t next = rows->empty() ? q.since_id : rows->back().id;
    res.set_content(fmt::format("{{\"items\":{},\"next_since\":{}}}", decision_items(*rows), next),
                    "application/json");
  }

  void get_contract(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    nlohmann::ordered_json state;
    const Result<bool> known = service.with_contract(id, [&](const ContractSnapshot& c) {
      state = {{"contract", id},
               {"client", c.client},
               {"freelancer", c.freelancer},
               {"ended", c.ended},
               {"last_client_at", instant_json(c.last_client_at)},
               {"last_freelancer_at", instant_json(c.last_fl_at)},
               {"episodes_opened", c.episodes},
               {"open_episode", c.open ? nlohmann::ordered_json{{"episode", c.episodes},
                                                                {"pending_since", format_rfc3339(c.pending_since)},
                                                                {"steps_sent", c.steps_sent}}
                                       : nlohmann::ordered_json()}};
    });
    if (!known) return send_error(res, 503, "store_unavailable", known.message());
    if (!*known) return send_error(res, 404, "not_found", fmt::format("no contract \"{}\"", id));
    EpisodeQuery eq;
    eq.contract = id;
    eq.limit = kMaxPageSize;
    DecisionQuery dq;
    dq.contract = id;
    dq.limit = kMaxPageSize;
    auto episodes = store.episodes(eq);
    auto decisions = store.decisions(dq);
    if (!episodes) return send_error(res, 503, "store_unavailable", episodes.message());
    auto open = service.open_episodes(eq, std::nullopt, 1);
    if (!open) return send_error(res, 503, "store_unavailable", open.message());
    for (EpisodeRow& r : *open) episodes->push_back(std::move(r));
    if (!decisions) return send_error(res, 503, "store_unavailable", decisions.message());
    std::string body = state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    body.pop_back();
    body += fmt::format(",\"episodes\":{},\"decisions\":{}}}", episode_items(*episodes), decision_items(*decisions));
    res.set_content(body, "application/json");
  }

  void get_user(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    nlohmann::ordered_json body;
    const Result<bool> known = service.with_user(id, [&](const UserSnapshot& u) {
      body = {{"user", id},
              {"country", text_or_null(u.country)},
              {"kind", text_or_null(u.kind)},
              {"tz", text_or_null(u.tz)},
              {"opted_out", u.opted_out},
              {"bouncing", u.bouncing},
              {"in_segment", u.in_segment},
              {"arm", arm_name(u.arm)}};
    });
    if (!known) return send_error(res, 503, "store_unavailable", known.message());
    if (!*known) return send_error(res, 404, "not_found", fmt::format("no user \"{}\"", id));
    auto contact = store.user_contact(id);
    if (!contact) return send_error(res, 503, "store_unavailable", contact.message());
    const UserContact none;
    const UserContact& c = contact->has_value() ? **contact : none;
    auto given = [](const std::optional<std::string>& v) {
      return v && !v->empty() ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
    };
    body["email"] = given(c.email);
    body["name"] = given(c.name);
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  }

  void get_rejects(const httplib::Request& req, httplib::Response& res) {
    const std::int64_t after = int_param(req, "after", 0, 0, INT64_MAX);
    const auto limit = static_cast<std::size_t>(int_param(req, "limit", 100, 1, kMaxPageSize));
    auto rows = store.rejects(after, limit);
    if (!rows) return send_error(res, 503, "store_unavailable", rows.message());
    std::string out = "[";
    std::string line;
    for (const StoredReject& r : *rows) {
      line.clear();
      append_reject_json(line, r.row.line, r.row.reason, r.row.raw);
      line.insert(1, fmt::format("\"received_at\":\"{}\",", format_rfc3339(r.received_at)));
      append_item(out, r.id, line);
    }
    out += "]";
    const std::string next = rows->size() == limit ? std::to_string(rows->back().id) : "null";
    res.set_content(fmt::format("{{\"items\":{},\"next_after\":{}}}", out, next), "application/json");
  }

  void get_outbox(const httplib::Request& req, httplib::Response& res) {
    const auto state =
        enum_param<DeliveryState>(req, "state", parse_delivery_state, "pending, sent, failed, undeliverable");
    const std::int64_t after = int_param(req, "after", 0, 0, INT64_MAX);
    const auto limit = static_cast<std::size_t>(int_param(req, "limit", 100, 1, kMaxPageSize));
    auto rows = store.outbox(state, after, limit);
    if (!rows) return send_error(res, 503, "store_unavailable", rows.message());
    using Json = nlohmann::ordered_json;
    auto when = [](Instant t) { return t == kNoInstant ? Json() : Json(format_rfc3339(t)); };
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const OutboxItem& item : *rows) {
      const Delivery& d = item.delivery;
      items.push_back({{"decision", d.decision_id},
                       {"contract", item.decision.contract},
                       {"episode", item.decision.episode},
                       {"step", item.decision.step},
                       {"action", step_action_name(item.decision.action)},
                       {"channel", d.channel},
                       {"state", delivery_state_name(d.state)},
                       {"attempts", d.attempts},
                       {"next_attempt_at", d.state == DeliveryState::kPending ? when(d.next_attempt_at) : Json()},
                       {"first_attempt_at", when(d.first_attempt_at)},
                       {"done_at", when(d.done_at)},
                       {"message_id", text_or_null(d.message_id)},
                       {"last_error", text_or_null(d.last_error)}});
    }
    const nlohmann::ordered_json next =
        rows->size() >= limit ? nlohmann::ordered_json(rows->back().delivery.decision_id) : nlohmann::ordered_json();
    res.set_content(nlohmann::ordered_json{{"items", std::move(items)}, {"next_after", next}}.dump(
                        -1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  }

  // The opt-out link of every e-mail (List-Unsubscribe): GET from a click,
  // POST "List-Unsubscribe=One-Click" from a mail client (RFC 8058). The
  // signed token is the authority; no login.
  void unsubscribe(const httplib::Request& req, httplib::Response& res) {
    if (options.opt_out_tokens == nullptr) {
      return send_error(res, 404, "not_found", "e-mail is not configured on this server ([mail] section)");
    }
    auto token = param(req, "token");
    if (!token) return send_error(res, 400, "bad_parameter", "token: required");
    Result<std::string> user = options.opt_out_tokens->verify_opt_out_token(*token);
    if (!user) return send_error(res, 400, "invalid_token", "this unsubscribe link is not valid: " + user.message());
    const IngestReply reply = service.opt_out(*user);
    if (reply.status != 200) {
      res.status = reply.status;
      return res.set_content(reply.body, "application/json");
    }
    const auto outcome = nlohmann::json::parse(reply.body, nullptr, false);
    if (outcome.is_discarded() || outcome.value("accepted", 0) != 1) {
      return send_error(res, 409, "opt_out_rejected",
                        fmt::format("the opt_out event for user \"{}\" was rejected: {}", *user, reply.body));
    }
    if (req.method == "POST") {
      return res.set_content(nlohmann::json{{"user", *user}, {"opted_out", true}}.dump(), "application/json");
    }
    res.set_content(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width\"><title>Unsubscribed</title></head><body><h1>You are unsubscribed</h1>"
        "<p>You will not get reminder e-mails about unanswered messages any more.</p></body></html>",
        "text/html; charset=utf-8");
  }

  void get_metrics(const httplib::Request&, httplib::Response& res) {
    const ServiceCounters c = service.counters();
    std::string out;
    out += "# HELP ghostwatch_events_accepted_total Events accepted.\n# TYPE ghostwatch_events_accepted_total counter\n";
    out += fmt::format("ghostwatch_events_accepted_total {}\n", c.accepted);
    out += "# HELP ghostwatch_events_rejected_total Lines rejected, by reason.\n";
    out += "# TYPE ghostwatch_events_rejected_total counter\n";
    for (std::size_t r = 1; r < kRejectReasonCount; ++r) {
      out += fmt::format("ghostwatch_events_rejected_total{{reason=\"{}\"}} {}\n",
                         reject_reason_name(static_cast<RejectReason>(r)), c.rejected[r]);
    }
    out += "# HELP ghostwatch_decisions_total Step decisions, by action and status.\n";
    out += "# TYPE ghostwatch_decisions_total counter\n";
    for (std::size_t a = 0; a < 2; ++a) {
      for (std::size_t s = 0; s < kDecisionStatusCount; ++s) {
        out += fmt::format("ghostwatch_decisions_total{{action=\"{}\",status=\"{}\"}} {}\n",
                           step_action_name(static_cast<StepAction>(a)),
                           decision_status_name(static_cast<DecisionStatus>(s)), c.decisions[a][s]);
      }
    }
    out += "# HELP ghostwatch_open_episodes Episodes open now.\n# TYPE ghostwatch_open_episodes gauge\n";
    out += fmt::format("ghostwatch_open_episodes {}\n", c.open_episodes);
    out += "# HELP ghostwatch_contracts Contracts in state.\n# TYPE ghostwatch_contracts gauge\n";
    out += fmt::format("ghostwatch_contracts {}\n", c.contracts);
    const double lag = c.timer_lag_seconds();
    out += "# HELP ghostwatch_timer_lag_seconds How far the oldest due step is behind the watermark.\n";
    out += "# TYPE ghostwatch_timer_lag_seconds gauge\n";
    out += fmt::format("ghostwatch_timer_lag_seconds {}\n", lag);
    out += "# HELP ghostwatch_log_entries Entries in the operation log.\n# TYPE ghostwatch_log_entries gauge\n";
    out += fmt::format("ghostwatch_log_entries {}\n", c.log_entries);
    out +=
        "# HELP ghostwatch_log_entries_since_snapshot Log entries after the latest snapshot: what a restart "
        "replays.\n# TYPE ghostwatch_log_entries_since_snapshot gauge\n";
    out += fmt::format("ghostwatch_log_entries_since_snapshot {}\n", c.log_entries_since_snapshot);
    out +=
        "# HELP ghostwatch_snapshot_bytes Size of the latest snapshot (0: none).\n"
        "# TYPE ghostwatch_snapshot_bytes gauge\n";
    out += fmt::format("ghostwatch_snapshot_bytes {}\n", c.snapshot_bytes);
    if (auto depth = store.outbox_depth()) {
      out += "# HELP ghostwatch_outbox_depth Sent decisions waiting for delivery.\n";
      out += "# TYPE ghostwatch_outbox_depth gauge\n";
      out += fmt::format("ghostwatch_outbox_depth {}\n", *depth);
    }
    out += "# HELP ghostwatch_recovery_seconds How long the last start's recovery took.\n";
    out += "# TYPE ghostwatch_recovery_seconds gauge\n";
    out += fmt::format("ghostwatch_recovery_seconds {}\n", service.recovery_seconds());
    if (options.bus_metrics != nullptr) options.bus_metrics->render(out);
    metrics.render(out);
    res.set_content(out, "text/plain; version=0.0.4");
  }

  void install() {
    server.set_tcp_nodelay(true);  // without it, keep-alive requests wait ~40 ms (Nagle + delayed ACK)
    server.set_payload_max_length(options.max_body_bytes);
    const int threads = options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    using namespace std::placeholders;
    server.Post("/v1/events", route("events", Scope::kWrite, std::bind(&Impl::post_events, this, _1, _2)));
    server.Post("/v1/advance", route("advance", Scope::kWrite, std::bind(&Impl::post_advance, this, _1, _2)));
    server.Get("/v1/episodes", route("episodes", Scope::kRead, std::bind(&Impl::get_episodes, this, _1, _2)));
    server.Get("/v1/decisions", route("decisions", Scope::kRead, std::bind(&Impl::get_decisions, this, _1, _2)));
    server.Get("/v1/rejects", route("rejects", Scope::kRead, std::bind(&Impl::get_rejects, this, _1, _2)));
    server.Get(R"(/v1/contracts/(.+))", route("contract", Scope::kRead, std::bind(&Impl::get_contract, this, _1, _2)));
    server.Get(R"(/v1/users/(.+))", route("user", Scope::kRead, std::bind(&Impl::get_user, this, _1, _2)));
    server.Get("/v1/outbox", route("outbox", Scope::kRead, std::bind(&Impl::get_outbox, this, _1, _2)));
    server.Get("/v1/cases", route("cases", Scope::kRead, std::bind(&CaseApi::list, &cases, _1, _2)));
    server.Get(R"(/v1/cases/(\d{1,18}))", route("case", Scope::kRead, std::bind(&CaseApi::get, &cases, _1, _2)));
    server.Patch(R"(/v1/cases/(\d{1,18}))",
                 route("case_update", Scope::kWrite, std::bind(&CaseApi::update, &cases, _1, _2)));
    server.Post(R"(/v1/cases/(\d{1,18})/notes)",
                route("case_note", Scope::kWrite, std::bind(&CaseApi::add_note, &cases, _1, _2)));
    if (inbound) {
      server.Post("/v1/inbound", route("inbound", Scope::kWrite, std::bind(&InboundApi::take, &*inbound, _1, _2)));
      server.Get("/v1/inbound", route("inbound", Scope::kRead, std::bind(&InboundApi::list, &*inbound, _1, _2)));
      server.Get(R"(/v1/inbound/(\d{1,18}))",
                 route("inbound_message", Scope::kRead, std::bind(&InboundApi::get, &*inbound, _1, _2)));
      server.Get(R"(/v1/inbound/(\d{1,18})/raw)",
                 route("inbound_message", Scope::kRead, std::bind(&InboundApi::raw, &*inbound, _1, _2)));
      server.Post(R"(/v1/inbound/(\d{1,18})/attach)",
                  route("inbound_attach", Scope::kWrite, std::bind(&InboundApi::attach, &*inbound, _1, _2)));
    }
    dashboard.install(
        server, [this](std::string name, Handler h) { return route(std::move(name), Scope::kRead, std::move(h)); },
        options.web_root);
    server.Get("/v1/unsubscribe", route("unsubscribe", Scope::kNone, std::bind(&Impl::unsubscribe, this, _1, _2)));
    server.Post("/v1/unsubscribe", route("unsubscribe", Scope::kNone, std::bind(&Impl::unsubscribe, this, _1, _2)));
    server.Get("/metrics", route("metrics", Scope::kRead, std::bind(&Impl::get_metrics, this, _1, _2)));
    server.Get("/healthz", route("healthz", Scope::kNone, [](const httplib::Request&, httplib::Response& res) {
                 res.set_content("{\"status\":\"ok\"}", "application/json");
               }));
    server.Get("/readyz", route("readyz", Scope::kNone, [this](const httplib::Request&, httplib::Response& res) {
                 if (draining) return send_error(res, 503, "draining", "shutting down");
                 res.set_content("{\"status\":\"ready\"}", "application/json");
               }));
    // httplib's own errors (no route, 413 body too large, ...) get JSON bodies too.
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler's own error body
      switch (res.status) {
        case 404: return send_error(res, 404, "not_found", fmt::format("no route {} {}", req.method, req.path));
        case 413: return send_error(res, 413, "payload_too_large", "the request body is over the size limit");
        default: return send_error(res, res.status, "http_error", fmt::format("HTTP status {}", res.status));
      }
    });
    server.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      logger.log("error", "handler failed", {{"error", what}});
      send_error(res, 500, "internal", what);
    });
  }
};

HttpApi::HttpApi(Service& service, Store& store, const Clock& clock, RequestMetrics& metrics, Logger& logger,
                 HttpOptions options)
    : impl_(std::make_unique<Impl>(service, store, clock, metrics, logger, std::move(options))) {
  impl_->install();
}

HttpApi::~HttpApi() = default;

Result<int> HttpApi::bind(const std::string& host, int port) {
  if (port == 0) {
    const int bound = impl_->server.bind_to_any_port(host);
    if (bound <= 0) return Status::error(fmt::format("cannot listen on {}: no free port", host));
    return bound;
  }
  if (!impl_->server.bind_to_port(host, port)) {
    return Status::error(fmt::format("cannot listen on {}:{} (in use, or not an address of this host)", host, port));
  }
  return port;
}

void HttpApi::run() { impl_->server.listen_after_bind(); }

void HttpApi::stop() { impl_->server.stop(); }

void HttpApi::set_draining() { impl_->draining = true; }

}  // namespace gw
