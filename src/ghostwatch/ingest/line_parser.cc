#include "ghostwatch/ingest/line_parser.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

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

// What one 64-byte block of a line holds, one bit per byte (bit i: byte i):
// its quotes, the other bytes that end plain JSON string text (backslashes
// and control characters), and the bytes that are not ASCII.
struct PlainTextBits {
  std::uint64_t quotes = 0;
  std::uint64_t specials = 0;
  std::uint64_t high = 0;
};

PlainTextBits plain_text_bits(const char* p) {
  PlainTextBits bits;
#if defined(__x86_64__)
  // SSE2, which every x86-64 has: 16 bytes at a time.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below_space = _mm_set1_epi8(0x1f);
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    // v <= 0x1f unsigned: min(v, 0x1f) == v.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v);
    const __m128i special = _mm_or_si128(control, _mm_cmpeq_epi8(v, backslash));
    const unsigned shift = 16 * i;
    bits.quotes |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)))} << shift;
    bits.specials |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(special))} << shift;
    bits.high |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(v))} << shift;
  }
#else
  for (unsigned i = 0; i < 64; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    bits.quotes |= std::uint64_t{c == '"'} << i;
    bits.specials |= std::uint64_t{c == '\\' || c < 0x20} << i;
    bits.high |= std::uint64_t{c >= 0x80} << i;
  }
#endif
  return bits;
}

// Most strings a line of plain strings can hold (keys and values): longer
// lines go to simdjson.
constexpr std::size_t kMaxPlainStrings = 64;

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
  // The copy is followed by simdjson's padding, which also covers
  // scan_plain's reads of whole 64-byte blocks.
  if (line_.size() < line.size() + simdjson::SIMDJSON_PADDING) line_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(line_.data(), line.data(), line.size());
  line_size_ = line.size();
  if (std::optional<RejectReason> r = scan_plain(out)) return *r;
  return parse_json(out);
}

std::optional<RejectReason> LineParser::scan_plain(Event& out) const {
  // Every byte outside the strings is structural here, so the line is valid
  // JSON when the strings are: no escapes or control characters anywhere in
  // the line, and valid UTF-8. Then the quotes delimit the strings, and the
  // line has that form when the bytes between them are exactly '{', ':',
  // ',' and '}' where the form puts them.
  const char* const p = line_.data();
  const std::size_t size = line_size_;
  if (*p != '{') return std::nullopt;
  std::array<std::uint32_t, 2 * kMaxPlainStrings> quotes;
  std::size_t count = 0;
  std::uint64_t high = 0;
  for (std::size_t base = 0; base < size; base += 64) {
    const PlainTextBits bits = plain_text_bits(p + base);
    const std::uint64_t in_line = size - base >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (size - base)) - 1;
    if (bits.specials & in_line) return std::nullopt;
    high |= bits.high & in_line;
    for (std::uint64_t q = bits.quotes & in_line; q != 0; q &= q - 1) {
      if (count == quotes.size()) return std::nullopt;
      quotes[count++] = static_cast<std::uint32_t>(base + std::countr_zero(q));
    }
  }
  if (count == 0 || count % 4 != 0 || quotes[0] != 1) return std::nullopt;
  FieldSet fields(out);
  for (std::size_t i = 0;; i += 4) {
    const std::uint32_t key = quotes[i], key_end = quotes[i + 1], value = quotes[i + 2], value_end = quotes[i + 3];
    if (p[key_end + 1] != ':' || value != key_end + 2) return std::nullopt;
    fields.add(std::string_view(p + key + 1, key_end - key - 1), true,
               std::string_view(p + value + 1, value_end - value - 1));
    if (i + 4 == count) {
      if (p[value_end + 1] != '}' || value_end + 2 != size) return std::nullopt;
      break;
    }
    if (p[value_end + 1] != ',' || quotes[i + 4] != value_end + 2) return std::nullopt;
  }
  if (high != 0 && !simdjson::validate_utf8(p, size)) return std::nullopt;
  return fields.decide();
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
