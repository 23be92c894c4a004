// JSON text helpers and atomic output files: string escaping for the NDJSON
// outputs (spec section 5), U+FFFD replacement of invalid UTF-8 in `raw`
// (spec section 1), and output files that appear complete or not at all
// (spec section 6).
#include "ghostwatch/core/json_text.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/output/record_json.h"

namespace gw {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Decodes a JSON string literal with simdjson (an independent parser).
bool Decode(const std::string& literal, std::string& decoded) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(literal).get(e)) return false;
  std::string_view v;
  if (e.get_string().get(v)) return false;
  decoded = std::string(v);
  return true;
}

// ---------------------------------------------------------------------------
// append_json_string

TEST(JsonTextTest, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(Json(""), R"("")");
  EXPECT_EQ(Json("plain"), R"("plain")");
  EXPECT_EQ(Json(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(Json(R"(C:\dir\)"), R"("C:\\dir\\")");
  EXPECT_EQ(Json(R"(\")"), R"("\\\"")");
}

TEST(JsonTextTest, ControlCharactersAreEscaped) {
  // Characters without a short JSON escape are written \u00XX (hex digits in
  // either case are valid JSON, so compare case-insensitively).
  EXPECT_EQ(Lower(Json(std::string_view("\0", 1))), R"("\u0000")");
  EXPECT_EQ(Lower(Json("\x01")), R"("\u0001")");
  EXPECT_EQ(Lower(Json(std::string("a\x1F") + "b")), R"("a\u001fb")");
  EXPECT_EQ(Lower(Json("\x0B")), R"("\u000b")");
  EXPECT_EQ(Lower(Json("\x1B[0m")), R"("\u001b[0m")");
  // \n, \r, \t, \b, \f may use either form; both are valid JSON.
  struct ShortEscape {
    char c;
    const char* short_form;
    const char* long_form;
  };
  for (const ShortEscape& e : {ShortEscape{'\n', R"("\n")", R"("\u000a")"},
                               ShortEscape{'\r', R"("\r")", R"("\u000d")"},
                               ShortEscape{'\t', R"("\t")", R"("\u0009")"},
                               ShortEscape{'\b', R"("\b")", R"("\u0008")"},
                               ShortEscape{'\f', R"("\f")", R"("\u000c")"}}) {
    const std::string out = Json(std::string(1, e.c));
    EXPECT_TRUE(out == e.short_form || Lower(out) == e.long_form)
        << "char " << static_cast<int>(e.c) << " written as " << out;
  }
  // DEL (0x7F) is not a JSON control character: written as it is.
  EXPECT_EQ(Json("\x7F"), "\"\x7F\"");
}

TEST(JsonTextTest, NonAsciiIsWrittenAsItIs) {
  EXPECT_EQ(Json("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(Json("\xE2\x82\xAC 5"), "\"\xE2\x82\xAC 5\"");
  EXPECT_EQ(Json("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Json("\xE2\x80\xA8"), "\"\xE2\x80\xA8\"");  // U+2028 is valid unescaped in JSON
}

TEST(JsonTextTest, EveryAsciiCharacterRoundTrips) {
  std::string all;
  for (int c = 0; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xF0\x9F\x98\x80";
  const std::string literal = Json(all);
  // No raw control character survives in the output.
  for (char c : literal) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << static_cast<int>(c);
  std::string decoded;
  ASSERT_TRUE(Decode(literal, decoded)) << literal;
  EXPECT_EQ(decoded, all);
}

TEST(JsonTextTest, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string(out, "v");
  EXPECT_EQ(out, R"({"k":"v")");
}

// The escaping scans 8 bytes at a time: every byte value at every offset of
// strings shorter than, equal to and longer than a word must come out as the
// byte-at-a-time reference writes it.
TEST(JsonTextTest, EveryByteAtEveryOffsetMatchesReference) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20) {
        char esc[7];
        std::snprintf(esc, sizeof esc, "\\u%04x", c);
        out += esc;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  for (std::size_t len : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 24}) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        ASSERT_EQ(Json(s), reference(s)) << "len " << len << " at " << at << " byte " << c;
        std::string buf(json_string_max_size(s.size()), '\0');
        char* end = write_json_string(buf.data(), s);
        ASSERT_EQ(std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())), reference(s));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// append_utf8_replacing_invalid

std::string Replaced(std::string_view s) {
  std::string out;
  append_utf8_replacing_invalid(out, s);
  return out;
}

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string Fffd(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += kFffd;
  return s;
}

TEST(JsonTextTest, ValidUtf8IsCopied) {
  // Expected values checked once with /usr/bin/python3:
  //   b'...'.decode('utf-8', 'replace').encode('utf-8')
  for (std::string_view ok :
       {std::string_view(""), std::string_view("plain ascii"), std::string_view("caf\xC3\xA9"),
        std::string_view("\xC2\x80"),          // U+0080, smallest 2-byte
        std::string_view("\xE0\xA0\x80"),      // U+0800, smallest 3-byte
        std::string_view("\xED\x9F\xBF"),      // U+D7FF, just below the surrogates
        std::string_view("\xEE\x80\x80"),      // U+E000, just above them
        std::string_view("\xEF\xBF\xBF"),      // U+FFFF
        std::string_view("\xF0\x90\x80\x80"),  // U+10000, smallest 4-byte
        std::string_view("\xF4\x8F\xBF\xBF"),  // U+10FFFF, the largest
        std::string_view("\xF0\x9F\x98\x80"),  // an emoji
        std::string_view("x\0y", 3)}) {        // NUL is valid UTF-8
    EXPECT_EQ(Replaced(ok), std::string(ok));
  }
}

TEST(JsonTextTest, InvalidUtf8IsReplacedPerMaximalSubpart) {
  // Each expected value was checked once with /usr/bin/python3:
  //   b'...'.decode('utf-8', 'replace').encode('utf-8')
  struct Case {
    std::string_view in;
    std::string out;
  };
  const Case cases[] = {
      {"a\x80"
       "b",
       "a" + Fffd(1) + "b"},                       // lone continuation byte
      {"\x80\x80", Fffd(2)},                       // two of them: one each
      {"\xC0\xAF", Fffd(2)},                       // overlong '/': C0 is never valid
      {"\xC1\xBF", Fffd(2)},                       // C1 is never valid
      {"\xE0\x80\x80", Fffd(3)},                   // overlong 3-byte: 80 is not a valid 2nd byte after E0
      {"\xE0\x9F\xBF", Fffd(3)},                   // likewise
      {"\xED\xA0\x80", Fffd(3)},                   // UTF-8-encoded surrogate U+D800
      {"\xF0\x80\x80\x80", Fffd(4)},               // overlong 4-byte
      {"\xF4\x90\x80\x80", Fffd(4)},               // above U+10FFFF
      {"\xF5\x80\x80\x80", Fffd(4)},               // F5 is never valid
      {"\xF8\x88\x80\x80\x80", Fffd(5)},           // old 5-byte form
      {"\xFF\xFE", Fffd(2)},                       // bytes that never occur
      {"\xC3", Fffd(1)},                           // truncated 2-byte at the end
      {"\xE2\x82", Fffd(1)},                       // truncated 3-byte: one replacement for the subpart
      {"\xE2\x82x", Fffd(1) + "x"},                // truncated 3-byte before ASCII
      {"\xF0\x9F\x98", Fffd(1)},                   // truncated 4-byte
      {"ab\xF1\x80\x80", "ab" + Fffd(1)},          // truncated 4-byte after ASCII
      {"\xC3\xA9\xE2\x82", "\xC3\xA9" + Fffd(1)},  // valid, then truncated
      {"\xE2\x82\xAC\xE2\x82", "\xE2\x82\xAC" + Fffd(1)},
      // The Unicode Standard's own example (chapter 3, "U+FFFD Substitution of
      // Maximal Subparts"): E1 80 | E2 | F0 91 92 | F1 BF | 41.
      {"\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", Fffd(4) + "A"},
  };
  for (const Case& c : cases) {
    std::string hex;
    for (unsigned char b : c.in) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%02X ", b);
      hex += buf;
    }
    EXPECT_EQ(Replaced(c.in), c.out) << "input bytes " << hex;
  }
}

TEST(JsonTextTest, ReplacedTextIsValidUtf8AndEscapesCleanly) {
  std::string raw = "{\"type\":\"user\",\"id\":\"\xFF\xC3\"}\x01";
  std::string clean = Replaced(raw);
  EXPECT_TRUE(simdjson::validate_utf8(clean.data(), clean.size()));
  std::string decoded;
  ASSERT_TRUE(Decode(Json(clean), decoded));
  EXPECT_EQ(decoded, clean);
}

// ---------------------------------------------------------------------------
// AtomicFile

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gw_atomic_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "actions.ndjson").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AtomicFileTest, NothingUnderTheFinalNameBeforeCommit) {
  AtomicFile f;
  ASSERT_TRUE(f.open(path_).is_ok());
  EXPECT_TRUE(f.is_open());
  f.write("line 1\n");
  f.write("line 2\n");
  EXPECT_FALSE(std::filesystem::exists(path_));
  // The bytes go to a temporary file beside it.
  std::vector<std::string> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0], "actions.ndjson");

  ASSERT_TRUE(f.commit().is_ok());
  EXPECT_EQ(Read(path_), "line 1\nline 2\n");
  EXPECT_EQ(Entries(), std::vector<std::string>{"actions.ndjson"});  // temporary file gone
}

TEST_F(AtomicFileTest, AFifoOrDeviceIsWrittenDirectlyNeverReplaced) {
  // `--out /dev/null` once renamed a file over the device; a FIFO stands in for it.
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = Read(path_); });
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(path_).is_ok());
    f.write("through the pipe\n");
    ASSERT_TRUE(f.commit().is_ok());
  }
  reader.join();
  EXPECT_EQ(received, "through the pipe\n");
  EXPECT_TRUE(std::filesystem::is_fifo(path_));
  EXPECT_EQ(Entries(), std::vector<std::string>{"actions.ndjson"}) << "no temporary file beside it";
}

TEST_F(AtomicFileTest, EmptyCommitCreatesAnEmptyFile) {
  AtomicFile f;
  ASSERT_TRUE(f.open(path_).is_ok());
  ASSERT_TRUE(f.commit().is_ok());
  ASSERT_TRUE(std::filesystem::exists(path_));
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(AtomicFileTest, LargeOutputThroughWriteAndBuffer) {
  std::string expected;
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(path_).is_ok());
    for (int i = 0; i < 60000; ++i) {
      std::string line = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 50, 'x') + "\"}\n";
      expected += line;
      if (i % 2 == 0) {
        f.write(line);
      } else {
        f.buffer() += line;
        f.maybe_flush();
      }
    }
    ASSERT_GT(expected.size(), 2 * AtomicFile::kBufferBytes);  // several flushes happened
    EXPECT_FALSE(std::filesystem::exists(path_));
    ASSERT_TRUE(f.commit().is_ok());
  }
  EXPECT_EQ(Read(path_), expected);
  EXPECT_EQ(Entries(), std::vector<std::string>{"actions.ndjson"});
}

TEST_F(AtomicFileTest, DiscardLeavesNothing) {
  AtomicFile f;
  ASSERT_TRUE(f.open(path_).is_ok());
  f.write(std::string(3 * AtomicFile::kBufferBytes, 'x'));  // some of it already on disk
  f.discard();
  EXPECT_FALSE(f.is_open());
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AtomicFileTest, TemporaryFileIsRemovedOnDestruction) {
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(path_).is_ok());
    f.write(std::string(2 * AtomicFile::kBufferBytes + 17, 'y'));
    EXPECT_EQ(Entries().size(), 1u);
  }
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AtomicFileTest, AnExistingFileIsReplacedOnlyOnCommit) {
  {
    std::ofstream old(path_, std::ios::binary);
    old << "old complete output\n";
  }
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(path_).is_ok());
    f.write("new ");
    f.write(std::string(2 * AtomicFile::kBufferBytes, 'n'));
    EXPECT_EQ(Read(path_), "old complete output\n");  // never a half-written file under the final name
    ASSERT_TRUE(f.commit().is_ok());
  }
  EXPECT_EQ(Read(path_), "new " + std::string(2 * AtomicFile::kBufferBytes, 'n'));

  // Not committed: the old file stays as it was.
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(path_).is_ok());
    f.write("abandoned");
  }
  EXPECT_EQ(Read(path_), "new " + std::string(2 * AtomicFile::kBufferBytes, 'n'));
  EXPECT_EQ(Entries(), std::vector<std::string>{"actions.ndjson"});
}

TEST_F(AtomicFileTest, OpenFailsInAMissingDirectory) {
  AtomicFile f;
  Status s = f.open((dir_ / "no-such-dir" / "out.ndjson").string());
  EXPECT_FALSE(s.is_ok());
  EXPECT_FALSE(f.is_open());
  EXPECT_FALSE(f.commit().is_ok());
}

// Records of every size: short ids (built on the stack) and ids long enough
// that the record's bound outgrows the stack buffer (built in the output).
TEST(RecordJson, RecordsOfShortAndLongIdsAreAppendedWhole) {
  for (std::size_t id_bytes : {std::size_t{2}, std::size_t{300}, std::size_t{5000}}) {
    const std::string contract = "c" + std::string(id_bytes, '7');
    const std::string freelancer = "f" + std::string(id_bytes, 'x') + "\"";
    Decision d;
    d.at = parse_rfc3339("2019-08-02T10:00:00.250Z").value();
    d.contract = contract;
    d.episode = 3;
    d.step = 2;
    d.target = "reminder-2";
    d.freelancer = freelancer;
    d.client = "k1";
    d.status = DecisionStatus::kSuppressed;
    d.reason = DecisionReason::kFrequencyCap;
    std::string out = "before\n";
    append_decision_json(out, d);
    EXPECT_EQ(
        out,
        "before\n{\"at\":\"2019-08-02T10:00:00.250Z\",\"contract\":\"" + contract +
            "\",\"episode\":3,\"step\":2,\"action\":\"nudge\",\"template\":\"reminder-2\",\"freelancer\":\"f" +
            std::string(id_bytes, 'x') +
            "\\\"\",\"client\":\"k1\",\"arm\":\"treatment\",\"status\":\"suppressed\",\"reason\":\"frequency_cap\"}\n");
    EpisodeRecord e;
    e.contract = contract;
    e.episode = 1;
    e.freelancer = "f1";
    e.client = "k1";
    e.opened_at = parse_rfc3339("2019-08-01T00:00:00Z").value();
    e.closed_at = parse_rfc3339("2019-08-03T00:00:00Z").value();
    e.outcome = Outcome::kContractEnded;
    e.has_end_reason = true;
    e.end_reason = freelancer;
    std::string episode;
    append_episode_json(episode, e);
    EXPECT_EQ(episode,
              "{\"contract\":\"" + contract +
                  "\",\"episode\":1,\"freelancer\":\"f1\",\"client\":\"k1\",\"arm\":\"treatment\",\"in_segment\":false,"
                  "\"opened_at\":\"2019-08-01T00:00:00Z\",\"closed_at\":\"2019-08-03T00:00:00Z\",\"outcome\":"
                  "\"contract_ended\",\"response_seconds\":null,\"steps_sent\":0,\"reason\":\"f" +
                  std::string(id_bytes, 'x') + "\\\"\"}\n");
    std::string reject;
    append_reject_json(reject, 7, RejectReason::kBadJson, contract);
    EXPECT_EQ(reject, "{\"line\":7,\"reason\":\"bad_json\",\"raw\":\"" + contract + "\"}\n");
  }
}

}  // namespace
}  // namespace gw
