#include "ghostwatch/import/message_history.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"

namespace gw::import {
namespace {

struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads a text file line by line, plain or gzip-compressed (zlib reads a
// plain file as it is).
class TextLines {
 public:
  Status open(const std::string& path) {
    path_ = path;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) return Status::error(path + ": cannot open");
    return Status::ok();
  }
  // False at the end; `line` has no line break.
  bool next(std::string& line) {
    line.clear();
    char buffer[1 << 16];
    while (gzgets(file_.get(), buffer, sizeof buffer) != nullptr) {
      line += buffer;
      if (!line.empty() && line.back() == '\n') break;
    }
    if (line.empty()) return false;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    ++number_;
    return true;
  }
  Status error(std::string_view what) const {
    return Status::error(path_ + ":" + std::to_string(number_) + ": " + std::string(what));
  }
  Status read_status() const {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code != Z_OK && code != Z_STREAM_END) return Status::error(path_ + ": cannot read: " + message);
    return Status::ok();
  }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzClose> file_;
  std::uint64_t number_ = 0;
};

// The fields of a line separated by tabs (empty ones too).
std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t end; (end = line.find('\t', start)) != std::string_view::npos; start = end + 1) {
    fields.push_back(line.substr(start, end - start));
  }
  fields.push_back(line.substr(start));
  return fields;
}

// The fields of an edge line: separated by runs of spaces, tabs and commas
// (SNAP and KONECT write spaces or tabs; CSV exports, commas).
std::vector<std::string_view> split_edge_fields(std::string_view line) {
  constexpr std::string_view kSeparators = " \t,";
  std::vector<std::string_view> fields;
  std::size_t start = line.find_first_not_of(kSeparators);
  while (start != std::string_view::npos) {
    const std::size_t end = std::min(line.find_first_of(kSeparators, start), line.size());
    fields.push_back(line.substr(start, end - start));
    start = line.find_first_not_of(kSeparators, end);
  }
  return fields;
}

// A column's name, as a header row has them ("timestamp", "unix_ts"):
// a letter, then letters, digits and underscores.
bool is_column_name(std::string_view text) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  return !text.empty() && letter(text[0]) &&
         std::ranges::all_of(text, [&letter](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_'; });
}

bool parse_int(std::string_view text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Seconds, whole or with a decimal fraction ("1082040961.25"), not
// negative and at most kMaxSeconds, as a duration: the fraction's digits
// past milliseconds are dropped, as replay drops them from timestamps.
constexpr std::int64_t kMaxSeconds = 1'000'000'000'000;  // some 31 700 years
bool parse_seconds(std::string_view text, Duration& out) {
  const std::size_t dot = text.find('.');
  std::int64_t whole = 0;
  if (text.starts_with('-') || !parse_int(text.substr(0, dot), whole) || whole > kMaxSeconds) return false;
  out = whole * kSecond;
  if (dot == std::string_view::npos) return true;
  const std::string_view fraction = text.substr(dot + 1);
  if (fraction.empty()) return false;
  Duration scale = kSecond;
  for (const char c : fraction) {
    if (c < '0' || c > '9') return false;
    scale /= 10;
    out += (c - '0') * scale;
  }
  return true;
}

std::string event_head(std::string_view type, Instant at) {
  std::string s = "{\"type\":\"";
  s += type;
  s += "\",\"at\":\"";
  append_rfc3339(s, at);
  s += '"';
  return s;
}

void append_field(std::string& s, std::string_view key, std::string_view value) {
  s += ",\"";
  s += key;
  s += "\":";
  append_json_string(s, value);
}

}  // namespace

Result<std::vector<DirectedMessage>> read_snap_edges(const std::string& path, Instant origin) {
  const Instant kYear10000 = days_from_civil(10000, 1, 1) * kDay;
  TextLines in;
  if (Status s = in.open(path); !s) return s;
  std::vector<DirectedMessage> messages;
  std::string line;
  bool first = true;
  // A KONECT file (its "%" header before the first edge) may give each edge
  // a weight before its time: "SRC DST WEIGHT T".
  bool konect = false;
  while (in.next(line)) {
    const std::vector<std::string_view> f = split_edge_fields(line);
    if (f.empty()) continue;
    // Comments: SNAP's "#" headers, KONECT's "%" ones.
    if (f[0].starts_with('#') || f[0].starts_with('%')) {
      konect = konect || (first && f[0].starts_with('%'));
      continue;
    }
    // A header row ("source,target,timestamp", "src dst time") before the first edge.
    const bool header = first && f.size() == 3 && is_column_name(f[2]);
    first = false;
    if (header) continue;
    const std::size_t columns = konect ? 4 : 3;
    // T: seconds after the origin, or an RFC 3339 time of its own.
    Duration t = 0;
    std::optional<Instant> at;
    if (f.size() == 3 || f.size() == columns) {
      if (parse_seconds(f.back(), t)) {
        at = origin + t;
      } else {
        at = parse_rfc3339(f.back());
      }
    }
    if (!at) {
      return in.error(
          "expected \"SRC DST T\" with T seconds or an RFC 3339 time" +
          std::string(konect ? " (or \"SRC DST WEIGHT T\")" : "") + ", got \"" + line + "\"" +
          (f.size() == 4 && !konect ? " (a KONECT edge \"SRC DST WEIGHT T\"? keep its columns 1, 2 and 4)" : ""));
    }
    if (*at >= kYear10000) {
      return in.error("T " + std::string(f.back()) + " is past the year 9999 (after --origin), where RFC 3339 ends");
    }
    messages.push_back(DirectedMessage{std::string(f[0]), std::string(f[1]), *at});
  }
  if (Status s = in.read_status(); !s) return s;
  return messages;
}

Result<std::vector<DirectedMessage>> read_enron_tables(const std::string& dir) {
  struct Sent {
    std::string sender;
    Instant at;
  };
  std::unordered_map<std::string, Sent> sent;
  std::vector<std::string> order;
  TextLines in;
  if (Status s = in.open(dir + "/messages.tsv"); !s) return s;
  std::string line;
  while (in.next(line)) {
    const std::vector<std::string_view> f = split_tabs(line);
    std::int64_t t = 0;
    // The subject may hold tabs: the sender is the last field.
    if (f.size() < 5 || !parse_int(f[2], t)) {
      return in.error("expected mid, file, unix time, subject and sender separated by tabs");
    }
    if (!sent.emplace(std::string(f[0]), Sent{std::string(f.back()), t * kSecond}).second) {
      return in.error("message id " + std::string(f[0]) + " appears twice");
    }
  }
  if (Status s = in.read_status(); !s) return s;

  std::vector<DirectedMessage> messages;
  std::set<std::pair<std::string, std::string>> seen;  // (mid, receiver): a receiver listed twice counts once
  TextLines rin;
  if (Status s = rin.open(dir + "/recipients.tsv"); !s) return s;
  while (rin.next(line)) {
    const std::vector<std::string_view> f = split_tabs(line);
    if (f.size() != 3) return rin.error("expected mid, recipient number and receiver separated by tabs");
    auto it = sent.find(std::string(f[0]));
    if (it == sent.end()) return rin.error("message id " + std::string(f[0]) + " is not in messages.tsv");
    if (!seen.emplace(std::string(f[0]), std::string(f[2])).second) continue;
    messages.push_back(DirectedMessage{it->second.sender, std::string(f[2]), it->second.at});
  }
  if (Status s = rin.read_status(); !s) return s;
  return messages;
}

ImportStats write_contract_events(std::vector<DirectedMessage> messages,
                                  const std::function<void(std::string_view)>& out) {
  std::stable_sort(messages.begin(), messages.end(),
                   [](const DirectedMessage& a, const DirectedMessage& b) { return a.at < b.at; });
  ImportStats stats;
  std::unordered_set<std::string> users;
  // The pair (lower id, higher id) -> the contract's id.
  std::map<std::pair<std::string, std::string>, std::string> contracts;
  std::unordered_set<std::string> contract_ids;
  std::string line;
  for (const DirectedMessage& m : messages) {
    if (m.from == m.to) {
      ++stats.self_messages;
      continue;
    }
    line.clear();
    for (const std::string* u : {&m.from, &m.to}) {
      if (!users.insert(*u).second) continue;
      ++stats.users;
      line += event_head("user", m.at);
      append_field(line, "id", *u);
      line += "}\n";
    }
    auto key = m.from < m.to ? std::pair{m.from, m.to} : std::pair{m.to, m.from};
    auto [it, added] = contracts.try_emplace(std::move(key));
    if (added) {
      ++stats.contracts;
      // "client-freelancer"; ids with a '-' could make two pairs' ids
      // equal ("a-b" and "c", "a" and "b-c"): the later pair's gets "~2"
      // (or the first free "~N") appended.
      std::string id = m.from + "-" + m.to;
      for (int n = 2; contract_ids.contains(id); ++n) id = m.from + "-" + m.to + "~" + std::to_string(n);
      contract_ids.insert(id);
      it->second = std::move(id);
      line += event_head("contract_started", m.at);
      append_field(line, "contract", it->second);
      append_field(line, "client", m.from);
      append_field(line, "freelancer", m.to);
      line += "}\n";
    }
    line += event_head("message", m.at);
    append_field(line, "contract", it->second);
    append_field(line, "from", m.from);
    line += "}\n";
    ++stats.messages;
    out(line);
  }
  return stats;
}

}  // namespace gw::import
