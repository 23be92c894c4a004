#include "ghostwatch/ingest/line_parser.h"

#include <array>
#include <cstring>

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

KeyInfo classify(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (k == "id") return {Key::kField, Field::kId};
      if (k == "tz") return {Key::kField, Field::kTz};
      if (k == "at") return {Key::kAt, Field::kCount};
      break;
    case 4:
      if (k == "role") return {Key::kField, Field::kRole};
      if (k == "name") return {Key::kField, Field::kName};
      if (k == "kind") return {Key::kField, Field::kKind};
      if (k == "from") return {Key::kField, Field::kFrom};
      if (k == "user") return {Key::kField, Field::kUser};
      if (k == "type") return {Key::kType, Field::kCount};
      break;
    case 5:
      if (k == "email") return {Key::kField, Field::kEmail};
      break;
    case 6:
      if (k == "client") return {Key::kField, Field::kClient};
      if (k == "reason") return {Key::kField, Field::kReason};
      break;
    case 7:
      if (k == "country") return {Key::kField, Field::kCountry};
      break;
    case 8:
      if (k == "contract") return {Key::kField, Field::kContract};
      break;
    case 10:
      if (k == "freelancer") return {Key::kField, Field::kFreelancer};
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

}  // namespace

bool is_blank_line(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

RejectReason LineParser::parse(std::string_view line, std::size_t capacity, Event& out) {
  simdjson::ondemand::document doc;
  if (parser_.iterate(line.data(), line.size(), capacity).get(doc)) return RejectReason::kBadJson;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return RejectReason::kBadJson;

  int type_count = 0, at_count = 0;
  bool type_is_string = false, at_is_string = false;
  std::string_view type_text, at_text;
  std::uint32_t seen = 0, duplicated = 0, non_string = 0;
  out.present = 0;

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
    switch (info.key) {
      case Key::kType:
        if (++type_count == 1) type_is_string = is_string, type_text = text;
        break;
      case Key::kAt:
        if (++at_count == 1) at_is_string = is_string, at_text = text;
        break;
      default: {
        const std::uint32_t b = bit(info.field);
        if (seen & b) {
          duplicated |= b;
        } else {
          seen |= b;
          if (!is_string) non_string |= b;
          out.fields[static_cast<std::size_t>(info.field)] = text;
        }
      }
    }
  }
  // Anything after the object (trailing tokens) makes the line invalid JSON.
  const char* trailing;
  if (!doc.current_location().get(trailing)) return RejectReason::kBadJson;

  if (type_count == 0 || at_count == 0) return RejectReason::kMissingField;
  if (!type_is_string || !at_is_string || type_count > 1 || at_count > 1) return RejectReason::kBadField;
  const TypeRule* rule = nullptr;
  for (const TypeRule& r : kTypes) {
    if (r.name == type_text) rule = &r;
  }
  if (rule == nullptr) return RejectReason::kUnknownType;
  if ((seen & rule->required) != rule->required) return RejectReason::kMissingField;
  if ((duplicated | non_string) & rule->listed) return RejectReason::kBadField;
  auto at = parse_rfc3339(at_text);
  if (!at) return RejectReason::kBadTime;

  out.type = rule->type;
  out.at = *at;
  out.present = seen & rule->listed;
  return RejectReason::kNone;
}

RejectReason LineParser::parse_copy(std::string_view line, Event& out) {
  scratch_ = simdjson::padded_string(line);
  return parse(std::string_view(scratch_.data(), scratch_.size()), scratch_.size() + simdjson::SIMDJSON_PADDING,
               out);
}

}  // namespace gw
