#include "ghostwatch/ingest/line_parser.h"

#include <array>
#include <bit>
#include <cstring>
#include <optional>

#if defined(__x86_64__)
#include <immintrin.h>
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

// Inlined: it runs for every key of every line, and as a call it cost a
// tenth of the scan of a plain line.
[[gnu::always_inline]] inline KeyInfo classify(std::string_view k) {
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

// A listed key as a plain line writes it, `"key":"` (up to 16 bytes), for a
// compare of two words.
struct KeyText {
  std::uint64_t words[2];
  std::uint64_t masks[2];
  std::uint8_t size;
  Field field;

  // True when the bytes at `p` start with this key's text. REQUIRES: 16
  // readable bytes at `p`; a little-endian machine.
  bool starts(const char* p) const {
    std::uint64_t w[2];
    std::memcpy(w, p, sizeof w);
    return (((w[0] ^ words[0]) & masks[0]) | ((w[1] ^ words[1]) & masks[1])) == 0;
  }
};

// The bytes of `"name":"`, in memory order.
template <std::size_t N>
constexpr KeyText key_text(const char (&name)[N], Field field) {
  static_assert(N - 1 + 4 <= 16);
  char text[16] = {};
  text[0] = '"';
  for (std::size_t i = 0; i + 1 < N; ++i) text[1 + i] = name[i];
  text[N] = '"', text[N + 1] = ':', text[N + 2] = '"';
  KeyText k{{0, 0}, {0, 0}, static_cast<std::uint8_t>(N + 3), field};
  for (std::size_t i = 0; i < 16; ++i) {
    // Words as a little-endian load reads them (scan_usual_layout, their
    // only reader, runs only there).
    k.words[i / 8] |= std::uint64_t{static_cast<unsigned char>(text[i])} << (8 * (i % 8));
    if (i < k.size) k.masks[i / 8] |= std::uint64_t{0xff} << (8 * (i % 8));
  }
  return k;
}

constexpr KeyText kIdKey = key_text("id", Field::kId), kRoleKey = key_text("role", Field::kRole),
                  kCountryKey = key_text("country", Field::kCountry), kTzKey = key_text("tz", Field::kTz),
                  kEmailKey = key_text("email", Field::kEmail), kNameKey = key_text("name", Field::kName),
                  kKindKey = key_text("kind", Field::kKind), kContractKey = key_text("contract", Field::kContract),
                  kClientKey = key_text("client", Field::kClient),
                  kFreelancerKey = key_text("freelancer", Field::kFreelancer),
                  kReasonKey = key_text("reason", Field::kReason), kFromKey = key_text("from", Field::kFrom),
                  kUserKey = key_text("user", Field::kUser);

constexpr std::size_t kMaxKeyOrder = 7;

struct TypeRule {
  std::string_view name;
  EventType type;
  std::uint32_t required;
  std::uint32_t listed;  // required | optional
  // The listed keys in the order lines usually have them (the order the
  // simulator writes them): scan_usual_layout reads lines in this order.
  // Any order is accepted; this one is only read faster.
  std::array<KeyText, kMaxKeyOrder> key_order;
  std::size_t keys;
};

constexpr std::uint32_t kUserFields = bit(Field::kId) | bit(Field::kRole) | bit(Field::kCountry) | bit(Field::kTz) |
                                      bit(Field::kEmail) | bit(Field::kName) | bit(Field::kKind);
constexpr std::uint32_t kStartedFields = bit(Field::kContract) | bit(Field::kClient) | bit(Field::kFreelancer);

constexpr std::array<TypeRule, 6> kTypes = {{
    {"user",
     EventType::kUser,
     bit(Field::kId),
     kUserFields,
     {kIdKey, kRoleKey, kCountryKey, kTzKey, kKindKey, kEmailKey, kNameKey},
     7},
    {"contract_started",
     EventType::kContractStarted,
     kStartedFields,
     kStartedFields,
     {kContractKey, kClientKey, kFreelancerKey},
     3},
    {"contract_ended",
     EventType::kContractEnded,
     bit(Field::kContract),
     bit(Field::kContract) | bit(Field::kReason),
     {kContractKey, kReasonKey},
     2},
    {"message",
     EventType::kMessage,
     bit(Field::kContract) | bit(Field::kFrom),
     bit(Field::kContract) | bit(Field::kFrom) | bit(Field::kId),
     {kContractKey, kFromKey, kIdKey},
     3},
    {"opt_out", EventType::kOptOut, bit(Field::kUser), bit(Field::kUser), {kUserKey}, 1},
    {"opt_in", EventType::kOptIn, bit(Field::kUser), bit(Field::kUser), {kUserKey}, 1},
}};

// The rule of the type named `name`, or nullptr: by length first, then one
// compare of a constant length (no loop of string compares).
const TypeRule* find_type(std::string_view name) {
  static_assert(kTypes[0].name == "user" && kTypes[1].name == "contract_started" &&
                kTypes[2].name == "contract_ended" && kTypes[3].name == "message" && kTypes[4].name == "opt_out" &&
                kTypes[5].name == "opt_in");
  switch (name.size()) {
    case 4:
      if (key_is(name, "user")) return &kTypes[0];
      break;
    case 16:
      if (key_is(name, "contract_started")) return &kTypes[1];
      break;
    case 14:
      if (key_is(name, "contract_ended")) return &kTypes[2];
      break;
    case 7:
      if (key_is(name, "message")) return &kTypes[3];
      if (key_is(name, "opt_out")) return &kTypes[4];
      break;
    case 6:
      if (key_is(name, "opt_in")) return &kTypes[5];
      break;
  }
  return nullptr;
}

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

// Rule 7 on a line that passed rules 1-6 as an event of `rule`'s type whose
// listed fields present are `present` (their values already in `out`):
// bad_time, or the event completed.
RejectReason decide_time(const TypeRule& rule, std::string_view at_text, std::uint32_t present, Event& out) {
  const std::optional<Instant> at = parse_rfc3339(at_text);
  if (!at) return RejectReason::kBadTime;
  out.type = rule.type;
  out.at = *at;
  out.present = present;
  return RejectReason::kNone;
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
    const TypeRule* rule = find_type(type_text_);
    if (rule == nullptr) return RejectReason::kUnknownType;
    if ((seen_ & rule->required) != rule->required) return RejectReason::kMissingField;
    if ((duplicated_ | non_string_) & rule->listed) return RejectReason::kBadField;
    return decide_time(*rule, at_text_, seen_ & rule->listed, out_);
  }

 private:
  Event& out_;
  int type_count_ = 0, at_count_ = 0;
  bool type_is_string_ = false, at_is_string_ = false;
  std::string_view type_text_, at_text_;
  std::uint32_t seen_ = 0, duplicated_ = 0, non_string_ = 0;
};

// Lines a plain scan takes (longer ones go to simdjson): the quote masks of
// up to kMaxPlainBytes bytes live on the stack.
constexpr std::size_t kMaxPlainBytes = 512;
constexpr std::size_t kBlockBytes = 64;
static_assert(simdjson::SIMDJSON_PADDING >= kBlockBytes - 1, "the copy's padding holds the last block");

// What a line's bytes hold, gathered while they are copied: one bit per
// byte for its quotes (bit i of quotes[w]: byte 64 * w + i; the word after
// the last block is zero, for next_quote), and whether it has bytes that
// end plain JSON string text (backslashes and control characters) or bytes
// that are not ASCII.
struct PlainTextBits {
  std::array<std::uint64_t, kMaxPlainBytes / kBlockBytes + 1> quotes{};
  bool specials = false;
  bool high = false;
};

// For the last block of a line of n bytes in it: from kKeep + 64 - n, n
// bytes of 0xff (keep), then zeros (replace by a space).
constexpr auto kKeep = [] {
  std::array<std::int8_t, 2 * kBlockBytes> keep{};
  for (std::size_t i = 0; i < kBlockBytes; ++i) keep[i] = -1;
  return keep;
}();

// Copies the `size` bytes at `src` to `dst` a 64-byte block at a time, and
// fills `bits` (all zero on entry). Reads and writes whole blocks: both must
// have room for `size` rounded up to 64 bytes; the bytes of the last block
// past `size` are written as spaces, which are none of the bytes looked for.
// REQUIRES: 0 < size <= kMaxPlainBytes.
void copy_plain_text(const char* src, char* dst, std::size_t size, PlainTextBits& bits) {
  const std::size_t blocks = (size + kBlockBytes - 1) / kBlockBytes;
#if defined(__x86_64__)
  // SSE2, which every x86-64 has: four 16-byte chunks a block. Control
  // bytes are found from the smallest byte of the line, at the end.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(' ');
  __m128i backslashes = _mm_setzero_si128(), high = _mm_setzero_si128(), low = space;
  for (std::size_t b = 0; b < blocks; ++b) {
    __m128i v[4];
    for (int i = 0; i < 4; ++i)
      v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + kBlockBytes * b + 16 * i));
    if (b + 1 == blocks) {
      const std::int8_t* keep = kKeep.data() + kBlockBytes - (size - kBlockBytes * b);
      for (int i = 0; i < 4; ++i) {
        const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keep + 16 * i));
        v[i] = _mm_or_si128(_mm_and_si128(k, v[i]), _mm_andnot_si128(k, space));
      }
    }
    std::uint64_t q = 0;
    for (int i = 0; i < 4; ++i) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + kBlockBytes * b + 16 * i), v[i]);
      q |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[i], quote)))} << (16 * i);
      low = _mm_min_epu8(low, v[i]);
      backslashes = _mm_or_si128(backslashes, _mm_cmpeq_epi8(v[i], backslash));
      high = _mm_or_si128(high, v[i]);
    }
    // One store of the block's mask (the scan reads it back as a word: four
    // 16-bit stores would not be forwarded to that load).
    bits.quotes[b] = q;
  }
  // A byte <= 0x1f: min(low, 0x1f) == low in that byte.
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(low, _mm_set1_epi8(0x1f)), low);
  bits.specials = _mm_movemask_epi8(_mm_or_si128(control, backslashes)) != 0;
  bits.high = _mm_movemask_epi8(high) != 0;
#else
  if (src != dst) std::memmove(dst, src, size);
  std::memset(dst + size, ' ', blocks * kBlockBytes - size);
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(dst[i]);
    bits.quotes[i / 64] |= std::uint64_t{c == '"'} << (i % 64);
    bits.specials |= c == '\\' || c < 0x20;
    bits.high |= c >= 0x80;
  }
#endif
}

#if defined(__x86_64__)
// copy_plain_text with AVX2: two 32-byte chunks a block (the SSE2 version
// spends about 40 % of a plain line's parsing instructions). Same contract
// and results.
[[gnu::target("avx2")]] void copy_plain_text_avx2(const char* src, char* dst, std::size_t size, PlainTextBits& bits) {
  const std::size_t blocks = (size + kBlockBytes - 1) / kBlockBytes;
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i space = _mm256_set1_epi8(' ');
  __m256i backslashes = _mm256_setzero_si256(), high = _mm256_setzero_si256(), low = space;
  for (std::size_t b = 0; b < blocks; ++b) {
    __m256i v[2];
    for (int i = 0; i < 2; ++i)
      v[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + kBlockBytes * b + 32 * i));
    if (b + 1 == blocks) {
      const std::int8_t* keep = kKeep.data() + kBlockBytes - (size - kBlockBytes * b);
      for (int i = 0; i < 2; ++i) {
        v[i] = _mm256_blendv_epi8(space, v[i], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keep + 32 * i)));
      }
    }
    std::uint64_t q = 0;
    for (int i = 0; i < 2; ++i) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + kBlockBytes * b + 32 * i), v[i]);
      q |= std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v[i], quote)))} << (32 * i);
      low = _mm256_min_epu8(low, v[i]);
      backslashes = _mm256_or_si256(backslashes, _mm256_cmpeq_epi8(v[i], backslash));
      high = _mm256_or_si256(high, v[i]);
    }
    bits.quotes[b] = q;
  }
  const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(low, _mm256_set1_epi8(0x1f)), low);
  bits.specials = _mm256_movemask_epi8(_mm256_or_si256(control, backslashes)) != 0;
  bits.high = _mm256_movemask_epi8(high) != 0;
}

// Whether parse_from copies with AVX2: the CPU has it, unless a test said
// otherwise (LineParser::use_avx2).
bool avx2_copy = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
#endif

// The position of the first quote of the line at or after `pos`, or
// kMaxPlainBytes when there is none. REQUIRES: pos < kMaxPlainBytes + 64.
inline std::size_t next_quote(const PlainTextBits& bits, std::size_t pos) {
  std::size_t w = pos / 64;
  std::uint64_t word = bits.quotes[w] >> (pos % 64);
  if (word != 0) return pos + static_cast<std::size_t>(std::countr_zero(word));
  while (++w < bits.quotes.size()) {
    if (bits.quotes[w] != 0) return 64 * w + static_cast<std::size_t>(std::countr_zero(bits.quotes[w]));
  }
  return kMaxPlainBytes;
}

// The first position at or after `i` whose byte is not a space, or `size`
// when the line has none there. REQUIRES: i <= size.
inline std::size_t skip_spaces(const char* p, std::size_t i, std::size_t size) {
  while (i < size && p[i] == ' ') ++i;
  return i;
}

// `p` starts with the `N - 1` bytes of `text`: a compare of a constant
// length.
template <std::size_t N>
bool starts_with(const char* p, const char (&text)[N]) {
  return std::memcmp(p, text, N - 1) == 0;
}

// The fields after `type` and `at` of a plain line (see scan_plain) of the
// type `rule`, from its key at `key` (after a ','), when they are listed
// keys of that type in their usual order (rule.key_order; optional ones
// may be left out), each once, and the line ends after them: then the
// verdict is the general one's (rules 2-7 leave only the time to check),
// decided without counting keys. nullopt for any other line (the general
// scan decides).
std::optional<RejectReason> scan_usual_layout(const char* p, std::size_t size, const PlainTextBits& bits,
                                              const TypeRule& rule, std::size_t key, std::string_view at, Event& out) {
  if constexpr (std::endian::native != std::endian::little) return std::nullopt;  // KeyText's words
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < rule.keys; ++i) {
    // `"key":"` (16 bytes read: the copy's padding covers them past the line).
    const KeyText& text = rule.key_order[i];
    if (!text.starts(p + key)) continue;
    const std::size_t value = key + text.size;
    const std::size_t value_end = next_quote(bits, value);
    if (value_end >= size) return std::nullopt;
    out.fields[static_cast<std::size_t>(text.field)] = std::string_view(p + value, value_end - value);
    seen |= bit(text.field);
    key = value_end + 2;
    if (p[value_end + 1] == ',') continue;
    if (p[value_end + 1] != '}' || key != size || (seen & rule.required) != rule.required) return std::nullopt;
    if (bits.high && !simdjson::validate_utf8(p, size)) return std::nullopt;
    return decide_time(rule, at, seen, out);
  }
  return std::nullopt;
}

// Reads a line of the copy `p` that has no escapes or control characters
// (see copy_plain_text): nullopt when it is not a flat object of plain
// strings (then parse_json decides).
std::optional<RejectReason> scan_plain(const char* p, std::size_t size, const PlainTextBits& bits, Event& out) {
  // Every byte outside the strings is structural here, so the line is valid
  // JSON when the strings are: no escapes or control characters anywhere in
  // the line (the caller checked), and valid UTF-8. Then the quotes delimit
  // the strings, and the line has that form when each key's opening quote
  // is where the form puts it, its closing quote (the next quote) is
  // followed by ':' and the value's opening quote, and the value's closing
  // quote (the next one) by ',' and the next key, or by '}' that ends the
  // line, with nothing but spaces between them. The reads past `size` land
  // in the copy's padding (at most two bytes past a closing quote before
  // `size`).
  FieldSet fields(out);
  std::size_t key = 1;  // where the next key's opening quote must be; 0 after the last
  // Nearly every line starts {"type":"...","at":"...": those two fields are
  // read with two compares of the bytes between them, which are the ones
  // the general loop below checks one by one, and the rest is tried in its
  // type's usual layout.
  if (starts_with(p, "{\"type\":\"")) {
    const std::size_t type_end = next_quote(bits, 9);
    if (type_end < size && starts_with(p + type_end, "\",\"at\":\"")) {
      const std::size_t at_end = next_quote(bits, type_end + 8);
      if (at_end >= size) return std::nullopt;
      const std::string_view type(p + 9, type_end - 9), at(p + type_end + 8, at_end - type_end - 8);
      key = at_end + 2;
      if (p[at_end + 1] == ',') {
        if (const TypeRule* rule = find_type(type)) {
          if (std::optional<RejectReason> r = scan_usual_layout(p, size, bits, *rule, key, at, out)) return r;
        }
      } else if (p[at_end + 1] == '}' && key == size) {
        key = 0;  // the line ends here
      } else {
        return std::nullopt;
      }
      fields.add(KeyInfo{Key::kType, Field::kCount}, true, type);
      fields.add(KeyInfo{Key::kAt, Field::kCount}, true, at);
    }
  }
  // Spaces may stand around each ':' and ',', after the '{' and before the
  // '}' (the form Python's json.dumps writes by default); the compact form
  // costs one compare at each of those places.
  while (key != 0) {
    if (p[key] != '"' && (key = skip_spaces(p, key, size)) == size) return std::nullopt;
    if (p[key] != '"') return std::nullopt;
    const std::size_t key_end = next_quote(bits, key + 1);
    if (key_end >= size) return std::nullopt;
    std::size_t value = key_end + 1;  // the ':', then the value's opening quote
    if (p[value] != ':' && (value = skip_spaces(p, value, size)) == size) return std::nullopt;
    if (p[value++] != ':') return std::nullopt;
    if (p[value] != '"' && (value = skip_spaces(p, value, size)) == size) return std::nullopt;
    if (p[value] != '"') return std::nullopt;
    const std::size_t value_end = next_quote(bits, value + 1);
    if (value_end >= size) return std::nullopt;
    fields.add(std::string_view(p + key + 1, key_end - key - 1), true,
               std::string_view(p + value + 1, value_end - value - 1));
    std::size_t after = value_end + 1;  // the ',' or the '}'
    if (p[after] == ' ' && (after = skip_spaces(p, after, size)) == size) return std::nullopt;
    key = after + 1;
    if (p[after] == ',') continue;
    if (p[after] != '}' || key != size) return std::nullopt;
    key = 0;  // the line ends here
  }
  if (bits.high && !simdjson::validate_utf8(p, size)) return std::nullopt;
  return fields.decide();
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

bool LineParser::use_avx2(bool on) {
#if defined(__x86_64__)
  const bool was = avx2_copy;
  avx2_copy = on && __builtin_cpu_supports("avx2");
  return was;
#else
  (void)on;
  return false;
#endif
}

RejectReason LineParser::parse(std::string_view line, std::size_t capacity, Event& out) {
  // The scanner copies the line as it reads it, in whole 64-byte blocks.
  const std::size_t rounded = (line.size() + kBlockBytes - 1) / kBlockBytes * kBlockBytes;
  if (capacity < rounded) return parse_copy(line, out);
  reserve(line.size());
  return parse_from(line.data(), line.size(), out);
}

RejectReason LineParser::parse_copy(std::string_view line, Event& out) {
  reserve(line.size());
  std::memcpy(line_.data(), line.data(), line.size());
  return parse_from(line_.data(), line.size(), out);
}

void LineParser::reserve(std::size_t size) {
  // The copy is followed by simdjson's padding, which also covers the
  // scanner's writes of whole 64-byte blocks.
  if (line_.size() < size + simdjson::SIMDJSON_PADDING) line_.resize(size + simdjson::SIMDJSON_PADDING);
}

RejectReason LineParser::parse_from(const char* src, std::size_t size, Event& out) {
  line_size_ = size;
  if (size == 0 || size > kMaxPlainBytes || *src != '{') {
    if (src != line_.data()) std::memcpy(line_.data(), src, size);
    return parse_json(out);
  }
  PlainTextBits bits;
#if defined(__x86_64__)
  if (avx2_copy) {
    copy_plain_text_avx2(src, line_.data(), size, bits);
  } else {
    copy_plain_text(src, line_.data(), size, bits);
  }
#else
  copy_plain_text(src, line_.data(), size, bits);
#endif
  if (!bits.specials) {
    if (std::optional<RejectReason> r = scan_plain(line_.data(), size, bits, out)) return *r;
  }
  return parse_json(out);
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
