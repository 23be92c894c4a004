// Line validation and line reading, checked against the engine contract
// (spec section 1): reject reasons 1-7 in their order, the event table, the
// timestamp rules, blank lines, CRLF removal and line numbering.
#include "ghostwatch/ingest/line_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/engine/event.h"
#include "ghostwatch/ingest/line_reader.h"

namespace gw {
namespace {

// The spec's wording of each outcome, written out here rather than taken
// from the code under test, so that a failure prints a readable name.
std::string Name(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "accepted";
    case RejectReason::kBadJson: return "bad_json";
    case RejectReason::kMissingField: return "missing_field";
    case RejectReason::kBadField: return "bad_field";
    case RejectReason::kUnknownType: return "unknown_type";
    case RejectReason::kBadTime: return "bad_time";
    default: return "state reason (not a parser outcome)";
  }
}

constexpr std::string_view kAt = R"("at":"2019-08-01T12:00:00Z")";

// A valid event of each type, with every required field and nothing else.
std::string Minimal(std::string_view type) {
  std::string body;
  if (type == "user") body = R"("id":"u1")";
  if (type == "contract_started") body = R"("contract":"c1","client":"u2","freelancer":"u1")";
  if (type == "contract_ended") body = R"("contract":"c1")";
  if (type == "message") body = R"("contract":"c1","from":"u2")";
  if (type == "opt_out" || type == "opt_in") body = R"("user":"u1")";
  return std::string(R"({"type":")") + std::string(type) + "\"," + std::string(kAt) + "," + body + "}";
}

class LineParserTest : public ::testing::Test {
 protected:
  std::string Parse(std::string_view line) { return Name(parser_.parse_copy(line, event_)); }

  LineParser parser_;
  Event event_;
};

// ---------------------------------------------------------------------------
// Rule 1: bad_json.

TEST_F(LineParserTest, AcceptsAMinimalEventOfEveryType) {
  for (const char* type : {"user", "contract_started", "contract_ended", "message", "opt_out", "opt_in"}) {
    EXPECT_EQ(Parse(Minimal(type)), "accepted") << Minimal(type);
  }
}

TEST_F(LineParserTest, InvalidUtf8IsBadJson) {
  // Inside a listed field, inside an unlisted field, in a key, and the
  // classic ill-formed sequences: lone continuation byte, overlong encoding,
  // UTF-16 surrogate encoded in UTF-8, truncated sequence, code point above
  // U+10FFFF, bytes that never occur in UTF-8.
  const std::vector<std::string> lines = {
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"u\x80\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"u1\",\"note\":\"\xC0\xAF\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"u1\",\"k\xFF\":1}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"\xED\xA0\x80\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"\xE2\x82\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"\xF4\x90\x80\x80\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"\xFE\xFF\"}",
      R"({"type":"user",)" + std::string(kAt) + ",\"id\":\"u1\",\"x\":\"\xF0\x9F\x98\"}",
  };
  for (const std::string& line : lines) EXPECT_EQ(Parse(line), "bad_json") << line;
}

TEST_F(LineParserTest, ValidNonAsciiUtf8IsAccepted) {
  EXPECT_EQ(Parse(R"({"type":"user",)" + std::string(kAt) + R"(,"id":"u1","name":"Zoë Ψ 😀 €"})"), "accepted");
  EXPECT_EQ(event_.get(Field::kName), "Zoë Ψ 😀 €");
}

TEST_F(LineParserTest, InvalidJsonIsBadJson) {
  const std::string a(kAt);
  const std::vector<std::string> lines = {
      // Truncated.
      R"({"type":"user",)" + a + R"(,"id":"u1")",
      R"({"type":"user",)" + a + R"(,"id":"u)",
      R"({"type":"user",)" + a + R"(,"id":)",
      R"({"type":"user",)" + a + R"(,"id")",
      R"({"type":"user",)" + a + R"(,)",
      "{",
      // Trailing garbage after the object.
      Minimal("user") + "x",
      Minimal("user") + "}",
      Minimal("user") + ",",
      Minimal("user") + Minimal("user"),
      Minimal("user") + " 1",
      Minimal("user") + " null",
      Minimal("user") + std::string(1, '\0'),
      Minimal("user") + std::string(1, '\0') + "{}",
      // Form feed and vertical tab are not JSON whitespace.
      R"({"type":"user",)" + a + ",\f\"id\":\"u1\"}",
      "\v" + Minimal("user"),
      // NaN and Infinity are not JSON.
      R"({"type":"user",)" + a + R"(,"id":"u1","score":NaN})",
      R"({"type":"user",)" + a + R"(,"id":"u1","score":Infinity})",
      R"({"type":"user",)" + a + R"(,"id":"u1","score":-Infinity})",
      R"({"type":"user",)" + a + R"(,"id":"u1","score":[1,NaN]})",
      // Bad escapes, in listed fields, unlisted fields and keys.
      R"({"type":"user",)" + a + R"(,"id":"u\x41"})",
      R"({"type":"user",)" + a + R"(,"id":"u\'"})",
      R"({"type":"user",)" + a + R"(,"id":"u1","note":"\u12"})",
      R"({"type":"user",)" + a + R"(,"id":"u1","note":"\uZZZZ"})",
      R"({"type":"user",)" + a + R"(,"id":"u1","note":"\U0041"})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n\q":1})",
      R"({"type":"user",)" + a + R"(,"id":"u1\"})",
      // Raw control characters inside strings and keys: TAB, U+0001, U+001F, NUL, U+0002.
      R"({"type":"user",)" + a + ",\"id\":\"u\t1\"}",
      R"({"type":"user",)" + a + ",\"id\":\"u1\",\"note\":\"a" + std::string(1, '\x01') + "b\"}",
      R"({"type":"user",)" + a + ",\"id\":\"u1\",\"note\":\"a\x1F\"}",
      R"({"type":"user",)" + a + ",\"id\":\"u1\",\"note\":\"a" + std::string(1, '\0') + "b\"}",
      R"({"type":"user",)" + a + ",\"id\":\"u1\",\"no\x02te\":1}",
      // Single quotes.
      R"({'type':'user','at':'2019-08-01T12:00:00Z','id':'u1'})",
      R"({"type":"user",)" + a + R"(,"id":'u1'})",
      // Number syntax: leading zeros, a bare minus, and other near misses.
      R"({"type":"user",)" + a + R"(,"id":"u1","n":01})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":-01})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":00})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":-})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":[-]})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":+1})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":.5})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":1.})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":1e})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":1e+})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":0x10})",
      R"({"type":"user",)" + a + R"(,"id":"u1","n":1_000})",
      R"({"type":"user",)" + a + R"(,"id":01})",  // a listed field with a bad number is still bad JSON
      // Literals.
      R"({"type":"user",)" + a + R"(,"id":"u1","b":tru})",
      R"({"type":"user",)" + a + R"(,"id":"u1","b":True})",
      R"({"type":"user",)" + a + R"(,"id":"u1","b":nul})",
      R"({"type":"user",)" + a + R"(,"id":"u1","b":nulll})",
      R"({"type":"user",)" + a + R"(,"id":"u1","b":undefined})",
      // Structure.
      R"({"type":"user",)" + a + R"(,"id":"u1",})",
      R"({"type":"user",)" + a + R"(,,"id":"u1"})",
      R"({"type":"user",)" + a + R"(,"id":"u1","l":[1,2,]})",
      R"({"type":"user",)" + a + R"(,"id":"u1","l":[1 2]})",
      R"({"type":"user",)" + a + R"(,"id":"u1","o":{"a" 1}})",
      R"({"type":"user",)" + a + R"(,"id":"u1","o":{"a":1})",
      R"({"type":"user",)" + a + R"(,"id":"u1","o":{1:2}})",
      R"({"type":"user" )" + a + R"(,"id":"u1"})",
      R"({"type":"user",)" + a + R"(,id:"u1"})",
      R"({"type":"user",)" + a + R"(,"id":"u1"/* comment */})",
      R"({"type":"user",)" + a + R"(,"id":"u1"} // comment)",
  };
  for (const std::string& line : lines) EXPECT_EQ(Parse(line), "bad_json") << line;
}

TEST_F(LineParserTest, DeepNestingIsBadJson) {
  // RFC 8259 lets a parser limit nesting depth; far past any limit the line
  // must be rejected as bad_json (not crash, not be accepted).
  for (int depth : {5000, 100000}) {
    std::string line = R"({"type":"user",)" + std::string(kAt) + R"(,"id":"u1","deep":)";
    line += std::string(depth, '[') + std::string(depth, ']') + "}";
    EXPECT_EQ(Parse(line), "bad_json") << "depth " << depth;
    std::string objects = R"({"type":"user",)" + std::string(kAt) + R"(,"id":"u1","deep":)";
    for (int i = 0; i < depth; ++i) objects += R"({"a":)";
    objects += "1" + std::string(depth, '}') + "}";
    EXPECT_EQ(Parse(objects), "bad_json") << "depth " << depth;
  }
  // Unbalanced deep nesting as well.
  EXPECT_EQ(Parse(std::string(100000, '[')), "bad_json");
}

TEST_F(LineParserTest, ModerateNestingIsValidJson) {
  std::string line = R"({"type":"user",)" + std::string(kAt) + R"(,"id":"u1","deep":)";
  line +=
      std::string(20, '[') + R"({"a":{"b":[null,true,false,-0,1.5e-3,"x"]}})" + std::string(20, ']') + "}";
  EXPECT_EQ(Parse(line), "accepted");
}

TEST_F(LineParserTest, NonObjectDocumentsAreBadJson) {
  for (const char* line : {"[]", R"([{"type":"user","at":"2019-08-01T12:00:00Z","id":"u1"}])", R"("user")",
                           "42", "-1.5", "null", "true", "false", R"("{\"type\":\"user\"}")"}) {
    EXPECT_EQ(Parse(line), "bad_json") << line;
  }
}

TEST_F(LineParserTest, ValidJsonDetailsAreAccepted) {
  const std::string a(kAt);
  const std::vector<std::string> lines = {
      // Whitespace around and inside the object (space and tab are JSON whitespace).
      "  " + Minimal("user") + "  ",
      "\t{ \"type\" : \"user\" ,\t" + a + " , \"id\" : \"u1\" }\t",
      // Every kind of unlisted value, numbers of every valid shape.
      R"({"type":"user",)" + a +
          R"(,"id":"u1","n":[0,-0,1,-1,1.5,-0.25,1e5,1E+5,1e-5,12345678901234567890123456789,1e400],)"
          R"("b":true,"f":false,"z":null,"o":{},"l":[],"s":""})",
      // Valid escapes in unlisted values and in keys.
      R"({"type":"user",)" + a + R"(,"id":"u1","s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00","k\n":1})",
      // DEL (0x7F) is not a control character in JSON.
      R"({"type":"user",)" + a + ",\"id\":\"u1\",\"s\":\"a\x7F\"}",
      // An empty key, and keys that only look like listed ones.
      R"({"type":"user",)" + a + R"(,"id":"u1","":1,"Type":5,"AT":null,"id ":3})",
  };
  for (const std::string& line : lines) EXPECT_EQ(Parse(line), "accepted") << line;
}

TEST_F(LineParserTest, EscapesInListedValuesAreDecoded) {
  ASSERT_EQ(
      Parse(R"({"type":"us\u0065r","at":"2019-08-01T12:00:00\u005a","id":"u\u0031","name":"a\"b\\c\/d"})"),
      "accepted");
  EXPECT_EQ(event_.type, EventType::kUser);
  EXPECT_EQ(event_.get(Field::kId), "u1");
  EXPECT_EQ(event_.get(Field::kName), "a\"b\\c/d");
}

// ---------------------------------------------------------------------------
// Rules 2 and 3: type and at.

TEST_F(LineParserTest, MissingTypeOrAtIsMissingField) {
  EXPECT_EQ(Parse(R"({"at":"2019-08-01T12:00:00Z","id":"u1"})"), "missing_field");
  EXPECT_EQ(Parse(R"({"type":"user","id":"u1"})"), "missing_field");
  EXPECT_EQ(Parse("{}"), "missing_field");
  EXPECT_EQ(Parse(R"({"Type":"user","At":"2019-08-01T12:00:00Z","id":"u1"})"), "missing_field");
}

TEST_F(LineParserTest, TypeOrAtNotAStringIsBadField) {
  for (const char* value : {"null", "1", "true", "[\"user\"]", "{\"t\":\"user\"}"}) {
    std::string bad_type = std::string(R"({"type":)") + value + R"(,"at":"2019-08-01T12:00:00Z","id":"u1"})";
    std::string bad_at = std::string(R"({"type":"user","at":)") + value + R"(,"id":"u1"})";
    EXPECT_EQ(Parse(bad_type), "bad_field") << bad_type;
    EXPECT_EQ(Parse(bad_at), "bad_field") << bad_at;
  }
  // A Unix time number is not an RFC 3339 string: bad_field, not bad_time.
  EXPECT_EQ(Parse(R"({"type":"user","at":1564660800,"id":"u1"})"), "bad_field");
}

TEST_F(LineParserTest, TypeOrAtTwiceIsBadField) {
  const std::string a(kAt);
  EXPECT_EQ(Parse(R"({"type":"user","type":"user",)" + a + R"(,"id":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(R"({"type":"user","type":"message",)" + a + R"(,"id":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(R"({"type":"user",)" + a + "," + a + R"(,"id":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(R"({"type":"user",)" + a + R"(,"id":"u1","at":"2019-08-02T12:00:00Z"})"), "bad_field");
  // The second copy is not a string.
  EXPECT_EQ(Parse(R"({"type":"user",)" + a + R"(,"id":"u1","type":null})"), "bad_field");
  // Duplicates spelled with escapes are the same key once decoded.
  EXPECT_EQ(Parse(R"({"type":"user","typ\u0065":"user",)" + a + R"(,"id":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(R"({"type":"user",)" + a + R"(,"\u0061t":"2019-08-01T12:00:00Z","id":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(R"({"\u0074\u0079\u0070\u0065":"user","type":"user",)" + a + R"(,"id":"u1"})"),
            "bad_field");
}

TEST_F(LineParserTest, EscapedKeysCountAsTheKeyTheyDecodeTo) {
  ASSERT_EQ(Parse(R"({"typ\u0065":"opt_out","\u0061t":"2019-08-01T12:00:00Z","\u0075ser":"u9"})"),
            "accepted");
  EXPECT_EQ(event_.type, EventType::kOptOut);
  EXPECT_EQ(event_.get(Field::kUser), "u9");
}

// ---------------------------------------------------------------------------
// Rule 4: unknown_type.

TEST_F(LineParserTest, UnknownTypeIsUnknownType) {
  const std::string a(kAt);
  for (const char* type : {"", "User", "USER", "users", "contract-started", "contractStarted", "opt-out", "message ",
                           " message", "proposal",
                           // each type's length with its last or first byte changed
                           "useR", "contract_starteD", "contract_endeD", "messagE", "opt_ouT", "opt_iN", "xser",
                           "xontract_started", "xontract_ended", "xessage", "xpt_out", "xpt_in"}) {
    std::string line = std::string(R"({"type":")") + type + "\"," + a + R"(,"id":"u1"})";
    EXPECT_EQ(Parse(line), "unknown_type") << line;
  }
}

// ---------------------------------------------------------------------------
// Rules 5 and 6: the fields of each type (spec section 1 table).

struct TypeFields {
  const char* type;
  std::vector<const char*> required;
  std::vector<const char*> optional;
};

const std::vector<TypeFields>& SpecTable() {
  static const std::vector<TypeFields> table = {
      {"user", {"id"}, {"role", "country", "tz", "email", "name", "kind"}},
      {"contract_started", {"contract", "client", "freelancer"}, {}},
      {"contract_ended", {"contract"}, {"reason"}},
      {"message", {"contract", "from"}, {"id"}},
      {"opt_out", {"user"}, {}},
      {"opt_in", {"user"}, {}},
  };
  return table;
}

// Builds an event of `type` holding the given key/JSON-value members.
std::string Build(std::string_view type, const std::vector<std::pair<std::string, std::string>>& members,
                  std::string_view at = "\"2019-08-01T12:00:00Z\"") {
  std::string line = std::string(R"({"type":")") + std::string(type) + R"(","at":)" + std::string(at);
  for (const auto& [k, v] : members) line += ",\"" + k + "\":" + v;
  return line + "}";
}

std::vector<std::pair<std::string, std::string>> RequiredMembers(const TypeFields& t) {
  std::vector<std::pair<std::string, std::string>> m;
  for (const char* f : t.required) m.emplace_back(f, std::string("\"v-") + f + "\"");
  return m;
}

TEST_F(LineParserTest, EachMissingRequiredFieldIsMissingField) {
  for (const TypeFields& t : SpecTable()) {
    for (size_t drop = 0; drop < t.required.size(); ++drop) {
      auto m = RequiredMembers(t);
      m.erase(m.begin() + static_cast<std::ptrdiff_t>(drop));
      EXPECT_EQ(Parse(Build(t.type, m)), "missing_field") << Build(t.type, m);
    }
  }
}

TEST_F(LineParserTest, RequiredFieldsOfAnotherTypeDoNotCount) {
  // `id` is required for user, but an opt_out needs `user`.
  EXPECT_EQ(Parse(Build("opt_out", {{"id", "\"u1\""}})), "missing_field");
  // `user` does not stand in for `id` either.
  EXPECT_EQ(Parse(Build("user", {{"user", "\"u1\""}})), "missing_field");
  // A message needs `from`; `client`/`freelancer` do not replace it.
  EXPECT_EQ(Parse(Build("message", {{"contract", "\"c1\""}, {"client", "\"u2\""}})), "missing_field");
}

TEST_F(LineParserTest, NullIsPresentButNotAString) {
  // Spec: "A field whose value is JSON null is present (and not a string)."
  // So a null required field is not missing (rule 5) but a bad field (rule 6).
  for (const TypeFields& t : SpecTable()) {
    for (size_t i = 0; i < t.required.size(); ++i) {
      auto m = RequiredMembers(t);
      m[i].second = "null";
      EXPECT_EQ(Parse(Build(t.type, m)), "bad_field") << Build(t.type, m);
    }
  }
}

TEST_F(LineParserTest, EachListedFieldNotAStringIsBadField) {
  for (const TypeFields& t : SpecTable()) {
    std::vector<const char*> listed = t.required;
    listed.insert(listed.end(), t.optional.begin(), t.optional.end());
    for (const char* field : listed) {
      for (const char* value : {"null", "7", "true", "false", "[]", "[\"x\"]", "{}", "{\"v\":\"x\"}"}) {
        auto m = RequiredMembers(t);
        bool replaced = false;
        for (auto& kv : m) {
          if (kv.first == field) kv.second = value, replaced = true;
        }
        if (!replaced) m.emplace_back(field, value);
        EXPECT_EQ(Parse(Build(t.type, m)), "bad_field") << Build(t.type, m);
      }
    }
  }
}

TEST_F(LineParserTest, EachListedFieldTwiceIsBadField) {
  for (const TypeFields& t : SpecTable()) {
    std::vector<const char*> listed = t.required;
    listed.insert(listed.end(), t.optional.begin(), t.optional.end());
    for (const char* field : listed) {
      auto m = RequiredMembers(t);
      m.emplace_back(field, "\"first\"");
      m.emplace_back(field, "\"second\"");
      EXPECT_EQ(Parse(Build(t.type, m)), "bad_field") << Build(t.type, m);
      // Same value twice is still twice.
      auto same = RequiredMembers(t);
      same.emplace_back(field, "\"v\"");
      same.emplace_back(field, "\"v\"");
      EXPECT_EQ(Parse(Build(t.type, same)), "bad_field") << Build(t.type, same);
    }
  }
  // Twice through an escaped spelling of the key.
  EXPECT_EQ(Parse(Build("user", {{"id", "\"u1\""}, {"\\u0069d", "\"u1\""}})), "bad_field");
  EXPECT_EQ(Parse(Build("message", {{"contract", "\"c1\""}, {"from", "\"u2\""}, {"fro\\u006d", "\"u1\""}})),
            "bad_field");
}

TEST_F(LineParserTest, OptionalFieldsAreAcceptedAndExtracted) {
  ASSERT_EQ(Parse(Build("user", {{"id", "\"u1\""},
                                 {"role", "\"freelancer\""},
                                 {"country", "\"in\""},
                                 {"tz", "\"Asia/Kolkata\""},
                                 {"email", "\"a@example.com\""},
                                 {"name", "\"Asha\""},
                                 {"kind", "\"agency\""}})),
            "accepted");
  EXPECT_EQ(event_.type, EventType::kUser);
  EXPECT_EQ(event_.get(Field::kId), "u1");
  EXPECT_EQ(event_.get(Field::kRole), "freelancer");
  EXPECT_EQ(event_.get(Field::kCountry), "in");
  EXPECT_EQ(event_.get(Field::kTz), "Asia/Kolkata");
  EXPECT_EQ(event_.get(Field::kEmail), "a@example.com");
  EXPECT_EQ(event_.get(Field::kName), "Asha");
  EXPECT_EQ(event_.get(Field::kKind), "agency");

  ASSERT_EQ(Parse(Build("user", {{"id", "\"u1\""}})), "accepted");
  EXPECT_TRUE(event_.has(Field::kId));
  for (Field f : {Field::kRole, Field::kCountry, Field::kTz, Field::kEmail, Field::kName, Field::kKind}) {
    EXPECT_FALSE(event_.has(f));
  }

  ASSERT_EQ(Parse(Build("contract_started",
                        {{"contract", "\"c1\""}, {"client", "\"u2\""}, {"freelancer", "\"u1\""}})),
            "accepted");
  EXPECT_EQ(event_.type, EventType::kContractStarted);
  EXPECT_EQ(event_.get(Field::kContract), "c1");
  EXPECT_EQ(event_.get(Field::kClient), "u2");
  EXPECT_EQ(event_.get(Field::kFreelancer), "u1");

  ASSERT_EQ(Parse(Build("contract_ended", {{"contract", "\"c1\""}, {"reason", "\"completed\""}})),
            "accepted");
  EXPECT_EQ(event_.type, EventType::kContractEnded);
  EXPECT_EQ(event_.get(Field::kReason), "completed");
  ASSERT_EQ(Parse(Build("contract_ended", {{"contract", "\"c1\""}})), "accepted");
  EXPECT_FALSE(event_.has(Field::kReason));

  ASSERT_EQ(Parse(Build("message", {{"contract", "\"c1\""}, {"from", "\"u2\""}, {"id", "\"m7\""}})),
            "accepted");
  EXPECT_EQ(event_.type, EventType::kMessage);
  EXPECT_EQ(event_.get(Field::kContract), "c1");
  EXPECT_EQ(event_.get(Field::kFrom), "u2");
  EXPECT_EQ(event_.get(Field::kId), "m7");

  ASSERT_EQ(Parse(Build("opt_out", {{"user", "\"u1\""}})), "accepted");
  EXPECT_EQ(event_.type, EventType::kOptOut);
  EXPECT_EQ(event_.get(Field::kUser), "u1");
  ASSERT_EQ(Parse(Build("opt_in", {{"user", "\"u1\""}})), "accepted");
  EXPECT_EQ(event_.type, EventType::kOptIn);
  EXPECT_EQ(event_.get(Field::kUser), "u1");
}

TEST_F(LineParserTest, FieldValuesAreNotCheckedAgainstTheirMeaning) {
  // role/country/kind/tz/reason carry free strings at this stage: the spec
  // lists example values but no rule rejects others.
  EXPECT_EQ(Parse(Build("user", {{"id", "\"u1\""},
                                 {"role", "\"admin\""},
                                 {"country", "\"Narnia\""},
                                 {"tz", "\"Mars/Olympus\""},
                                 {"kind", "\"\""}})),
            "accepted");
  EXPECT_EQ(Parse(Build("contract_ended", {{"contract", "\"c1\""}, {"reason", "\"whatever\""}})), "accepted");
  // An empty string is still a string.
  EXPECT_EQ(Parse(Build("user", {{"id", "\"\""}})), "accepted");
}

TEST_F(LineParserTest, UnlistedFieldsOfAnyTypeAreIgnored) {
  for (const TypeFields& t : SpecTable()) {
    for (const char* value : {"null", "1", "\"s\"", "[1,[2]]", "{\"a\":{\"b\":null}}", "true"}) {
      auto m = RequiredMembers(t);
      m.emplace_back("extra", value);
      m.emplace_back("source", value);
      EXPECT_EQ(Parse(Build(t.type, m)), "accepted") << Build(t.type, m);
    }
  }
  // Fields listed only for other types are unlisted here: any value, any count.
  EXPECT_EQ(Parse(Build("opt_out", {{"user", "\"u1\""}, {"id", "5"}, {"id", "null"}, {"contract", "[]"}})),
            "accepted");
  EXPECT_FALSE(event_.has(Field::kId));
  EXPECT_FALSE(event_.has(Field::kContract));
  EXPECT_EQ(Parse(Build("contract_started", {{"contract", "\"c1\""},
                                             {"client", "\"u2\""},
                                             {"freelancer", "\"u1\""},
                                             {"reason", "1"},
                                             {"from", "null"},
                                             {"tz", "{}"}})),
            "accepted");
  EXPECT_EQ(Parse(Build("message", {{"contract", "\"c1\""},
                                    {"from", "\"u2\""},
                                    {"user", "false"},
                                    {"client", "\"a\""},
                                    {"client", "\"b\""}})),
            "accepted");
  EXPECT_EQ(Parse(Build("user", {{"id", "\"u1\""},
                                 {"contract", "1"},
                                 {"from", "2"},
                                 {"user", "3"},
                                 {"reason", "4"},
                                 {"client", "5"},
                                 {"freelancer", "6"}})),
            "accepted");
}

TEST_F(LineParserTest, DuplicatedUnlistedAndNestedKeysAreFine) {
  EXPECT_EQ(Parse(Build("user", {{"id", "\"u1\""}, {"x", "1"}, {"x", "\"two\""}, {"x", "null"}})),
            "accepted");
  // Nested objects may repeat keys, including listed names: only top-level
  // members are fields.
  EXPECT_EQ(Parse(Build("user", {{"id", "\"u1\""}, {"meta", R"({"id":1,"id":2,"type":null,"at":[]})"}})),
            "accepted");
  EXPECT_EQ(event_.get(Field::kId), "u1");
  EXPECT_EQ(Parse(Build("message", {{"contract", "\"c1\""},
                                    {"from", "\"u2\""},
                                    {"nested", R"([{"from":1},{"from":2,"from":3}])"}})),
            "accepted");
  EXPECT_EQ(event_.get(Field::kFrom), "u2");
}

// ---------------------------------------------------------------------------
// Rule 7: bad_time, and the accepted timestamp forms.

TEST_F(LineParserTest, UnparseableAtIsBadTime) {
  for (const char* at : {"2019-08-01 12:00:00Z",      // space instead of T
                         "2019-06-30T23:59:60Z",      // leap second
                         "2016-12-31T23:59:60Z",      // a real leap second is still not accepted
                         "2019-08-01T12:00:00",       // no zone
                         "2019-02-29T12:00:00Z",      // not a leap year
                         "2019-04-31T12:00:00Z",      // April has 30 days
                         "2019-13-01T12:00:00Z",      // month 13
                         "2019-00-10T12:00:00Z",      // month 0
                         "2019-08-00T12:00:00Z",      // day 0
                         "2019-08-01T25:00:00Z",      // hour 25
                         "2019-08-01T12:60:00Z",      // minute 60
                         "2019-08-01T12:00Z",         // no seconds
                         "2019-08-01",                // date only
                         "2019-08-01T12:00:00+0530",  // offset without colon
                         "2019-08-01T12:00:00+05",    // offset without minutes
                         "2019-08-01T12:00:00.Z",     // empty fraction
                         "2019-08-01T12:00:00 Z",     // space before zone
                         "2019-08-01T12:00:00UTC",    // zone name
                         "2019-08-01T12:00:00Z ",     // trailing space
                         " 2019-08-01T12:00:00Z",     // leading space
                         "1564660800",                // Unix time as a string
                         "yesterday",
                         ""}) {
    std::string line = std::string(R"({"type":"user","at":")") + at + R"(","id":"u1"})";
    EXPECT_EQ(Parse(line), "bad_time") << line;
  }
}

TEST_F(LineParserTest, AtFormsTheSpecAllowsAreNormalisedToUtc) {
  struct Case {
    const char* at;
    Instant expected;
  };
  // 2019-08-01T12:00:00Z is 18109 days after the epoch plus 12 h:
  // 18109 * 86400 + 43200 = 1564660800 s.
  const Instant noon = 1564660800000;
  for (const Case& c : {
           Case{"2019-08-01T12:00:00Z", noon}, Case{"2019-08-01t12:00:00z", noon},  // lower-case t and z
           Case{"2019-08-01t12:00:00Z", noon}, Case{"2019-08-01T12:00:00z", noon},
           Case{"2019-08-01T17:30:00+05:30", noon},  // offsets are normalised to UTC
           Case{"2019-08-01T08:00:00-04:00", noon}, Case{"2019-08-01T12:00:00+00:00", noon},
           Case{"2019-08-01T12:00:00-00:00", noon}, Case{"2019-08-02T01:45:00+13:45", noon},
           Case{"2019-08-01T12:00:00.5Z", noon + 500},  // fractions
           Case{"2019-08-01T12:00:00.123Z", noon + 123},
           Case{"2019-08-01T12:00:00.1239Z", noon + 123},  // beyond ms: truncated, not rounded
           Case{"2019-08-01T12:00:00.999999999Z", noon + 999}, Case{"2019-08-01T12:00:00.000001Z", noon},
           Case{"2019-08-01T17:30:00.250+05:30", noon + 250},
           Case{"2019-08-01t17:30:00.250+05:30", noon + 250},
           Case{"2020-02-29T00:00:00Z", 1582934400000},  // leap day: 18321 days
       }) {
    std::string line = std::string(R"({"type":"user","at":")") + c.at + R"(","id":"u1"})";
    ASSERT_EQ(Parse(line), "accepted") << line;
    EXPECT_EQ(event_.at, c.expected) << line;
  }
}

// ---------------------------------------------------------------------------
// The first applicable reason wins.

TEST_F(LineParserTest, FirstApplicableReasonWins) {
  struct Case {
    std::string line;
    const char* expected;
    const char* why;
  };
  const std::vector<Case> cases = {
      // 1 over everything: the JSON is bad even though type/at are missing
      // or bad too.
      {R"({"id":"u1",)", "bad_json", "1 over 2"},
      {R"({"type":1,"at":2,"x":NaN})", "bad_json", "1 over 3"},
      {R"({"type":"bogus","at":"2019-08-01T12:00:00Z"} x)", "bad_json", "1 over 4"},
      {R"({"type":"user","at":"2019-08-01T12:00:00Z","x":01})", "bad_json", "1 over 5"},
      {R"({"type":"user","at":"2019-08-01T12:00:00Z","id":"u1","id":5,"x":[1,]})", "bad_json", "1 over 6"},
      {R"({"type":"user","at":"not a time","id":"u1","x":'y'})", "bad_json", "1 over 7"},
      {"{\"type\":\"user\",\"at\":\"2019-08-01T12:00:00Z\",\"id\":\"u\xC3\"}", "bad_json", "invalid UTF-8"},
      // 2 over 3..7.
      {R"({"type":5,"id":"u1"})", "missing_field", "2 over 3 (type not a string, at missing)"},
      {R"({"at":null})", "missing_field", "2 over 3 (at not a string, type missing)"},
      {R"({"type":"user","type":"user"})", "missing_field", "2 over 3 (type twice, at missing)"},
      {R"({"at":"x","type2":"bogus"})", "missing_field", "2 over 4/7"},
      {R"({"type":"bogus"})", "missing_field", "2 over 4"},
      // 3 over 4..7.
      {R"({"type":"bogus","at":5})", "bad_field", "3 over 4"},
      {R"({"type":"user","at":"x","at":"y"})", "bad_field", "3 over 5 and 7"},
      {R"({"type":["bogus"],"at":"2019-08-01T12:00:00Z"})", "bad_field", "3 over 4"},
      {R"({"type":"user","at":null,"id":5})", "bad_field", "3 over 6"},
      // 4 over 5..7.
      {R"({"type":"bogus","at":"never"})", "unknown_type", "4 over 7"},
      {R"({"type":"bogus","at":"2019-08-01T12:00:00Z","id":5,"id":6})", "unknown_type", "4 over 6"},
      // 5 over 6 and 7.
      {R"({"type":"message","at":"never","contract":5})", "missing_field", "5 over 6 and 7"},
      {R"({"type":"contract_started","at":"2019-08-01T12:00:00Z","contract":"c1","client":null})",
       "missing_field", "5 (freelancer missing) over 6 (client null)"},
      {R"({"type":"user","at":"2019-08-01 12:00:00Z","name":"x","name":"y"})", "missing_field",
       "5 over 6 and 7"},
      // 6 over 7.
      {R"({"type":"user","at":"2019-08-01 12:00:00Z","id":"u1","tz":null})", "bad_field", "6 over 7"},
      {R"({"type":"opt_in","at":"2019-02-30T00:00:00Z","user":"u1","user":"u1"})", "bad_field", "6 over 7"},
      // 7 alone.
      {R"({"type":"opt_in","at":"2019-02-30T00:00:00Z","user":"u1"})", "bad_time", "7"},
  };
  for (const Case& c : cases) EXPECT_EQ(Parse(c.line), c.expected) << c.why << ": " << c.line;
}

TEST_F(LineParserTest, ParserIsReusableAfterRejects) {
  EXPECT_EQ(Parse("{"), "bad_json");
  EXPECT_EQ(Parse(R"({"type":"user"})"), "missing_field");
  ASSERT_EQ(Parse(Build("user", {{"id", "\"u1\""}, {"name", "\"N\""}})), "accepted");
  ASSERT_EQ(Parse(Build("user", {{"id", "\"u2\""}})), "accepted");
  EXPECT_EQ(event_.get(Field::kId), "u2");
  EXPECT_FALSE(event_.has(Field::kName));  // nothing carried over from the previous event
}

// Plain lines ({"key":"value",...}) are read by a scanner of their quotes,
// others by simdjson: both readers must agree on every line the scanner takes.
TEST_F(LineParserTest, PlainAndGeneralFormsOfALineGiveTheSameEvent) {
  const std::string head = R"({"type":"message","at":"2019-08-01T12:00:00Z",)";
  const std::vector<std::string> lines = {
      head + R"("contract":"c1","from":"u1"})",  // plain
      head + R"( "contract":"c1","from":"u1"})",
      head + R"("contract":"\u0063\u0031","from":"u1"})",
      head + R"("contract":"c1","from":"u1","n":1})",
  };
  for (const std::string& line : lines) {
    ASSERT_EQ(Parse(line), "accepted") << line;
    EXPECT_EQ(event_.get(Field::kContract), "c1") << line;
    EXPECT_EQ(event_.get(Field::kFrom), "u1") << line;
    EXPECT_EQ(parser_.line(), line);
  }
  const std::string utf8 = head + R"("contract":"c1","from":"u)" + "\xc3\xa9" + R"("})";
  ASSERT_EQ(Parse(utf8), "accepted");
  EXPECT_EQ(event_.get(Field::kFrom), "u\xc3\xa9");
  // Plain in form but invalid: invalid UTF-8, a control character, an
  // unclosed string at the end.
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u)" + "\xc3" + R"("})"), "bad_json");
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u)" + "\x1f" + R"("})"), "bad_json");
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u1})"), "bad_json");
}

// The scanner reads a line 64 bytes at a time into the parser's buffer,
// which holds bytes of longer lines before it: strings across those blocks,
// lines of more strings than it takes, and a line cut short after a longer
// one are all judged as simdjson judges them.
TEST_F(LineParserTest, PlainLinesOfAnyLengthAndCutShortAreJudgedTheSame) {
  const std::string head = R"({"type":"message","at":"2019-08-01T12:00:00Z",)";
  for (std::size_t pad = 0; pad < 140; ++pad) {
    const std::string line = head + R"("x":")" + std::string(pad, 'a') + R"(","contract":"c1","from":"u1"})";
    ASSERT_EQ(Parse(line), "accepted") << line;
    EXPECT_EQ(event_.get(Field::kFrom), "u1") << line;
    for (std::size_t cut = 1; cut < 4; ++cut) {
      EXPECT_EQ(Parse(std::string_view(line).substr(0, line.size() - cut)), "bad_json") << cut << ": " << line;
    }
  }
  std::string many = head + R"("contract":"c1","from":"u1")";
  for (int i = 0; i < 100; ++i) many += R"(,"k":"v")";
  many += "}";
  ASSERT_EQ(Parse(many), "accepted");
  EXPECT_EQ(event_.get(Field::kContract), "c1");
  EXPECT_EQ(Parse(many.substr(0, many.size() - 1)), "bad_json");
}

// A seeded generator for the randomised tests: next(n) is in [0, n).
struct Xorshift64 {
  std::uint64_t state;
  std::uint64_t operator()(std::uint64_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % n;
  }
};

// What a parse gave, for comparing two parses of a line.
struct LineVerdict {
  RejectReason reason = RejectReason::kNone;
  EventType type = EventType::kUser;
  Instant at = 0;
  std::uint32_t present = 0;
  std::vector<std::string> fields;

  bool operator==(const LineVerdict&) const = default;
};

LineVerdict JudgeLine(LineParser& parser, std::string_view line, std::size_t capacity, bool copy) {
  Event e;
  LineVerdict o;
  o.reason = copy ? parser.parse_copy(line, e) : parser.parse(line, capacity, e);
  if (o.reason != RejectReason::kNone) return o;
  o.type = e.type;
  o.at = e.at;
  o.present = e.present;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (e.has(static_cast<Field>(f))) o.fields.emplace_back(e.get(static_cast<Field>(f)));
  }
  return o;
}

// Lines as Python's json.dumps writes them by default (a space after each
// ':' and ','), and with spaces wherever JSON allows them inside the
// object, mean what their compact form means.
TEST_F(LineParserTest, SpacesBetweenTokensChangeNothing) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"({"type":"message","at":"2019-08-01T12:00:00Z","contract":"c1","from":"u1","id":"m1"})",
       R"({"type": "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1", "id": "m1"})"},
      {R"({"type":"user","at":"2019-08-01T12:00:00Z","id":"fl1","role":"freelancer","tz":"Asia/Kolkata"})",
       R"({  "type"  :  "user"  ,  "at"  :  "2019-08-01T12:00:00Z"  ,"id":"fl1" , "role":  "freelancer","tz" :"Asia/Kolkata"  })"},
      {R"({"type":"contract_started","at":"2019-08-01T12:00:00Z","contract":"c1","client":"cl1","freelancer":"fl1"})",
       R"({ "type": "contract_started", "at": "2019-08-01T12:00:00Z", "contract": "c1", "client": "cl1", "freelancer": "fl1" })"},
  };
  for (const auto& [compact, spaced] : pairs) {
    ASSERT_EQ(Parse(compact), "accepted") << compact;
    const LineVerdict want = JudgeLine(parser_, compact, 0, true);
    EXPECT_EQ(JudgeLine(parser_, spaced, 0, true), want) << spaced;
  }
  // Spaces do not make a missing ':' or ',' whole, nor end a line early.
  EXPECT_EQ(Parse(R"({"type": "message" "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1"})"), "bad_json");
  EXPECT_EQ(Parse(R"({"type" "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1"})"), "bad_json");
  EXPECT_EQ(Parse(R"({"type": "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1" )"), "bad_json");
  EXPECT_EQ(Parse(R"({"type": "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1",})"), "bad_json");
  EXPECT_EQ(Parse(R"({"type": "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": , "u1"})"),
            "bad_json");
}

// The body of ScannerAgreesWithSimdjsonOnMutatedLines (below), with `parser`.
void CheckScannerAgainstSimdjsonOnMutatedLines(LineParser& parser) {
  const std::string head = R"({"type":"message","at":"2019-08-01T12:00:00Z",)";
  const std::vector<std::string> bases = {
      head + R"("contract":"c1","from":"u1"})",
      head + R"("contract":"c1","from":"u1","id":"m1","x":"a:b,c"})",
      R"({"type":"user","at":"2019-08-01T05:30:00+05:30","id":"fl1","role":"freelancer","country":"VN",)"
      R"("tz":"Asia/Ho_Chi_Minh","kind":"individual","email":"fl1@example.org","name":"Jose L)"
      "\xc3\xaa"
      R"("})",
      R"({"type":"contract_started","at":"2019-08-01T00:10:04.5Z","contract":"cx3","client":"cl1","freelancer":"fl1"})",
      R"({"type":"contract_ended","at":"2019-08-01T00:10:04Z","contract":"cx3","reason":"done"})",
      R"({"at":"2019-08-01T00:10:04Z","user":"u","type":"opt_out"})",
      head + R"("contract":"c1","from":"u1","pad":")" + std::string(430, 'p') + R"("})",
      // As Python's json.dumps writes lines: spaces after ':' and ','.
      R"({"type": "message", "at": "2019-08-01T12:00:00Z", "contract": "c1", "from": "u1", "id": "m1"})",
      R"({ "type" : "opt_in" ,  "at" :"2019-08-01T00:10:04Z","user"  :  "u" })",
  };
  // The bytes a mutation writes: structural, whitespace, control, non-ASCII,
  // and the terminating NUL.
  static constexpr char kBytes[] = "\"\\:,{} \t[]0a\x01\x1f\x7f\x80\xc3\xff";
  const std::string bytes(kBytes, sizeof kBytes);
  Xorshift64 next{88172645463325252u};
  LineParser other;
  std::size_t scanned_and_accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string line = bases[next(bases.size())];
    for (std::uint64_t m = next(3) + (round % 7 == 0 ? 0 : 1); m > 0; --m) {
      const std::size_t at = next(line.size());
      switch (next(3)) {
        case 0: line[at] = bytes[next(bytes.size())]; break;
        case 1: line.erase(at, 1); break;
        default: line.insert(at, 1, bytes[next(bytes.size())]);
      }
    }
    if (line.empty() || is_blank_line(line)) continue;
    const LineVerdict general = JudgeLine(other, " " + line, 0, true);
    const LineVerdict copied = JudgeLine(parser, line, 0, true);
    ASSERT_EQ(copied, general) << line;
    std::string buffer = line + std::string("\"\\\x01\xff\"\"\\\x80\"\\", 10) + std::string(64, '"');
    ASSERT_EQ(JudgeLine(parser, std::string_view(buffer).substr(0, line.size()), buffer.size(), false), general)
        << line;
    // No room past the line (it is copied first).
    ASSERT_EQ(JudgeLine(parser, buffer.substr(0, line.size()), line.size(), false), general) << line;
    if (general.reason == RejectReason::kNone && line[0] == '{') ++scanned_and_accepted;
  }
  EXPECT_GT(scanned_and_accepted, 1000u);  // the mutations leave many lines valid
}

// The scanner of plain lines against simdjson on lines mutated at random
// (a seeded generator): a line that starts with a space always goes to
// simdjson, and means the same JSON. Each mutated line is also parsed in a
// reader's buffer whose bytes after the line are quotes, backslashes,
// control and non-ASCII bytes (the scanner reads whole 64-byte blocks
// there), in a buffer without room after it, and by parse_copy: all must
// agree, with the SSE2 copy and with the AVX2 one (where the CPU has it).
TEST_F(LineParserTest, ScannerAgreesWithSimdjsonOnMutatedLines) {
  const bool avx2 = LineParser::use_avx2(false);
  for (const bool use_avx2 : {false, true}) {
    LineParser::use_avx2(use_avx2);
    SCOPED_TRACE(use_avx2 ? "AVX2 copy" : "SSE2 copy");
    CheckScannerAgainstSimdjsonOnMutatedLines(parser_);
  }
  LineParser::use_avx2(avx2);
}

// Lines in the usual layout of their type ({"type":...,"at":..., then the
// type's listed keys in the simulator's order) are read by a shortcut that does
// not count keys: against simdjson on such lines with fields dropped,
// repeated, swapped, renamed to another type's or an unlisted key, or cut,
// and with bytes changed at random near the keys. A shortcut that took a
// repeated, missing, out-of-order or unlisted key, or mapped a key to the
// wrong field, would differ here.
TEST_F(LineParserTest, UsualLayoutShortcutAgreesWithSimdjsonOnEditedFields) {
  using Members = std::vector<std::pair<std::string, std::string>>;
  const std::vector<std::pair<std::string, Members>> bases = {
      {"message", {{"contract", "c1"}, {"from", "cl2"}, {"id", "m3"}}},
      {"contract_started", {{"contract", "c1"}, {"client", "cl2"}, {"freelancer", "fl3"}}},
      {"contract_ended", {{"contract", "c1"}, {"reason", "completed"}}},
      {"user",
       {{"id", "fl1"},
        {"role", "freelancer"},
        {"country", "VN"},
        {"tz", "Asia/Ho_Chi_Minh"},
        {"kind", "individual"},
        {"email", "fl1@example.org"},
        {"name", "Jose L\xc3\xaa"}}},
      {"opt_out", {{"user", "fl1"}}},
      {"opt_in", {{"user", "fl1"}}},
  };
  const std::vector<std::string> keys = {"id",     "role",   "country", "tz",   "email", "name", "kind", "contract",
                                         "client", "reason", "from",    "user", "type",  "at",   "x",    "freelancer"};
  const std::vector<std::string> times = {"2019-08-01T12:00:00Z", "2019-08-01T12:00:00.5+05:30", "2019-02-30T00:00:00Z",
                                          "2019-08-01"};
  Xorshift64 next{2463534242u};
  LineParser other;
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const auto& [type, base] = bases[next(bases.size())];
    Members members = base;
    for (std::uint64_t m = next(3); m > 0; --m) {
      const std::size_t i = next(members.size());
      switch (next(5)) {
        case 0: members.erase(members.begin() + static_cast<std::ptrdiff_t>(i)); break;
        case 1:
          members.insert(members.begin() + static_cast<std::ptrdiff_t>(next(members.size() + 1)),
                         base[next(base.size())]);
          break;
        case 2: std::swap(members[i], members[next(members.size())]); break;
        case 3: members[i].first = keys[next(keys.size())]; break;
        default: members[i].second = members[i].second.substr(0, next(members[i].second.size() + 1));
      }
      if (members.empty()) members = base;
    }
    std::string line = R"({"type":")" + type + R"(","at":")" + times[next(times.size())] + "\"";
    for (const auto& [key, value] : members) line += ",\"" + key + "\":\"" + value + "\"";
    line += "}";
    if (next(4) == 0) {  // a byte changed near the keys
      static constexpr char kBytes[] = "\"\\:,{} a\x01\xc3";
      const std::size_t at = 30 + next(line.size() - 30);
      line[at] = kBytes[next(sizeof kBytes - 1)];
    }
    if (next(8) == 0) line.resize(line.size() - 1 - next(3));  // cut short
    const LineVerdict general = JudgeLine(other, " " + line, 0, true);
    ASSERT_EQ(JudgeLine(parser_, line, 0, true), general) << line;
    if (general.reason == RejectReason::kNone) ++accepted;
  }
  EXPECT_GT(accepted, 3000u);
  // Each shape once, by its outcome: the shortcut must not take these.
  const std::string head = R"({"type":"message","at":"2019-08-01T12:00:00Z",)";
  EXPECT_EQ(Parse(head + R"("contract":"c1","contract":"c2","from":"u1"})"), "bad_field");
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u1","from":"u2"})"), "bad_field");
  EXPECT_EQ(Parse(head + R"("contract":"c1","id":"m1"})"), "missing_field");
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u1","type":"user"})"), "bad_field");
  EXPECT_EQ(Parse(head + R"("contract":"c1","from":"u1","at":"2019-08-01T12:00:00Z"})"), "bad_field");
  ASSERT_EQ(Parse(head + R"("from":"u1","contract":"c1","reason":"r"})"), "accepted");
  EXPECT_EQ(event_.present,
            (1u << static_cast<unsigned>(Field::kContract)) | (1u << static_cast<unsigned>(Field::kFrom)));
  EXPECT_EQ(Parse(R"({"type":"message","at":"2019-08-01T25:00:00Z","contract":"c1","from":"u1"})"), "bad_time");
}

// ---------------------------------------------------------------------------
// Blank lines.

TEST(LineParserBlankLine, OnlySpacesAndTabsAreBlank) {
  for (std::string_view blank : {"", " ", "\t", "  \t \t  ", "\t\t"}) {
    EXPECT_TRUE(is_blank_line(blank)) << '"' << blank << '"';
  }
  // Other whitespace is not in the spec's list; the reader has already
  // removed the one trailing CR, so a remaining CR is a character.
  const std::vector<std::string_view> not_blanks = {" x",  "x",  "{}",       "\v", "\f",
                                                    " \r", "\r", "\xC2\xA0", "\n", std::string_view("\0", 1)};
  for (std::string_view not_blank : not_blanks) {
    EXPECT_FALSE(is_blank_line(not_blank)) << '"' << not_blank << '"';
  }
}

// ---------------------------------------------------------------------------
// LineReader.

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gw_line_reader_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(std::string_view bytes) {
    std::string path = (dir_ / "events.ndjson").string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  struct Line {
    std::uint64_t number;
    std::string text;
  };

  // Reads every line, checking that the padding after each is readable.
  std::vector<Line> ReadAll(const std::string& path, std::size_t buffer_bytes) {
    LineReader reader;
    Status s = reader.open(path, buffer_bytes);
    EXPECT_TRUE(s.is_ok()) << s.message();
    std::vector<Line> lines;
    std::string_view line;
    std::size_t capacity = 0;
    while (reader.next(line, capacity)) {
      EXPECT_GE(capacity, line.size() + simdjson::SIMDJSON_PADDING);
      // Touch every padding byte: under AddressSanitizer an unreadable byte fails here.
      unsigned sum = 0;
      for (std::size_t i = line.size(); i < line.size() + simdjson::SIMDJSON_PADDING; ++i) {
        sum += static_cast<unsigned char>(line.data()[i]);
      }
      (void)sum;
      lines.push_back({reader.line_number(), std::string(line)});
    }
    EXPECT_TRUE(reader.status().is_ok()) << reader.status().message();
    return lines;
  }

  std::filesystem::path dir_;
};

TEST_F(LineReaderTest, RemovesOneTrailingCrCountsBlankLinesAndReadsALastLineWithoutNewline) {
  const std::string path = Write("a\r\n\n  \t\r\nb\r\r\nc\rd\n\r\nlast");
  for (std::size_t buffer :
       {std::size_t{1}, std::size_t{3}, std::size_t{7}, LineReader::kDefaultBufferBytes}) {
    std::vector<Line> lines = ReadAll(path, buffer);
    ASSERT_EQ(lines.size(), 7u) << "buffer " << buffer;
    const std::vector<std::string> expected = {"a", "", "  \t", "b\r", "c\rd", "", "last"};
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].number, i + 1) << "buffer " << buffer;
      EXPECT_EQ(lines[i].text, expected[i]) << "line " << i + 1 << ", buffer " << buffer;
    }
  }
}

TEST_F(LineReaderTest, LastLineWithoutNewlineLosesItsCr) {
  std::vector<Line> lines = ReadAll(Write("x\nlast\r"), 4);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].text, "last");
}

TEST_F(LineReaderTest, FinalNewlineDoesNotAddALine) {
  std::vector<Line> lines = ReadAll(Write("one\ntwo\n"), 64);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "one");
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_TRUE(ReadAll(Write(""), 64).empty());
  std::vector<Line> blank = ReadAll(Write("\n\n"), 64);
  ASSERT_EQ(blank.size(), 2u);
  EXPECT_EQ(blank[1].number, 2u);
}

TEST_F(LineReaderTest, LinesLongerThanTheBufferAreReadWhole) {
  std::string long_line(10000, 'x');
  long_line[0] = 'A';
  long_line.back() = 'Z';
  const std::string medium(300, 'm');
  const std::string path = Write("short\n" + long_line + "\r\n" + medium + "\n\n" + long_line);
  std::vector<Line> lines = ReadAll(path, 16);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].text, "short");
  EXPECT_EQ(lines[1].text, long_line);
  EXPECT_EQ(lines[2].text, medium);
  EXPECT_EQ(lines[3].text, "");
  EXPECT_EQ(lines[4].text, long_line);
  EXPECT_EQ(lines[4].number, 5u);
}

TEST_F(LineReaderTest, LinesParseInPlaceWithTheReadersPadding) {
  const std::string event = R"({"type":"user","at":"2019-08-01T12:00:00Z","id":"u1"})";
  const std::string path = Write(event + "\r\n\n  \n" + event + "x\n" + event);
  LineReader reader;
  ASSERT_TRUE(reader.open(path, 8).is_ok());
  LineParser parser;
  std::vector<std::string> outcomes;
  std::string_view line;
  std::size_t capacity;
  while (reader.next(line, capacity)) {
    if (is_blank_line(line)) {
      outcomes.push_back(std::to_string(reader.line_number()) + ":blank");
      continue;
    }
    Event ev;
    outcomes.push_back(std::to_string(reader.line_number()) + ":" + Name(parser.parse(line, capacity, ev)));
  }
  EXPECT_EQ(outcomes,
            (std::vector<std::string>{"1:accepted", "2:blank", "3:blank", "4:bad_json", "5:accepted"}));
  EXPECT_EQ(reader.bytes_read(), (event.size() + 2) + 1 + 3 + (event.size() + 2) + event.size());
}

TEST_F(LineReaderTest, MissingFileIsAnError) {
  LineReader reader;
  EXPECT_FALSE(reader.open((dir_ / "does-not-exist.ndjson").string()).is_ok());
}

}  // namespace
}  // namespace gw
