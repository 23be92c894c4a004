#include "ghostwatch/server/dashboard_api.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ghostwatch/output/record_json.h"
#include "ghostwatch/report/report_html.h"
#include "ghostwatch/report/report_json.h"
#include "ghostwatch/server/campaign_json.h"
#include "ghostwatch/server/http_support.h"
#include "ghostwatch/server/live_report.h"

namespace gw {
namespace {

using Json = nlohmann::ordered_json;
using http::send_error;

constexpr int kDashDailyDays = 14;  // the overview's per-day series

void dash_send(httplib::Response& res, const Json& body) {
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

std::int64_t dash_day(Instant t) { return t >= 0 ? t / kDay : (t - kDay + 1) / kDay; }

// The Monday (00:00 UTC) of `t`'s ISO week, as a day number (1970-01-01 was a Thursday).
std::int64_t dash_week_start(Instant t) {
  const std::int64_t d = dash_day(t);
  return d - ((d % 7 + 7 + 3) % 7);
}

std::string dash_date(std::int64_t day) { return format_rfc3339(day * kDay).substr(0, 10); }

// Decision counts of one arm: [action][status].
using DashCounts = std::array<std::array<std::int64_t, kDecisionStatusCount>, 2>;

Json dash_counts_json(const DashCounts& c) {
  Json j;
  for (std::size_t a = 0; a < 2; ++a) {
    Json statuses;
    for (std::size_t s = 0; s < kDecisionStatusCount; ++s) {
      statuses[std::string(decision_status_name(static_cast<DecisionStatus>(s)))] = c[a][s];
    }
    j[std::string(step_action_name(static_cast<StepAction>(a)))] = std::move(statuses);
  }
  return j;
}

struct DashReplies {
  std::int64_t closed = 0;
  std::int64_t replied = 0;
  Json json() const {
    return {{"closed", closed},
            {"replied", replied},
            {"rate", closed > 0 ? Json(static_cast<double>(replied) / static_cast<double>(closed)) : Json()}};
  }
};

const date::time_zone* dash_zone(std::string_view tz) {
  if (tz.empty()) return nullptr;
  try {
    return date::locate_zone(std::string(tz));
  } catch (const std::exception&) {
    return nullptr;  // the engine resolved it already; UTC if it somehow does not
  }
}

// "Mon 14:05" in `zone` (nullptr: UTC).
std::string dash_local_time(Instant t, const date::time_zone* zone) {
  const date::sys_time<std::chrono::milliseconds> sys{std::chrono::milliseconds(t)};
  const auto minutes = std::chrono::floor<std::chrono::minutes>(sys);
  if (zone == nullptr) return date::format("%a %H:%M", minutes);
  return date::format("%a %H:%M", date::make_zoned(zone, minutes).get_local_time());
}

// The team of a ladder's first escalation step; "" when none.
std::string dash_ladder_team(const std::vector<LadderStep>& ladder) {
  for (const LadderStep& s : ladder) {
    if (s.action == StepAction::kEscalate) return s.target;
  }
  return "";
}

std::string dash_upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Instant DashboardApi::now() const {
  if (service_.mode() == ClockMode::kWall) return service_.clock().now();
  const ServiceCounters c = service_.counters();
  return std::max(c.watermark, c.evaluated_through);
}

void DashboardApi::overview(const httplib::Request&, httplib::Response& res) {
  const ServiceCounters counters = service_.counters();
  const Instant at = now();
  const Policy policy = service_.policy();
  const std::int64_t today = at == kNoInstant ? 0 : dash_day(at);
  const std::int64_t week = at == kNoInstant ? 0 : dash_week_start(at);
  const std::int64_t first_day = today - kDashDailyDays + 1;

  // Decisions: today, this week and per day, by arm.
  std::array<DashCounts, 2> today_counts{}, week_counts{};
  std::vector<std::array<std::array<std::int64_t, 2>, 2>> daily(
      kDashDailyDays);  // [day][arm][action], sent or held out
  Status read = store_.export_decisions(DecisionQuery{}, [&](const DecisionRow& d) {
    const std::int64_t day = dash_day(d.at);
    const auto arm = static_cast<std::size_t>(d.arm);
    const auto action = static_cast<std::size_t>(d.action);
    const auto status = static_cast<std::size_t>(d.status);
    if (day == today) ++today_counts[arm][action][status];
    if (day >= week && day <= today) ++week_counts[arm][action][status];
    if (day >= first_day && day <= today &&
        (d.status == DecisionStatus::kSent || d.status == DecisionStatus::kHeldOut)) {
      ++daily[static_cast<std::size_t>(day - first_day)][arm][action];
    }
  });
  if (!read) return send_error(res, 503, "store_unavailable", read.message());

  // Reply rates of the in-segment episodes that closed, this week and overall.
  std::array<DashReplies, 2> week_replies{}, all_replies{};
  EpisodeQuery closed;  // a bus's store holds the open ones too
  closed.state = EpisodeState::kClosed;
  read = store_.export_episodes(closed, [&](const EpisodeRow& e) {
    if (!e.in_segment) return;
    const auto arm = static_cast<std::size_t>(e.arm);
    const bool replied = e.outcome == Outcome::kReplied;
    ++all_replies[arm].closed;
    all_replies[arm].replied += replied;
    if (dash_day(e.closed_at) >= week) {
      ++week_replies[arm].closed;
      week_replies[arm].replied += replied;
    }
  });
  if (!read) return send_error(res, 503, "store_unavailable", read.message());

  // Open episodes by age, in bands ending at the ladder's steps.
  std::vector<Duration> bounds = {0};
  for (const LadderStep& s : policy.ladder) bounds.push_back(s.after);
  std::vector<std::array<std::int64_t, 2>> by_age(bounds.size());
  auto open = service_.open_episodes(EpisodeQuery{}, std::nullopt, SIZE_MAX);
  if (!open) return send_error(res, 503, "store_unavailable", open.message());
  for (const EpisodeRow& e : *open) {
    const Duration age = at == kNoInstant ? 0 : at - e.opened_at;
    std::size_t band = 0;
    while (band + 1 < bounds.size() && age >= bounds[band + 1]) ++band;
    ++by_age[band][static_cast<std::size_t>(e.arm)];
  }
  Json age_json = Json::array();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const double from = static_cast<double>(bounds[i]) / kHour;
    age_json.push_back({{"from_hours", from},
                        {"to_hours", i + 1 < bounds.size() ? Json(static_cast<double>(bounds[i + 1]) / kHour) : Json()},
                        {"treatment", by_age[i][0]},
                        {"control", by_age[i][1]}});
  }

  Json daily_json = Json::array();
  for (int i = 0; i < kDashDailyDays; ++i) {
    const auto& d = daily[static_cast<std::size_t>(i)];
    daily_json.push_back({{"day", dash_date(first_day + i)},
                          {"treatment", {{"nudge", d[0][0]}, {"escalate", d[0][1]}}},
                          {"control", {{"nudge", d[1][0]}, {"escalate", d[1][1]}}}});
  }

  std::map<std::string, std::int64_t> cases_by_status = {{"new", 0}, {"open", 0}, {"pending", 0}, {"solved", 0}};
  std::int64_t unassigned = 0;
  CaseQuery q;
  q.limit = http::kMaxPageSize;
  for (;;) {
    auto page = store_.cases(q);
    if (!page) return send_error(res, 503, "store_unavailable", page.message());
    for (const CaseRow& c : *page) {
      ++cases_by_status[std::string(case_status_name(c.status))];
      unassigned += c.status != CaseStatus::kSolved && c.assignee.empty();
    }
    if (page->size() < q.limit) break;
    q.after_id = page->back().id;
  }
  auto depth = store_.outbox_depth();
  if (!depth) return send_error(res, 503, "store_unavailable", depth.message());

  dash_send(res, {{"now", http::instant_json(at)},
                  {"clock", service_.mode() == ClockMode::kWall ? "wall" : "events"},
                  {"campaign", policy.name},
                  {"today", at == kNoInstant ? Json() : Json(dash_date(today))},
                  {"week_start", at == kNoInstant ? Json() : Json(dash_date(week))},
                  {"events_accepted", counters.accepted},
                  {"contracts", counters.contracts},
                  {"open_episodes", counters.open_episodes},
                  {"timer_lag_seconds", counters.timer_lag_seconds()},
                  {"outbox_depth", *depth},
                  {"open_by_age", std::move(age_json)},
                  {"decisions_today",
                   {{"treatment", dash_counts_json(today_counts[0])}, {"control", dash_counts_json(today_counts[1])}}},
                  {"decisions_week",
                   {{"treatment", dash_counts_json(week_counts[0])}, {"control", dash_counts_json(week_counts[1])}}},
                  {"daily", std::move(daily_json)},
                  {"reply_rates",
                   {{"week", {{"treatment", week_replies[0].json()}, {"control", week_replies[1].json()}}},
                    {"all", {{"treatment", all_replies[0].json()}, {"control", all_replies[1].json()}}}}},
                  {"cases", {{"by_status", cases_by_status}, {"unassigned", unassigned}}}});
}

void DashboardApi::at_risk(const httplib::Request& req, httplib::Response& res) {
  const std::string country = dash_upper(http::param(req, "country").value_or(""));
  const std::string team = http::param(req, "team").value_or("");
  EpisodeQuery q;
  q.arm = http::enum_param<Arm>(req, "arm", parse_arm, "treatment, control");
  const auto limit = static_cast<std::size_t>(http::int_param(req, "limit", 100, 1, http::kMaxPageSize));
  // With a risk model the items carry their risk and may be sorted by it;
  // without one the answer is as it always was.
  const bool scored = service_.scores_risk();
  const std::string sort = http::param(req, "sort").value_or("waiting");
  if (sort != "waiting" && sort != "risk") {
    throw http::BadParameter{fmt::format("sort: must be waiting or risk, not \"{}\"", sort)};
  }
  if (sort == "risk" && !scored) throw http::BadParameter{"sort: risk needs a risk model (serve --model)"};
  const Instant at = now();
  const Policy policy = service_.policy();

  auto found = service_.open_episodes(q, std::nullopt, SIZE_MAX);
  if (!found) return send_error(res, 503, "store_unavailable", found.message());
  std::vector<EpisodeRow>& open = *found;
  std::stable_sort(open.begin(), open.end(),
                   [](const EpisodeRow& a, const EpisodeRow& b) { return a.opened_at < b.opened_at; });
  if (sort == "risk") {
    // Riskiest first (an episode opened before the model came in has none:
    // last), the longest waiting first among equals.
    std::stable_sort(open.begin(), open.end(),
                     [](const EpisodeRow& a, const EpisodeRow& b) { return a.risk > b.risk; });
  }
  std::set<std::string> countries, teams;
  for (std::size_t tier = 0; tier <= policy.risk_tiers.size(); ++tier) {
    for (const LadderStep& s : ladder_of_tier(policy, tier)) {
      if (s.action == StepAction::kEscalate) teams.insert(s.target);
    }
  }
  struct Listed {
    const EpisodeRow* row;
    std::string country, tz;
    const std::vector<LadderStep>* ladder;  // its tier's, or the main one
    // The team it escalates to: its ladder's, for an in-segment episode
    // (outside the segment no step fires); "" for none.
    std::string team;
    std::uint32_t decided = 0;  // steps decided so far, whatever their status
  };
  // The freelancers' countries and zones, and the tier of each contract's
  // open episode, read in one go (in front of a bus, from the store).
  std::vector<std::string> freelancers, contracts;
  for (const EpisodeRow& e : open) {
    freelancers.push_back(e.freelancer);
    contracts.push_back(e.contract);
  }
  std::sort(freelancers.begin(), freelancers.end());
  freelancers.erase(std::unique(freelancers.begin(), freelancers.end()), freelancers.end());
  std::unordered_map<std::string, std::pair<std::string, std::string>> places;  // country, tz
  Status read = service_.with_users(freelancers, [&](std::string_view id, const UserSnapshot& u) {
    places.emplace(id, std::pair{std::string(u.country), std::string(u.tz)});
  });
  if (!read) return send_error(res, 503, "store_unavailable", read.message());
  std::unordered_map<std::string, std::pair<std::uint32_t, std::size_t>> open_tiers;  // episode, tier
  read = service_.with_contracts(contracts, [&](std::string_view id, const ContractSnapshot& c) {
    if (c.open) open_tiers.emplace(id, std::pair{c.episodes, c.tier});
  });
  if (!read) return send_error(res, 503, "store_unavailable", read.message());
  std::vector<Listed> listed;
  std::int64_t matching = 0;
  for (const EpisodeRow& e : open) {
    Listed l{&e, "", "", &policy.ladder, ""};
    if (auto p = places.find(e.freelancer); p != places.end()) std::tie(l.country, l.tz) = p->second;
    if (auto t = open_tiers.find(e.contract); t != open_tiers.end() && t->second.first == e.episode) {
      l.ladder = &ladder_of_tier(policy, tier_under(policy, t->second.second));
    }
    if (e.in_segment) l.team = dash_ladder_team(*l.ladder);
    if (!l.country.empty()) countries.insert(l.country);
    if ((!country.empty() && l.country != country) || (!team.empty() && l.team != team)) continue;
    if (++matching <= static_cast<std::int64_t>(limit)) listed.push_back(std::move(l));  // the rest is counted
  }
  // How far along its ladder each listed episode is: the steps decided
  // (sent, held out, suppressed or skipped), from the decisions.
  if (!listed.empty()) {
    std::unordered_map<std::string, Listed*> by_key;
    for (Listed& l : listed) by_key[l.row->contract + '\n' + std::to_string(l.row->episode)] = &l;
    read = store_.export_decisions(DecisionQuery{}, [&](const DecisionRow& d) {
      auto it = by_key.find(d.contract + '\n' + std::to_string(d.episode));
      if (it != by_key.end()) it->second->decided = std::max(it->second->decided, d.step);
    });
    if (!read) return send_error(res, 503, "store_unavailable", read.message());
  }
  Json items = Json::array();
  ZoneOffsets offsets;
  for (const Listed& l : listed) {
    const EpisodeRow& e = *l.row;
    const date::time_zone* zone = dash_zone(l.tz);
    Json next;
    if (e.in_segment && l.decided < l.ladder->size()) {
      const LadderStep& s = (*l.ladder)[l.decided];
      next = {{"step", l.decided + 1},
              {"action", step_action_name(s.action)},
              {"target", s.target},
              {"due_at", format_rfc3339(e.opened_at + s.after)}};
    }
    const bool quiet =
        at != kNoInstant && policy.quiet_hours && policy.quiet_hours->deferral(at, zone, offsets).has_value();
    Json item = {{"contract", e.contract},
                 {"episode", e.episode},
                 {"freelancer", e.freelancer},
                 {"client", e.client},
                 {"arm", arm_name(e.arm)},
                 {"in_segment", e.in_segment},
                 {"country", http::text_or_null(l.country)},
                 {"tz", http::text_or_null(l.tz)},
                 {"local_time", at == kNoInstant ? Json() : Json(dash_local_time(at, zone))},
                 {"in_quiet_hours", quiet},
                 {"opened_at", format_rfc3339(e.opened_at)},
                 {"waiting_hours", at == kNoInstant ? Json() : Json(static_cast<double>(at - e.opened_at) / kHour)},
                 {"steps_decided", l.decided},
                 {"steps_sent", e.steps_sent},
                 {"next_step", std::move(next)},
                 {"team", http::text_or_null(l.team)}};
    if (scored) item["risk"] = e.risk >= 0 ? Json(risk_json_value(e.risk)) : Json();
    items.push_back(std::move(item));
  }
  Json body = {{"now", http::instant_json(at)},
               {"total", matching},
               {"items", std::move(items)},
               {"countries", countries},
               {"teams", teams}};
  if (scored) body["sort"] = sort;
  dash_send(res, body);
}

void DashboardApi::campaign(const httplib::Request&, httplib::Response& res) {
  dash_send(res, campaign_json(service_.policy()));
}

void DashboardApi::experiment(const httplib::Request&, httplib::Response& res) {
  auto result = live_experiment(service_, store_, now());
  if (!result) return send_error(res, 503, "store_unavailable", result.message());
  Json body = Json::parse(report::experiment_json(*result));
  Json verdicts = Json::array();
  for (const report::MetricResult& m : result->metrics) {
    verdicts.push_back({{"metric", m.name}, {"text", report::metric_verdict(m)}});
  }
  body["verdicts"] = std::move(verdicts);
  body["srm_alarm"] = result->srm.p_value && *result->srm.p_value < report::kSrmAlarmP;
  // The Kaplan-Meier curves' steps, for the chart: hours since the trigger, S(t).
  Json curves;
  for (const Arm a : {Arm::kTreatment, Arm::kControl}) {
    Json steps = Json::array();
    for (const report::KmStep& s : result->survival.arm(a).steps) {
      steps.push_back({static_cast<double>(s.time) / kHour, s.survival});
    }
    curves[std::string(arm_name(a))] = std::move(steps);
  }
  body["km_curves"] = std::move(curves);
  dash_send(res, body);
}

void DashboardApi::install(httplib::Server& server, const ReadRoute& read_route, const std::string& web_root) {
  using namespace std::placeholders;
  server.Get("/v1/overview", read_route("overview", std::bind(&DashboardApi::overview, this, _1, _2)));
  server.Get("/v1/at-risk", read_route("at_risk", std::bind(&DashboardApi::at_risk, this, _1, _2)));
  server.Get("/v1/campaign", read_route("campaign", std::bind(&DashboardApi::campaign, this, _1, _2)));
  server.Get("/v1/experiment", read_route("experiment", std::bind(&DashboardApi::experiment, this, _1, _2)));
  if (!web_root.empty()) mount_dashboard_files(server, web_root);
}

bool mount_dashboard_files(httplib::Server& server, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  server.set_mount_point("/", dir);
  server.set_file_request_handler([](const httplib::Request& req, httplib::Response& res) {
    // Scripts, styles and API calls from this origin only; data: for the
    // charts' canvases; never framed. The hashed assets never change.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                   "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control",
                   req.path.rfind("/assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
  });
  return true;
}

}  // namespace gw
