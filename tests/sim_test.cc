// Tests of `ghostwatch simulate` (gw::sim): determinism, that every line is
// either a valid event of the spec or a counted deliberate bad line, and that
// the marketplace shows the behaviour the generator documents. The checks
// read the generated text back, as a consumer would, with an implementation
// of the spec's acceptance rules that is independent of the engine's.
#include "ghostwatch/sim/marketplace.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <date/tz.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "ghostwatch/core/time.h"

namespace gw::sim {
namespace {

MarketplaceOptions small_options(std::uint64_t seed = 7) {
  MarketplaceOptions o;
  o.seed = seed;
  o.freelancers = 800;
  o.clients = 300;
  o.days = 45;
  return o;
}

std::string generate(const MarketplaceOptions& options, MarketplaceStats* stats = nullptr) {
  std::string text;
  const MarketplaceStats s = generate_marketplace(options, [&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  if (stats != nullptr) *stats = s;
  return text;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    EXPECT_NE(nl, std::string_view::npos) << "the output must end with a newline";
    if (nl == std::string_view::npos) break;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// An accepted event: its type, time and string fields.
struct Event {
  std::string type;
  Instant at = 0;
  std::string at_text;
  std::map<std::string, std::string> fields;
  std::string get(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? "" : it->second;
  }
  bool has(const std::string& key) const { return fields.count(key) != 0; }
};

// The acceptance rules of spec section 1, in their order, with the contract
// state they need. Accepted lines update the state; rejected ones do not.
class SpecChecker {
 public:
  // Returns "" and fills `event` when the line is accepted, else the reason.
  std::string check(std::string_view line, Event& event) {
    simdjson::dom::element doc;
    if (parser_.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) return "bad_json";
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return "bad_json";
    std::map<std::string, std::vector<simdjson::dom::element>> fields;
    for (auto field : object) fields[std::string(field.key)].push_back(field.value);

    if (!fields.count("type") || !fields.count("at")) return "missing_field";
    for (const char* core : {"type", "at"}) {
      if (fields[core].size() != 1 || !fields[core][0].is_string()) return "bad_field";
    }
    event = Event{};
    event.type = std::string(std::string_view(fields["type"][0].get_string()));
    event.at_text = std::string(std::string_view(fields["at"][0].get_string()));
    const auto spec = kTypes.find(event.type);
    if (spec == kTypes.end()) return "unknown_type";
    for (const std::string& name : spec->second.required) {
      if (!fields.count(name)) return "missing_field";
    }
    for (const auto* list : {&spec->second.required, &spec->second.optional}) {
      for (const std::string& name : *list) {
        if (!fields.count(name)) continue;
        if (fields[name].size() != 1 || !fields[name][0].is_string()) return "bad_field";
        event.fields[name] = std::string(std::string_view(fields[name][0].get_string()));
      }
    }
    const std::optional<Instant> at = parse_rfc3339(event.at_text);
    if (!at) return "bad_time";
    event.at = *at;
    return apply(event);
  }

 private:
  struct TypeSpec {
    std::vector<std::string> required;
    std::vector<std::string> optional;
  };
  struct ContractState {
    std::string client;
    std::string freelancer;
    bool ended = false;
  };
  inline static const std::map<std::string, TypeSpec> kTypes = {
      {"user", {{"id"}, {"role", "country", "tz", "email", "name", "kind"}}},
      {"contract_started", {{"contract", "client", "freelancer"}, {}}},
      {"contract_ended", {{"contract"}, {"reason"}}},
      {"message", {{"contract", "from"}, {"id"}}},
      {"opt_out", {{"user"}, {}}},
      {"opt_in", {{"user"}, {}}},
  };

  std::string apply(const Event& e) {
    if (e.type == "contract_started") {
      if (contracts_.count(e.get("contract"))) return "duplicate_contract";
      if (e.get("client") == e.get("freelancer")) return "bad_field";
      contracts_[e.get("contract")] = {e.get("client"), e.get("freelancer"), false};
      return "";
    }
    if (e.type != "contract_ended" && e.type != "message") return "";
    auto it = contracts_.find(e.get("contract"));
    if (it == contracts_.end()) return "unknown_contract";
    if (it->second.ended) return "contract_ended";
    if (e.type == "message" && e.get("from") != it->second.client &&
        e.get("from") != it->second.freelancer) {
      return "not_a_party";
    }
    if (e.type == "contract_ended") it->second.ended = true;
    return "";
  }

  simdjson::dom::parser parser_;
  std::unordered_map<std::string, ContractState> contracts_;
};

// Everything the behaviour tests look at, read from the text.
struct Reading {
  std::vector<Event> events;  // accepted, in line order
  std::vector<std::string> accepted_lines;
  std::map<std::string, std::uint64_t> rejects;  // by reason
  std::uint64_t lines = 0;
};

Reading read(const std::string& text) {
  Reading r;
  SpecChecker checker;
  for (std::string_view line : split_lines(text)) {
    ++r.lines;
    Event e;
    const std::string reason = checker.check(line, e);
    if (reason.empty()) {
      r.events.push_back(std::move(e));
      r.accepted_lines.emplace_back(line);
    } else {
      ++r.rejects[reason];
    }
  }
  return r;
}

bool starts_with_digits(std::string_view s, std::string_view prefix, std::size_t min_digits) {
  if (s.substr(0, prefix.size()) != prefix || s.size() < prefix.size() + min_digits) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(prefix.size()), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------

TEST(SimMarketplace, SameSeedGivesSameBytes) {
  const std::string a = generate(small_options(11));
  const std::string b = generate(small_options(11));
  EXPECT_GT(a.size(), 1000u);
  EXPECT_TRUE(a == b);
}

TEST(SimMarketplace, DifferentSeedGivesDifferentBytes) {
  EXPECT_NE(generate(small_options(11)), generate(small_options(12)));
}

TEST(SimMarketplace, WritesTheSameBytesToFiles) {
  MarketplaceOptions o = small_options(3);
  o.days = 10;
  const std::string expected = generate(o);

  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(write_marketplace(o, file).complete);
  std::rewind(file);
  std::string from_file;
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file)) > 0;) from_file.append(buf, n);
  std::fclose(file);
  EXPECT_TRUE(from_file == expected);
}

TEST(SimMarketplace, StopsWhenTheSinkRefuses) {
  MarketplaceOptions o = small_options();
  o.freelancers = 5000;  // several chunks
  int calls = 0;
  const MarketplaceStats stats = generate_marketplace(o, [&calls](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(stats.complete);
}

TEST(SimMarketplace, EveryLineIsAValidEventOrACountedBadLine) {
  MarketplaceOptions o = small_options(21);
  o.bad_line_share = 0.02;  // enough bad lines for every reason to show
  MarketplaceStats stats;
  const Reading r = read(generate(o, &stats));
  EXPECT_EQ(r.lines, stats.lines);
  EXPECT_EQ(r.events.size(), stats.events);
  for (std::size_t i = 1; i < kRejectReasonCount; ++i) {
    const std::string name(reject_reason_name(static_cast<RejectReason>(i)));
    const std::uint64_t seen = r.rejects.count(name) ? r.rejects.at(name) : 0;
    EXPECT_EQ(seen, stats.bad_by_reason[i]) << name;
    EXPECT_GT(seen, 0u) << "no bad line for " << name;
  }
  std::uint64_t rejected = 0;
  for (const auto& [reason, n] : r.rejects) rejected += n;
  EXPECT_EQ(rejected, stats.bad_lines);
}

TEST(SimMarketplace, ValidEventsHaveTheDocumentedShape) {
  const Reading r = read(generate(small_options(22)));
  const std::set<std::string> roles = {"freelancer", "client"};
  const std::set<std::string> kinds = {"individual", "agency", "company"};
  const std::set<std::string> reasons = {"completed", "cancelled", "replaced"};
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const Event& e = r.events[i];
    SCOPED_TRACE(r.accepted_lines[i]);
    if (e.type == "user") {
      const std::string id = e.get("id");
      EXPECT_TRUE(starts_with_digits(id, "fl", 1) || starts_with_digits(id, "cl", 1));
      if (e.has("role")) {
        EXPECT_TRUE(roles.count(e.get("role")));
      }
      if (e.has("kind")) {
        EXPECT_TRUE(kinds.count(e.get("kind")));
      }
      if (e.has("country")) {
        const std::string c = e.get("country");
        EXPECT_TRUE(c.size() == 2 && std::isupper(c[0]) && std::isupper(c[1]));
      }
      if (e.has("email")) {
        EXPECT_EQ(e.get("email").find(id + "@example."), 0u);
      }
    } else if (e.type == "contract_started" || e.type == "contract_ended" || e.type == "message") {
      EXPECT_TRUE(starts_with_digits(e.get("contract"), "c", 6));
      if (e.has("reason")) {
        EXPECT_TRUE(reasons.count(e.get("reason")));
      }
      if (e.has("id")) {
        EXPECT_TRUE(starts_with_digits(e.get("id"), "m", 1));
      }
    } else {
      EXPECT_TRUE(starts_with_digits(e.get("user"), "fl", 1));
    }
  }
}

TEST(SimMarketplace, BadLinesChangeNothingElse) {
  MarketplaceOptions clean = small_options(23);
  clean.bad_line_share = 0;
  MarketplaceOptions dirty = clean;
  dirty.bad_line_share = 0.05;
  MarketplaceStats clean_stats;
  const std::string clean_text = generate(clean, &clean_stats);
  EXPECT_EQ(clean_stats.bad_lines, 0u);
  const Reading r = read(generate(dirty));
  std::string accepted;
  for (const std::string& line : r.accepted_lines) accepted += line + "\n";
  EXPECT_TRUE(accepted == clean_text);
}

TEST(SimMarketplace, BadLinesAreAboutTheRequestedShare) {
  MarketplaceOptions o = small_options(24);
  o.freelancers = 2000;  // about 150k lines, so ~300 bad lines expected
  MarketplaceStats stats;
  generate(o, &stats);
  const double share = static_cast<double>(stats.bad_lines) / static_cast<double>(stats.lines);
  EXPECT_NEAR(share, 0.002, 0.0006) << stats.bad_lines << " of " << stats.lines;
}

TEST(SimMarketplace, FreelancersLiveInManyRealZones) {
  const Reading r = read(generate(small_options(25)));
  std::set<std::string> freelancer_zones, freelancer_countries;
  std::map<std::string, int> client_countries;
  int clients = 0;
  for (const Event& e : r.events) {
    if (e.type != "user") continue;
    if (e.has("tz")) {
      EXPECT_NO_THROW(date::locate_zone(e.get("tz"))) << e.get("tz");
    }
    if (e.get("role") == "freelancer") {
      if (e.has("tz")) freelancer_zones.insert(e.get("tz"));
      if (e.has("country")) freelancer_countries.insert(e.get("country"));
    } else if (e.get("role") == "client") {
      ++clients;
      ++client_countries[e.get("country")];
    }
  }
  EXPECT_GE(freelancer_zones.size(), 25u);
  EXPECT_GE(freelancer_countries.size(), 25u);
  for (const char* zone : {"Asia/Kolkata", "Asia/Manila", "Asia/Karachi", "Europe/Kyiv",
                           "Africa/Lagos", "America/Sao_Paulo", "Asia/Kathmandu", "Asia/Tehran"}) {
    EXPECT_TRUE(freelancer_zones.count(zone)) << zone;
  }
  const int western = client_countries["US"] + client_countries["GB"] + client_countries["CA"] +
                      client_countries["AU"] + client_countries["DE"];
  EXPECT_GT(western, clients * 7 / 10);
}

// Per contract, the spec's episodes in simplified form (ordered input):
// a client message opens one unless one is open; a freelancer message
// closes it. Per freelancer: response times and episodes never answered.
struct Responsiveness {
  std::vector<double> hours;  // response times
  int unanswered = 0;         // episodes closed by the end of the contract
  int episodes() const { return static_cast<int>(hours.size()) + unanswered; }
};

struct ContractLife {
  std::string client, freelancer;
  Instant pending_since = kNoInstant;
};

TEST(SimMarketplace, AllResponsivenessProfilesShowInTheData) {
  MarketplaceOptions o = small_options(26);
  o.days = 60;
  MarketplaceStats stats;
  const Reading r = read(generate(o, &stats));
  for (std::uint64_t n : stats.freelancers_by_profile) EXPECT_GT(n, 0u);

  std::unordered_map<std::string, ContractLife> contracts;
  std::map<std::string, Responsiveness> freelancers;
  for (const Event& e : r.events) {
    if (e.type == "contract_started") {
      contracts[e.get("contract")] = {e.get("client"), e.get("freelancer"), kNoInstant};
    } else if (e.type == "message") {
      ContractLife& c = contracts[e.get("contract")];
      if (e.get("from") == c.client) {
        if (c.pending_since == kNoInstant) c.pending_since = e.at;
      } else if (c.pending_since != kNoInstant) {
        freelancers[c.freelancer].hours.push_back(static_cast<double>(e.at - c.pending_since) /
                                                  static_cast<double>(kHour));
        c.pending_since = kNoInstant;
      }
    } else if (e.type == "contract_ended") {
      ContractLife& c = contracts[e.get("contract")];
      if (c.pending_since != kNoInstant) ++freelancers[c.freelancer].unanswered;
    }
  }
  int fast = 0, slow = 0, ghoster = 0, classified = 0;
  for (const auto& [id, f] : freelancers) {
    if (f.episodes() < 4) continue;
    ++classified;
    const double within_day = static_cast<double>(std::count_if(f.hours.begin(), f.hours.end(),
                                                                [](double h) { return h < 24; })) /
                              f.episodes();
    const double unanswered = static_cast<double>(f.unanswered) / f.episodes();
    if (within_day >= 0.75 && unanswered < 0.1) {
      ++fast;
    } else if (unanswered >= 0.15) {
      ++ghoster;
    } else if (within_day <= 0.5) {
      ++slow;
    }
  }
  ASSERT_GT(classified, 400);
  EXPECT_GT(fast, classified * 40 / 100);
  EXPECT_GT(slow, classified * 12 / 100);
  EXPECT_GT(ghoster, classified * 4 / 100);
}

TEST(SimMarketplace, ContractsEndWithEveryReasonAndGhostedOnesWorse) {
  const Reading r = read(generate(small_options(27)));
  std::unordered_map<std::string, ContractLife> contracts;
  std::map<std::string, int> reasons, ghosted_reasons;
  int ghosted = 0, answered = 0;
  for (const Event& e : r.events) {
    if (e.type == "contract_started") {
      contracts[e.get("contract")] = {e.get("client"), e.get("freelancer"), kNoInstant};
    } else if (e.type == "message") {
      ContractLife& c = contracts[e.get("contract")];
      c.pending_since = e.get("from") == c.client ? std::max(c.pending_since, e.at) : kNoInstant;
    } else if (e.type == "contract_ended") {
      const bool silent = contracts[e.get("contract")].pending_since != kNoInstant;
      const std::string reason = e.has("reason") ? e.get("reason") : "(none)";
      ++(silent ? ghosted_reasons : reasons)[reason];
      ++(silent ? ghosted : answered);
    }
  }
  for (const char* reason : {"completed", "cancelled", "replaced", "(none)"}) {
    EXPECT_GT(reasons[reason] + ghosted_reasons[reason], 0) << reason;
  }
  ASSERT_GT(ghosted, 20);
  ASSERT_GT(answered, 200);
  const double bad_when_ghosted =
      static_cast<double>(ghosted_reasons["cancelled"] + ghosted_reasons["replaced"]) / ghosted;
  const double bad_otherwise =
      static_cast<double>(reasons["cancelled"] + reasons["replaced"]) / answered;
  EXPECT_GT(bad_when_ghosted, 0.6);
  EXPECT_LT(bad_otherwise, 0.3);
}

TEST(SimMarketplace, OptOutsOptInsAndProfileChangesOccur) {
  MarketplaceOptions o = small_options(28);
  o.freelancers = 2000;
  const Reading r = read(generate(o));
  int opt_outs = 0, opt_ins = 0, moves = 0, kind_changes = 0;
  std::set<std::string> opted_out;
  for (const Event& e : r.events) {
    if (e.type == "opt_out") {
      ++opt_outs;
      opted_out.insert(e.get("user"));
    } else if (e.type == "opt_in") {
      ++opt_ins;
      EXPECT_TRUE(opted_out.count(e.get("user"))) << "opt_in without an earlier opt_out";
    } else if (e.type == "user" && !e.has("role")) {  // a later profile edit
      if (e.has("country")) ++moves;
      if (e.has("kind")) ++kind_changes;
    }
  }
  EXPECT_GT(opt_outs, 20);
  EXPECT_GT(opt_ins, 3);
  EXPECT_GT(moves, 5);
  EXPECT_GT(kind_changes, 3);
}

TEST(SimMarketplace, TimestampsAreMostlyOrderedWithMildDisorder) {
  const Reading r = read(generate(small_options(29)));
  Instant newest = kNoInstant;
  std::size_t late = 0, offsets = 0, millis = 0;
  Duration worst = 0;
  for (const Event& e : r.events) {
    if (e.at < newest) {
      ++late;
      worst = std::max(worst, newest - e.at);
    }
    newest = std::max(newest, e.at);
    const char zone = e.at_text[19] == '.'
                          ? e.at_text[e.at_text.find_first_not_of("0123456789", 20)]
                          : e.at_text[19];
    if (zone == '+' || zone == '-') ++offsets;
    if (e.at % 1000 != 0) ++millis;
  }
  const double n = static_cast<double>(r.events.size());
  EXPECT_GT(late / n, 0.003);
  EXPECT_LT(late / n, 0.03);
  EXPECT_LE(worst, 10 * kMinute + kSecond);
  EXPECT_GT(offsets / n, 0.02);
  EXPECT_GT(millis / n, 0.05);
}

TEST(SimMarketplace, ClientsWriteInTheirWorkingHours) {
  const Reading r = read(generate(small_options(30)));
  std::unordered_map<std::string, const date::time_zone*> zones;
  std::unordered_map<std::string, std::string> client_of;
  int total = 0, daytime = 0;
  for (const Event& e : r.events) {
    if (e.type == "user" && e.get("role") == "client" && e.has("tz")) {
      zones[e.get("id")] = date::locate_zone(e.get("tz"));
    } else if (e.type == "message") {
      auto z = zones.find(e.get("from"));
      if (z == zones.end()) continue;
      const date::sys_seconds t{std::chrono::seconds{floor_div(e.at, kSecond)}};
      const auto local = z->second->to_local(t);
      const auto hour = date::make_time(local - date::floor<date::days>(local)).hours().count();
      ++total;
      if (hour >= 7 && hour < 22) ++daytime;
    }
  }
  ASSERT_GT(total, 1000);
  EXPECT_GT(daytime, total * 95 / 100);
}

TEST(SimMarketplace, EventsScaleWithFreelancerDays) {
  MarketplaceOptions o = small_options(31);
  o.freelancers = 1000;
  o.clients = 500;
  o.days = 30;
  MarketplaceStats one, two;
  generate(o, &one);
  o.freelancers = 2000;
  o.clients = 1000;
  generate(o, &two);
  const double per_day = static_cast<double>(one.events) / (1000.0 * 30);
  EXPECT_GT(per_day, kEventsPerFreelancerDay * 0.6);
  EXPECT_LT(per_day, kEventsPerFreelancerDay * 1.3);
  const double ratio = static_cast<double>(two.events) / static_cast<double>(one.events);
  EXPECT_NEAR(ratio, 2.0, 0.2);
}

TEST(SimMarketplace, RefusesBadOptions) {
  MarketplaceOptions o;
  EXPECT_EQ(check_options(o), "");
  o.freelancers = -5;
  EXPECT_NE(check_options(o).find("--freelancers"), std::string::npos);
  EXPECT_THROW(generate(o), std::invalid_argument);
  o = {};
  o.clients = 0;
  EXPECT_NE(check_options(o).find("--clients"), std::string::npos);
  o = {};
  o.days = 0;
  EXPECT_NE(check_options(o).find("--days"), std::string::npos);
  o = {};
  o.bad_line_share = 0.7;
  EXPECT_NE(check_options(o).find("--bad-lines"), std::string::npos);
  o.bad_line_share = std::nan("");
  EXPECT_NE(check_options(o).find("--bad-lines"), std::string::npos);
}

// --- The command ----------------------------------------------------------

int run_command(const std::string& args) {
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " simulate " + args + " 2>/dev/null";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SimCli, BadOptionValuesExitWithStatus2) {
  EXPECT_EQ(run_command("--freelancers=-5 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--clients 0 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--days=-1 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--start yesterday --out /dev/null"), 2);
  EXPECT_EQ(run_command("--bad-lines 0.9 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--freelancers many --out /dev/null"), 2);
  EXPECT_EQ(run_command("--effect reply24h=+0.1 --out /dev/null"), 2);  // needs --policy
  const std::string policy = std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml";
  EXPECT_EQ(run_command("--policy " + policy + " --effect reply24h=1.5 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--policy " + policy + " --effect opens=+0.1 --out /dev/null"), 2);
  EXPECT_EQ(run_command("--policy /nonexistent.toml --out /dev/null"), 2);
  EXPECT_EQ(run_command("--policy " + policy + " --effect none --days 3 --out /dev/null"), 0);
}

TEST(SimCli, WritesWhatTheLibraryGenerates) {
  const std::string path = ::testing::TempDir() + "sim_cli_test.ndjson";
  ASSERT_EQ(run_command("--seed 5 --freelancers 200 --clients 80 --days 20 "
                        "--start 2020-03-01T00:00:00Z --bad-lines 0.01 --out " +
                        path),
            0);
  std::ifstream in(path, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  MarketplaceOptions o;
  o.seed = 5;
  o.freelancers = 200;
  o.clients = 80;
  o.days = 20;
  o.start = *parse_rfc3339("2020-03-01T00:00:00Z");
  o.bad_line_share = 0.01;
  EXPECT_TRUE(written == generate(o));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gw::sim
