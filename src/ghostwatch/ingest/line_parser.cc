#include "ghostwatch/ingest/line_parser.h"

#include <array>
#include <cstring>

#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"

namespace gw {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::value;

// The top-level keys the rules look at: every listed field, plus type/at.
enum class Key : std::uint8_t { kField, kType, kAt, kOther };

struct KeyInfo {
  Key key;
  Field field;
};

// `k` == `name`, for a `k` already known to be as long as `name`: a compare
// of a constant length, which compiles to a few loads instead of a call (it
// runs for every key of every line).
template <std::size_t N>
bool key_is(std::string_view k, const char (&name)[N]) {
  return std::memcmp(k.data(), name, N - 1) == 0;
}

KeyInfo classify(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (key_is(k, "id")) return {Key::kField, Field::kId};
      if (key_is(k, "tz")) return {Key::kField, Field::kTz};
      if (key_is(k, "at")) return {Key::kAt, Field::kCount};
      break;
    case 4:
      if (key_is(k, "role")) return {Key::kField, Field::kRole};
      if (key_is(k, "name")) return {Key::kField, Field::kName};
      if (key_is(k, "kind")) return {Key::kField, Field::kKind};
      if (key_is(k, "from")) return {Key::kField, Field::kFrom};
      if (key_is(k, "user")) return {Key::kField, Field::kUser};
      if (key_is(k, "type")) return {Key::kType, Field::kCount};
      break;
    case 5:
      if (key_is(k, "email")) return {Key::kField, Field::kEmail};
      break;
    case 6:
      if (key_is(k, "client")) return {Key::kField, Field::kClient};
      if (key_is(k, "reason")) return {Key::kField, Field::kReason};
      break;
    case 7:
      if (key_is(k, "country")) return {Key::kField, Field::kCountry};
      break;
    case 8:
      if (key_is(k, "contract")) return {Key::kField, Field::kContract};
      break;
    case 10:
      if (key_is(k, "freelancer")) return {Key::kField, Field::kFreelancer};
      break;
  }
  return {Key::kOther, Field::kCount};
}

constexpr std::uint32_t bit(Field f) { return 1u << static_cast<unsigned>(f); }

struct TypeRule {
  std::string_view name;
  EventType type;
  std::uint32_t required;
  std::uint32_t listed;  // required | optional
};

constexpr std::uint32_t kUserFields = bit(Field::kId) | bit(Field::kRole) | bit(Field::kCountry) | bit(Field::kTz) |
                                      bit(Field::kEmail) | bit(Field::kName) | bit(Field::kKind);
constexpr std::uint32_t kStartedFields = bit(Field::kContract) | bit(Field::kClient) | bit(Field::kFreelancer);

constexpr std::array<TypeRule, 6> kTypes = {{
    {"user", EventType::kUser, bit(Field::kId), kUserFields},
    {"contract_started", EventType::kContractStarted, kStartedFields, kStartedFields},
    {"contract_ended", EventType::kContractEnded, bit(Field::kContract), bit(Field::kContract) | bit(Field::kReason)},
    {"message", EventType::kMessage, bit(Field::kContract) | bit(Field::kFrom),
     bit(Field::kContract) | bit(Field::kFrom) | bit(Field::kId)},
    {"opt_out", EventType::kOptOut, bit(Field::kUser), bit(Field::kUser)},
    {"opt_in", EventType::kOptIn, bit(Field::kUser), bit(Field::kUser)},
}};

bool is_json_number(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    size_t start = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == n;
}

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Walks a whole value, so that everything On-Demand would otherwise skip is
// checked: numbers, literals, string escapes, nesting.
bool validate(value v, int depth) {
  if (depth > LineParser::kMaxDepth) return false;
  json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case json_type::object: {
      simdjson::ondemand::object o;
      if (v.get_object().get(o)) return false;
      for (auto field : o) {
        std::string_view key;
        if (field.error() || field.unescaped_key().get(key)) return false;
        if (!validate(field.value(), depth + 1)) return false;
      }
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array a;
      if (v.get_array().get(a)) return false;
      for (auto element : a) {
        value e;
        if (element.get(e)) return false;
        if (!validate(e, depth + 1)) return false;
      }
      return true;
    }
    case json_type::string: {
      std::string_view s;
      return !v.get_string().get(s);
    }
    case json_type::number:
      return is_json_number(trim_json_space(v.raw_json_token()));
    case json_type::boolean: {
      std::string_view tok = trim_json_space(v.raw_json_token());
      return tok == "true" || tok == "false";
    }
    case json_type::null:
      return trim_json_space(v.raw_json_token()) == "null";
  }
  return false;
}

// The top-level fields of one line as the rules see them, collected by
// either reader of the line (LineParser::scan_plain or simdjson), then
// judged in the spec's order by decide().
class FieldSet {
 public:
  explicit FieldSet(Event& out) : out_(out) { out_.present = 0; }

  // A top-level field whose key is `key`; `text` is its value when
  // `is_string`.
  void add(std::string_view key, bool is_string, std::string_view text) { add(classify(key), is_string, text); }
  void add(KeyInfo info, bool is_string, std::string_view text) {
    switch (info.key) {
      case Key::kType:
        if (++type_count_ == 1) type_is_string_ = is_string, type_text_ = text;
        return;
      case Key::kAt:
        if (++at_count_ == 1) at_is_string_ = is_string, at_text_ = text;
        return;
      case Key::kOther: return;
      case Key::kField: {
        const std::uint32_t b = bit(info.field);
        if (seen_ & b) {
          duplicated_ |= b;
        } else {
          seen_ |= b;
          if (!is_string) non_string_ |= b;
          out_.fields[static_cast<std::size_t>(info.field)] = text;
        }
      }
    }
  }

  // Rules 2-7 on a line that is valid JSON.
  RejectReason decide() {
    if (type_count_ == 0 || at_count_ == 0) return RejectReason::kMissingField;
    if (!type_is_string_ || !at_is_string_ || type_count_ > 1 || at_count_ > 1) return RejectReason::kBadField;
    const TypeRule* rule = nullptr;
    for (const TypeRule& r : kTypes) {
      if (r.name == type_text_) {
        rule = &r;
        break;
      }
    }
    if (rule == nullptr) return RejectReason::kUnknownType;
    if ((seen_ & rule->required) != rule->required) return RejectReason::kMissingField;
    if ((duplicated_ | non_string_) & rule->listed) return RejectReason::kBadField;
    auto at = parse_rfc3339(at_text_);
    if (!at) return RejectReason::kBadTime;
    out_.type = rule->type;
    out_.at = *at;
    out_.present = seen_ & rule->listed;
    return RejectReason::kNone;
  }

 private:
  Event& out_;
  int type_count_ = 0, at_count_ = 0;
  bool type_is_string_ = false, at_is_string_ = false;
  std::string_view type_text_, at_text_;
  std::uint32_t seen_ = 0, duplicated_ = 0, non_string_ = 0;
};

bool is_ascii(std::string_view s) {
  std::uint64_t high = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    high |= w;
  }
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return (high & 0x8080808080808080) == 0;
}

}  // namespace

bool is_valid_json_value(simdjson::ondemand::value v) { return validate(v, 1); }

std::string_view take_body_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_blank_line(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

RejectReason LineParser::parse(std::string_view line, std::size_t /*capacity*/, Event& out) {
  return parse_copy(line, out);
}

RejectReason LineParser::parse_copy(std::string_view line, Event& out) {
  // The copy is followed by a NUL, which stops scan_plain's word-at-a-time
  // reads, and by simdjson's padding.
  if (line_.size() < line.size() + simdjson::SIMDJSON_PADDING) line_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(line_.data(), line.data(), line.size());
  line_[line.size()] = '\0';
  line_size_ = line.size();
  if (std::optional<RejectReason> r = scan_plain(out)) return *r;
  return parse_json(out);
}

std::optional<RejectReason> LineParser::scan_plain(Event& out) const {
  // Every byte outside the strings is structural here, so the line is valid
  // JSON when the strings are: no escapes or control characters (checked by
  // the scan) and valid UTF-8 (checked once for the line).
  const char* p = line_.data();
  const char* const end = p + line_size_;
  if (*p != '{' || (!is_ascii(line()) && !simdjson::validate_utf8(p, line_size_))) return std::nullopt;
  FieldSet fields(out);
  ++p;
  for (;;) {
    if (*p != '"') return std::nullopt;
    const char* key_end = find_json_special(p + 1);
    if (*key_end != '"' || key_end[1] != ':' || key_end[2] != '"') return std::nullopt;
    const char* value = key_end + 3;
    const char* value_end = find_json_special(value);
    if (*value_end != '"') return std::nullopt;
    fields.add(std::string_view(p + 1, static_cast<std::size_t>(key_end - p - 1)), true,
               std::string_view(value, static_cast<std::size_t>(value_end - value)));
    p = value_end + 1;
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p == '}' && p + 1 == end) return fields.decide();
    return std::nullopt;
  }
}

RejectReason LineParser::parse_json(Event& out) {
  simdjson::ondemand::document doc;
  if (parser_.iterate(line_.data(), line_size_, line_.size()).get(doc)) return RejectReason::kBadJson;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return RejectReason::kBadJson;

  FieldSet fields(out);
  for (auto field : obj) {
    std::string_view key;
    if (field.error() || field.unescaped_key().get(key)) return RejectReason::kBadJson;
    value v = field.value();
    KeyInfo info = classify(key);
    if (info.key == Key::kOther) {
      if (!validate(v, 1)) return RejectReason::kBadJson;
      continue;
    }
    json_type t;
    if (v.type().get(t)) return RejectReason::kBadJson;
    std::string_view text;
    const bool is_string = t == json_type::string;
    if (is_string) {
      if (v.get_string().get(text)) return RejectReason::kBadJson;
    } else if (!validate(v, 1)) {
      return RejectReason::kBadJson;
    }
    fields.add(info, is_string, text);
  }
  // Anything after the object (trailing tokens) makes the line invalid JSON.
  const char* trailing;
  if (!doc.current_location().get(trailing)) return RejectReason::kBadJson;
  return fields.decide();
}

}  // namespace gw
