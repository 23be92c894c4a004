#include "ghostwatch/report/report_input.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <filesystem>
#include <functional>
#include <string_view>

#include "ghostwatch/core/interner.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/ingest/line_reader.h"

namespace gw::report {
namespace {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

// Calls `on_line` with each line's top-level object; an error it returns, or
// a line that is not one JSON object, is reported as "path:line: message".
Status report_for_each_object(const std::string& path, const std::function<Status(object&)>& on_line) {
  LineReader reader;
  if (path == "-") return Status::error("- (standard input) is not accepted here: name a file");
  if (Status opened = reader.open(path); !opened) return opened;
  simdjson::ondemand::parser parser;
  std::string_view line;
  std::size_t capacity = 0;
  while (reader.next(line, capacity)) {
    const auto where = [&] { return fmt::format("{}:{}", path, reader.line_number()); };
    simdjson::ondemand::document doc;
    object obj;
    if (parser.iterate(line.data(), line.size(), capacity).get(doc) || doc.get_object().get(obj)) {
      return Status::error(where() + ": not a JSON object");
    }
    if (Status s = on_line(obj); !s) return Status::error(where() + ": " + s.message());
    const char* trailing;
    if (!doc.current_location().get(trailing)) return Status::error(where() + ": text after the JSON object");
  }
  if (!reader.status()) return reader.status();
  return Status::ok();
}

// The key-by-key checks of one line: each known key once, with its type.
class ReportFields {
 public:
  // True when `key` is the `index`-th known key; a second occurrence is an error.
  bool is(std::string_view key, std::string_view name, int index) {
    if (key != name) return false;
    if (seen_ & (1u << index)) duplicate_ = name;
    seen_ |= 1u << index;
    return true;
  }
  Status check(std::initializer_list<std::pair<int, std::string_view>> required) const {
    if (!duplicate_.empty()) return Status::error(fmt::format("duplicate key \"{}\"", duplicate_));
    for (const auto& [index, name] : required) {
      if (!(seen_ & (1u << index))) return Status::error(fmt::format("missing key \"{}\"", name));
    }
    return Status::ok();
  }

 private:
  std::uint32_t seen_ = 0;
  std::string_view duplicate_;
};

Status report_string(value v, std::string_view key, std::string_view& out) {
  if (v.get_string().get(out)) return Status::error(fmt::format("\"{}\" must be a string", key));
  return Status::ok();
}

// A timestamp, or kNoInstant for null when `nullable`.
Status report_time(value v, std::string_view key, bool nullable, Instant& out) {
  bool is_null = false;
  if (nullable && !v.is_null().get(is_null) && is_null) {
    out = kNoInstant;
    return Status::ok();
  }
  std::string_view text;
  std::optional<Instant> t;
  if (v.get_string().get(text) || !(t = parse_rfc3339(text))) {
    return Status::error(fmt::format("\"{}\" must be an RFC 3339 timestamp{}", key, nullable ? " or null" : ""));
  }
  out = *t;
  return Status::ok();
}

Status report_episode_number(value v, std::int64_t& out) {
  if (v.get_int64().get(out) || out < 1) return Status::error("\"episode\" must be an integer of at least 1");
  return Status::ok();
}

Status report_arm(value v, Arm& out) {
  std::string_view text;
  if (v.get_string().get(text) || (text != "treatment" && text != "control")) {
    return Status::error("\"arm\" must be \"treatment\" or \"control\"");
  }
  out = text == "control" ? Arm::kControl : Arm::kTreatment;
  return Status::ok();
}

void report_note_time(Instant t, Instant& max_time) {
  if (t != kNoInstant && t > max_time) max_time = t;
}

Status report_parse_episode(object& obj, ReportEpisode& e) {
  ReportFields fields;
  std::string_view text;
  bool has_reason = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.error() || field.unescaped_key().get(key)) return Status::error("not valid JSON");
    value v = field.value();
    Status s = Status::ok();
    if (fields.is(key, "contract", 0)) {
      if ((s = report_string(v, key, text))) e.contract = text;
    } else if (fields.is(key, "episode", 1)) {
      s = report_episode_number(v, e.episode);
    } else if (fields.is(key, "freelancer", 2)) {
      if ((s = report_string(v, key, text))) e.freelancer = text;
    } else if (fields.is(key, "arm", 3)) {
      s = report_arm(v, e.arm);
    } else if (fields.is(key, "in_segment", 4)) {
      if (v.get_bool().get(e.in_segment)) s = Status::error("\"in_segment\" must be true or false");
    } else if (fields.is(key, "opened_at", 5)) {
      s = report_time(v, key, false, e.opened_at);
    } else if (fields.is(key, "closed_at", 6)) {
      s = report_time(v, key, true, e.closed_at);
    } else if (fields.is(key, "outcome", 7)) {
      if (v.get_string().get(text) || (text != "replied" && text != "contract_ended" && text != "open")) {
        s = Status::error("\"outcome\" must be \"replied\", \"contract_ended\" or \"open\"");
      } else {
        e.outcome = text == "replied" ? Outcome::kReplied : text == "open" ? Outcome::kOpen : Outcome::kContractEnded;
      }
    } else if (fields.is(key, "reason", 8)) {
      has_reason = true;
      bool is_null = false;
      if (!v.is_null().get(is_null) && is_null) continue;
      if ((s = report_string(v, key, text))) e.reason = text;
    } else if (!is_valid_json_value(v)) {
      s = Status::error(fmt::format("the value of \"{}\" is not valid JSON", key));
    }
    if (!s) return s;
  }
  if (Status s = fields.check({{0, "contract"},
                               {1, "episode"},
                               {2, "freelancer"},
                               {3, "arm"},
                               {4, "in_segment"},
                               {5, "opened_at"},
                               {6, "closed_at"},
                               {7, "outcome"}});
      !s) {
    return s;
  }
  if ((e.outcome == Outcome::kOpen) != (e.closed_at == kNoInstant)) {
    return Status::error("\"closed_at\" must be null exactly when \"outcome\" is \"open\"");
  }
  if (has_reason != (e.outcome == Outcome::kContractEnded)) {
    return Status::error("\"reason\" must be present exactly when \"outcome\" is \"contract_ended\"");
  }
  return Status::ok();
}

struct ReportDecision {
  Instant at = 0;
  std::string_view contract;
  std::int64_t episode = 0;
  bool escalate = false;
  bool sent = false;
};

Status report_parse_decision(object& obj, ReportDecision& d) {
  ReportFields fields;
  std::string_view text;
  for (auto field : obj) {
    std::string_view key;
    if (field.error() || field.unescaped_key().get(key)) return Status::error("not valid JSON");
    value v = field.value();
    Status s = Status::ok();
    if (fields.is(key, "at", 0)) {
      s = report_time(v, key, false, d.at);
    } else if (fields.is(key, "contract", 1)) {
      s = report_string(v, key, d.contract);
    } else if (fields.is(key, "episode", 2)) {
      s = report_episode_number(v, d.episode);
    } else if (fields.is(key, "action", 3)) {
      if (v.get_string().get(text) || (text != "nudge" && text != "escalate")) {
        s = Status::error("\"action\" must be \"nudge\" or \"escalate\"");
      }
      d.escalate = text == "escalate";
    } else if (fields.is(key, "status", 4)) {
      if (v.get_string().get(text) ||
          (text != "sent" && text != "held_out" && text != "suppressed" && text != "skipped")) {
        s = Status::error("\"status\" must be \"sent\", \"held_out\", \"suppressed\" or \"skipped\"");
      }
      d.sent = text == "sent";
    } else if (!is_valid_json_value(v)) {
      s = Status::error(fmt::format("the value of \"{}\" is not valid JSON", key));
    }
    if (!s) return s;
  }
  return fields.check({{0, "at"}, {1, "contract"}, {2, "episode"}, {3, "action"}, {4, "status"}});
}

}  // namespace

// The loaded episodes by (contract, episode): open addressing (linear
// probing, at most half full) over their indexes, with the pair's hash beside
// each so that a probe rarely touches an episode. No allocation per episode:
// a report over ten million episodes spent most of its time in a map of
// string keys.
class ReportEpisodeIndex {
 public:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  explicit ReportEpisodeIndex(const std::vector<ReportEpisode>& episodes) : episodes_(episodes), slots_(1024) {}

  // Adds episodes[i]; false when an episode with its contract and number is there already.
  bool insert(std::size_t i) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    const ReportEpisode& e = episodes_[i];
    const std::uint64_t h = hash(e.contract, e.episode);
    std::size_t s = h & (slots_.size() - 1);
    for (; slots_[s].index != 0; s = (s + 1) & (slots_.size() - 1)) {
      if (matches(slots_[s], h, e.contract, e.episode)) return false;
    }
    slots_[s] = {h, i + 1};
    ++count_;
    return true;
  }

  std::size_t find(std::string_view contract, std::int64_t episode) const {
    const std::uint64_t h = hash(contract, episode);
    for (std::size_t s = h & (slots_.size() - 1); slots_[s].index != 0; s = (s + 1) & (slots_.size() - 1)) {
      if (matches(slots_[s], h, contract, episode)) return slots_[s].index - 1;
    }
    return kNone;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::size_t index = 0;  // into episodes, plus one; 0: empty
  };

  static std::uint64_t hash(std::string_view contract, std::int64_t episode) {
    return Interner::hash_of(contract) ^ (static_cast<std::uint64_t>(episode) * 0x9e3779b97f4a7c15ULL);
  }
  bool matches(const Slot& slot, std::uint64_t h, std::string_view contract, std::int64_t episode) const {
    if (slot.hash != h) return false;
    const ReportEpisode& e = episodes_[slot.index - 1];
    return e.episode == episode && e.contract == contract;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.index == 0) continue;
      std::size_t s = slot.hash & (slots_.size() - 1);
      while (slots_[s].index != 0) s = (s + 1) & (slots_.size() - 1);
      slots_[s] = slot;
    }
  }

  const std::vector<ReportEpisode>& episodes_;
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

ReportInputBuilder::ReportInputBuilder(std::size_t expected_episodes) {
  input_.episodes.reserve(expected_episodes);
  index_ = std::make_unique<ReportEpisodeIndex>(input_.episodes);
}

ReportInputBuilder::~ReportInputBuilder() = default;

Status ReportInputBuilder::add_episode(ReportEpisode e) {
  input_.episodes.push_back(std::move(e));
  const ReportEpisode& added = input_.episodes.back();
  if (!index_->insert(input_.episodes.size() - 1)) {
    Status dup =
        Status::error(fmt::format("episode {} of contract \"{}\" appears twice", added.episode, added.contract));
    input_.episodes.pop_back();
    return dup;
  }
  report_note_time(added.opened_at, input_.max_time);
  report_note_time(added.closed_at, input_.max_time);
  return Status::ok();
}

Status ReportInputBuilder::add_decision(std::string_view contract, std::int64_t episode, Instant at, bool escalate,
                                        bool sent) {
  const std::size_t found = index_->find(contract, episode);
  if (found == ReportEpisodeIndex::kNone) {
    return Status::error(
        fmt::format("a decision for episode {} of contract \"{}\", which has no episode", episode, contract));
  }
  ReportEpisode& e = input_.episodes[found];
  ++e.decisions;
  if (e.trigger == kNoInstant || at < e.trigger) e.trigger = at;
  if (sent) ++(escalate ? e.escalations_sent : e.nudges_sent);
  report_note_time(at, input_.max_time);
  return Status::ok();
}

Result<ReportInput> load_report_input(const std::string& episodes_path, const std::string& actions_path) {
  // Room for every episode at once: moving ten million of them as the vector
  // doubles costs seconds and half as much memory again. The engine's episode
  // lines are at least ~195 bytes, so this rarely falls short.
  std::error_code size_error;
  const std::uintmax_t bytes = std::filesystem::file_size(episodes_path, size_error);
  ReportInputBuilder builder(size_error ? 0 : static_cast<std::size_t>(bytes / 200));
  Status read = report_for_each_object(episodes_path, [&](object& obj) {
    ReportEpisode e;
    if (Status s = report_parse_episode(obj, e); !s) return s;
    return builder.add_episode(std::move(e));
  });
  if (!read) return read;
  read = report_for_each_object(actions_path, [&](object& obj) {
    ReportDecision d;
    if (Status s = report_parse_decision(obj, d); !s) return s;
    if (!builder.add_decision(d.contract, d.episode, d.at, d.escalate, d.sent)) {
      return Status::error(fmt::format("a decision for episode {} of contract \"{}\", which {} does not hold",
                                       d.episode, d.contract, episodes_path));
    }
    return Status::ok();
  });
  if (!read) return read;
  return builder.take();
}

}  // namespace gw::report
