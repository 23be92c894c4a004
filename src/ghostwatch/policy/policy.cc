#include "ghostwatch/policy/policy.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "ghostwatch/core/ascii.h"

namespace gw {
namespace {

// Collects the first rule a config breaks, phrased "<source>: <key>: <rule>".
class Checker {
 public:
  explicit Checker(std::string_view source) : source_(source) {}
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string_view key, std::string_view rule) {
    if (!failed()) error_ = fmt::format("{}: {}: {}", source_, key, rule);
  }

 private:
  std::string source_;
  std::string error_;
};

std::optional<std::string> get_string(const toml::table& t, std::string_view name, std::string_view key,
                                      Checker& check) {
  const toml::node* n = t.get(name);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string()) {
    check.fail(key, "must be a string");
    return std::nullopt;
  }
  return std::string(n->as_string()->get());
}

std::optional<Duration> get_duration(const toml::table& t, std::string_view name, std::string_view key,
                                     Checker& check) {
  auto s = get_string(t, name, key, check);
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) check.fail(key, fmt::format("must be a duration like \"24h\" or \"1d12h\" (units s, m, h, d), not \"{}\"", *s));
  return d;
}

std::optional<Instant> get_instant(const toml::table& t, std::string_view name, std::string_view key,
                                   Checker& check) {
  auto s = get_string(t, name, key, check);
  if (!s) return std::nullopt;
  auto i = parse_rfc3339(*s);
  if (!i) check.fail(key, fmt::format("must be an RFC 3339 timestamp like \"2019-08-01T00:00:00Z\", not \"{}\"", *s));
  return i;
}

std::vector<std::string> get_string_list(const toml::table& t, std::string_view name, std::string_view key,
                                         Checker& check) {
  std::vector<std::string> out;
  const toml::node* n = t.get(name);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    check.fail(key, "must be an array of strings");
    return out;
  }
  for (const toml::node& e : *a) {
    if (!e.is_string()) {
      check.fail(key, "must be an array of strings");
      return out;
    }
    out.emplace_back(e.as_string()->get());
  }
  return out;
}

const toml::table* get_table(const toml::table& root, std::string_view name, Checker& check) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) check.fail(name, "must be a table");
  return n->as_table();
}

void note_unknown_keys(const toml::table& t, std::string_view prefix, std::set<std::string_view> known,
                       std::vector<std::string>& unknown) {
  for (const auto& [k, v] : t) {
    if (!known.count(k.str())) unknown.push_back(prefix.empty() ? std::string(k.str()) : fmt::format("{}.{}", prefix, k.str()));
  }
}

void read_campaign(const toml::table& c, Policy& p, Checker& check) {
  note_unknown_keys(c, "campaign", {"name", "start", "end", "holdout_percent", "salt", "allowed_lateness", "catch_up"},
                    p.unknown_keys);
  if (auto v = get_string(c, "name", "campaign.name", check)) p.name = *v;
  if (auto v = get_instant(c, "start", "campaign.start", check)) p.start = *v;
  if (auto v = get_instant(c, "end", "campaign.end", check)) p.end = *v;
  if (c.contains("start") && c.contains("end") && !check.failed() && p.end <= p.start) {
    check.fail("campaign.end", "must be after campaign.start");
  }
  if (const toml::node* n = c.get("holdout_percent")) {
    std::optional<double> v = n->value<double>();
    if (!v || !(n->is_integer() || n->is_floating_point())) {
      check.fail("campaign.holdout_percent", "must be a number from 0 to 100");
    } else if (!(*v >= 0 && *v <= 100)) {
      check.fail("campaign.holdout_percent", fmt::format("must be a number from 0 to 100, not {}", *v));
    } else {
      p.holdout_percent = *v;
    }
  }
  if (auto v = get_string(c, "salt", "campaign.salt", check)) p.salt = *v;
  if (auto v = get_duration(c, "allowed_lateness", "campaign.allowed_lateness", check)) p.allowed_lateness = *v;
  if (auto v = get_duration(c, "catch_up", "campaign.catch_up", check)) p.catch_up = *v;
}

void read_segment(const toml::table& s, Policy& p, Checker& check) {
  note_unknown_keys(s, "segment", {"countries_include", "countries_exclude", "kinds", "min_risk"}, p.unknown_keys);
  for (auto& c : get_string_list(s, "countries_include", "segment.countries_include", check)) {
    p.segment.countries_include.push_back(to_upper_ascii(c));
  }
  for (auto& c : get_string_list(s, "countries_exclude", "segment.countries_exclude", check)) {
    p.segment.countries_exclude.push_back(to_upper_ascii(c));
  }
  p.segment.kinds = get_string_list(s, "kinds", "segment.kinds", check);
  if (const toml::node* n = s.get("min_risk")) {
    std::optional<double> v = n->value<double>();
    if (!v || !(n->is_integer() || n->is_floating_point()) || !(*v >= 0 && *v <= 1)) {
      check.fail("segment.min_risk", "must be a number from 0 to 1 (a probability)");
    } else {
      p.segment.min_risk = *v;
    }
  }
}

void read_limits(const toml::table& l, Policy& p, Checker& check) {
  note_unknown_keys(l, "limits", {"max_nudges_per_day", "quiet_hours"}, p.unknown_keys);
  if (const toml::node* n = l.get("max_nudges_per_day")) {
    if (!n->is_integer() || n->as_integer()->get() < 0) {
      check.fail("limits.max_nudges_per_day", "must be a whole number, 0 or more (0: no cap)");
    } else {
      p.max_nudges_per_day = n->as_integer()->get();
    }
  }
  if (auto v = get_string(l, "quiet_hours", "limits.quiet_hours", check); v && !v->empty()) {
    p.quiet_hours = QuietHours::parse(*v);
    if (!p.quiet_hours) {
      check.fail("limits.quiet_hours",
                 fmt::format("must be \"HH:MM-HH:MM\" with different start and end, or \"\", not \"{}\"", *v));
    }
  }
}

// Reads the ladder under `table`'s key "ladder" into `out`; `prefix` names
// the table in messages ("" for the main ladder, "risk_tiers[1]." for a tier's).
void read_ladder(const toml::table& table, const std::string& prefix, std::vector<LadderStep>& out,
                 std::vector<std::string>& unknown_keys, Checker& check) {
  const std::string name = prefix + "ladder";
  const toml::node* n = table.get("ladder");
  if (n == nullptr) {
    check.fail(name, fmt::format("at least one [[{}]] step is required", name));
    return;
  }
  const toml::array* steps = n->as_array();
  if (steps != nullptr && steps->empty()) {
    check.fail(name, fmt::format("at least one [[{}]] step is required", name));
    return;
  }
  if (steps == nullptr || !steps->is_array_of_tables()) {
    check.fail(name, fmt::format("must be an array of tables ([[{}]])", name));
    return;
  }
  if (steps->size() > kMaxLadderSteps) {
    check.fail(name, fmt::format("at most {} steps", kMaxLadderSteps));
    return;
  }
  for (size_t i = 0; i < steps->size(); ++i) {
    const toml::table& t = *steps->get(i)->as_table();
    std::string key = fmt::format("{}[{}]", name, i + 1);
    note_unknown_keys(t, key, {"after", "action", "template", "team"}, unknown_keys);
    LadderStep step;
    auto after = get_duration(t, "after", key + ".after", check);
    if (!after && !check.failed()) check.fail(key + ".after", "is required");
    if (after) step.after = *after;
    if (i > 0 && after && step.after <= out.back().after) {
      check.fail(key + ".after",
                 fmt::format("must be longer than {}[{}].after: steps must be strictly increasing", name, i));
    }
    auto action = get_string(t, "action", key + ".action", check);
    if (!action && !check.failed()) check.fail(key + ".action", "is required (\"nudge\" or \"escalate\")");
    if (action && *action == "nudge") {
      step.action = StepAction::kNudge;
      auto tpl = get_string(t, "template", key + ".template", check);
      if (!tpl || tpl->empty()) check.fail(key + ".template", "is required for a nudge");
      if (tpl) step.target = *tpl;
    } else if (action && *action == "escalate") {
      step.action = StepAction::kEscalate;
      auto team = get_string(t, "team", key + ".team", check);
      if (!team || team->empty()) check.fail(key + ".team", "is required for an escalation");
      if (team) step.target = *team;
    } else if (action) {
      check.fail(key + ".action", fmt::format("must be \"nudge\" or \"escalate\", not \"{}\"", *action));
    }
    out.push_back(std::move(step));
  }
}

void read_risk_tiers(const toml::table& root, Policy& p, Checker& check) {
  const toml::node* n = root.get("risk_tiers");
  if (n == nullptr) return;
  const toml::array* tiers = n->as_array();
  if (tiers == nullptr || !tiers->is_array_of_tables()) {
    check.fail("risk_tiers", "must be an array of tables ([[risk_tiers]])");
    return;
  }
  if (tiers->size() > kMaxRiskTiers) {
    check.fail("risk_tiers", fmt::format("at most {} tiers", kMaxRiskTiers));
    return;
  }
  for (std::size_t i = 0; i < tiers->size() && !check.failed(); ++i) {
    const toml::table& t = *tiers->get(i)->as_table();
    const std::string key = fmt::format("risk_tiers[{}]", i + 1);
    note_unknown_keys(t, key, {"min_risk", "ladder"}, p.unknown_keys);
    RiskTier tier;
    const toml::node* m = t.get("min_risk");
    std::optional<double> v = m != nullptr ? m->value<double>() : std::nullopt;
    if (!v || !(m->is_integer() || m->is_floating_point()) || !(*v > 0 && *v <= 1)) {
      check.fail(key + ".min_risk", "is required: a number above 0 and at most 1 (a probability)");
      return;
    }
    tier.min_risk = *v;
    if (!p.risk_tiers.empty() && tier.min_risk <= p.risk_tiers.back().min_risk) {
      check.fail(key + ".min_risk",
                 fmt::format("must be above risk_tiers[{}].min_risk: tiers go from less to more risk", i));
      return;
    }
    read_ladder(t, key + ".", tier.ladder, p.unknown_keys, check);
    p.risk_tiers.push_back(std::move(tier));
  }
}

}  // namespace

std::string escalation_team(const Policy& policy) {
  for (const LadderStep& step : policy.ladder) {
    if (step.action == StepAction::kEscalate) return step.target;
  }
  return std::string(kDefaultTeam);
}

Result<Policy> parse_policy(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::error(fmt::format("{}:{}:{}: not valid TOML: {}", source, where.line, where.column, e.description()));
  }
  Policy p;
  Checker check(source);
  note_unknown_keys(root, "", {"campaign", "segment", "limits", "ladder", "risk_tiers"}, p.unknown_keys);
  if (const toml::table* c = get_table(root, "campaign", check)) read_campaign(*c, p, check);
  if (const toml::table* s = get_table(root, "segment", check)) read_segment(*s, p, check);
  if (const toml::table* l = get_table(root, "limits", check)) read_limits(*l, p, check);
  if (!check.failed()) read_ladder(root, "", p.ladder, p.unknown_keys, check);
  if (!check.failed()) read_risk_tiers(root, p, check);
  if (check.failed()) return Status::error(check.error());
  return p;
}

Result<Policy> load_policy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot read the config file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), path);
}

Status require_risk_model(const Policy& policy, std::string_view source, bool has_model) {
  if (has_model || !policy_uses_risk(policy)) return Status::ok();
  return Status::error(fmt::format("{}: {}: needs a risk model (--model)", source,
                                   policy.segment.min_risk ? "segment.min_risk" : "risk_tiers"));
}

bool Segment::admits(std::string_view country, std::string_view kind) const {
  const auto listed = [](const std::vector<std::string>& list, std::string_view v) {
    return !v.empty() && std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!countries_include.empty() && !listed(countries_include, country)) return false;
  if (listed(countries_exclude, country)) return false;
  return kinds.empty() || listed(kinds, kind);
}

}  // namespace gw
