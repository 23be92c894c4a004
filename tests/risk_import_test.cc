// `ghostwatch import` on small hand-made files: pairs become contracts with
// the first sender as client, events come out in time order, people become
// users at their first message, and bad lines are errors naming file and
// line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ghostwatch/import/message_history.h"
#include "risk_support.h"

namespace gw::test {
namespace {

std::string risk_import_events(std::vector<import::DirectedMessage> messages, import::ImportStats* stats = nullptr) {
  std::string out;
  const import::ImportStats s =
      import::write_contract_events(std::move(messages), [&out](std::string_view chunk) { out.append(chunk); });
  if (stats != nullptr) *stats = s;
  return out;
}

TEST(RiskImport, SnapEdgesBecomeContractsBetweenPairs) {
  TempDir dir;
  // Out of time order on purpose, and a message to oneself.
  write_file(dir.file("edges.txt"), "2 1 60\n1 2 0\n3 3 5\n1 3 120\n");
  auto messages = import::read_snap_edges(dir.file("edges.txt"), *parse_rfc3339("2020-01-01T00:00:00Z"));
  ASSERT_TRUE(messages.is_ok()) << messages.message();
  import::ImportStats stats;
  const std::string events = risk_import_events(*messages, &stats);
  EXPECT_EQ(events,
            R"({"type":"user","at":"2020-01-01T00:00:00Z","id":"1"}
{"type":"user","at":"2020-01-01T00:00:00Z","id":"2"}
{"type":"contract_started","at":"2020-01-01T00:00:00Z","contract":"1-2","client":"1","freelancer":"2"}
{"type":"message","at":"2020-01-01T00:00:00Z","contract":"1-2","from":"1"}
{"type":"message","at":"2020-01-01T00:01:00Z","contract":"1-2","from":"2"}
{"type":"user","at":"2020-01-01T00:02:00Z","id":"3"}
{"type":"contract_started","at":"2020-01-01T00:02:00Z","contract":"1-3","client":"1","freelancer":"3"}
{"type":"message","at":"2020-01-01T00:02:00Z","contract":"1-3","from":"1"}
)");
  EXPECT_EQ(stats.messages, 3u);
  EXPECT_EQ(stats.self_messages, 1u);
  EXPECT_EQ(stats.users, 3u);
  EXPECT_EQ(stats.contracts, 2u);

  // The engine reads them as they are: 1-2 #1 replied after a minute, 1-3 #1 open.
  const risk::EpisodeHistory h = risk_history_of(dir, events);
  EXPECT_EQ(h.stream.rejected, 0u);
  ASSERT_EQ(h.rows.size(), 2u);
  EXPECT_EQ(h.rows[0].outcome, Outcome::kReplied);
  EXPECT_EQ(h.rows[1].contract, "1-3");
}

TEST(RiskImport, SnapEdgesSeparatedByTabsWithCommentsAndBlankLines) {
  TempDir dir;
  write_file(dir.file("edges.txt"),
             "# Directed graph: a SNAP header\n"
             "% a KONECT header\n"
             "1\t2\t0\r\n"
             "\n"
             "  \t \n"
             "2 \t 1   60\n");
  auto messages = import::read_snap_edges(dir.file("edges.txt"), 0);
  ASSERT_TRUE(messages.is_ok()) << messages.message();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].from, "1");
  EXPECT_EQ((*messages)[0].to, "2");
  EXPECT_EQ((*messages)[1].from, "2");
  EXPECT_EQ((*messages)[1].at, 60 * kSecond);
}

// CSV exports: commas between the fields, a header row first, decimal
// seconds, or times.
TEST(RiskImport, SnapEdgesSeparatedByCommasAfterAHeaderRowWithDecimalSecondsOrTimes) {
  TempDir dir;
  write_file(dir.file("edges.csv"),
             "# exported\n"
             "source,target,timestamp\n"
             "1,2,0\n"
             "2, 1,60\r\n");
  auto messages = import::read_snap_edges(dir.file("edges.csv"), 0);
  ASSERT_TRUE(messages.is_ok()) << messages.message();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].from, "1");
  EXPECT_EQ((*messages)[0].to, "2");
  EXPECT_EQ((*messages)[1].from, "2");
  EXPECT_EQ((*messages)[1].to, "1");
  EXPECT_EQ((*messages)[1].at, 60 * kSecond);
  // The same header row with spaces (as a copy of SNAP's CollegeMsg.txt has it).
  write_file(dir.file("college.txt"), "src dst time\n1 2 1082040961\n");
  auto college = import::read_snap_edges(dir.file("college.txt"), 0);
  ASSERT_TRUE(college.is_ok()) << college.message();
  ASSERT_EQ(college->size(), 1u);
  EXPECT_EQ((*college)[0].at, 1082040961 * kSecond);
  // Decimal seconds, kept to the millisecond (the rest dropped).
  write_file(dir.file("fractions.txt"), "1 2 1.5\n2 1 60.0129\n1 2 7.\n");
  auto fractions = import::read_snap_edges(dir.file("fractions.txt"), 0);
  ASSERT_FALSE(fractions.is_ok());  // "7." has no fraction
  EXPECT_NE(fractions.message().find("fractions.txt:3: expected"), std::string::npos) << fractions.message();
  write_file(dir.file("fractions.txt"), "1 2 1.5\n2 1 60.0129\n");
  fractions = import::read_snap_edges(dir.file("fractions.txt"), 0);
  ASSERT_TRUE(fractions.is_ok()) << fractions.message();
  EXPECT_EQ((*fractions)[0].at, 1500);
  EXPECT_EQ((*fractions)[1].at, 60012);
  // T as an RFC 3339 time: that instant, whatever the origin.
  write_file(dir.file("times.csv"), "from,to,sent_at\nana,bo,2001-05-14T16:39:00Z\nbo,ana,2001-05-14T18:39:00+02:00\n");
  auto times = import::read_snap_edges(dir.file("times.csv"), 7 * kDay);
  ASSERT_TRUE(times.is_ok()) << times.message();
  ASSERT_EQ(times->size(), 2u);
  EXPECT_EQ((*times)[0].at, *parse_rfc3339("2001-05-14T16:39:00Z"));
  EXPECT_EQ((*times)[1].at, *parse_rfc3339("2001-05-14T16:39:00Z"));
  // Only before the first edge: a row of names after it is a bad line.
  write_file(dir.file("late.csv"), "1,2,0\nsource,target,timestamp\n");
  auto late = import::read_snap_edges(dir.file("late.csv"), 0);
  ASSERT_FALSE(late.is_ok());
  EXPECT_NE(late.message().find("late.csv:2: expected \"SRC DST T\""), std::string::npos) << late.message();
}

// KONECT's edge files: a "%" header, then "SRC DST WEIGHT T" (or "SRC DST T").
TEST(RiskImport, KonectEdgesWithWeightsBeforeTheirTimes) {
  TempDir dir;
  write_file(dir.file("out.konect"), "% asym positive\n% 3 2 2\n1 2 1 1262454010\n2 1 3 1262454070\n1 2 1262454100\n");
  auto messages = import::read_snap_edges(dir.file("out.konect"), 0);
  ASSERT_TRUE(messages.is_ok()) << messages.message();
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ((*messages)[0].at, 1262454010 * kSecond);
  EXPECT_EQ((*messages)[1].from, "2");
  EXPECT_EQ((*messages)[1].at, 1262454070 * kSecond);
  EXPECT_EQ((*messages)[2].at, 1262454100 * kSecond);
  write_file(dir.file("five.konect"), "% asym positive\n1 2 1 1262454010 7\n");
  auto five = import::read_snap_edges(dir.file("five.konect"), 0);
  ASSERT_FALSE(five.is_ok());
  EXPECT_NE(five.message().find("five.konect:2: expected \"SRC DST T\" with T seconds or an RFC 3339 time (or "
                                "\"SRC DST WEIGHT T\")"),
            std::string::npos)
      << five.message();
}

TEST(RiskImport, PairsWhoseJoinedIdsCoincideGetDistinctContracts) {
  // "a-b" to "c" and "a" to "b-c" both join to "a-b-c".
  const std::string events = risk_import_events({{"a-b", "c", 0}, {"a", "b-c", kSecond}, {"b-c", "a", 2 * kSecond}});
  EXPECT_NE(events.find(R"("contract":"a-b-c","client":"a-b","freelancer":"c")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("contract":"a-b-c~2","client":"a","freelancer":"b-c")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"({"type":"message","at":"1970-01-01T00:00:02Z","contract":"a-b-c~2","from":"b-c"})"),
            std::string::npos)
      << events;
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, events);
  EXPECT_EQ(h.stream.rejected, 0u);
}

TEST(RiskImport, EnronTablesOneMessagePerRecipient) {
  TempDir dir;
  write_file(dir.file("messages.tsv"),
             "1\ta/sent/1\t1000000000\tLunch\t7\n"
             "2\tb/sent/2\t1000000600\tRe: Lunch\twith a\ttab\t9\n");
  write_file(dir.file("recipients.tsv"), "1\t1\t9\n1\t2\t8\n1\t3\t9\n2\t1\t7\n");
  auto messages = import::read_enron_tables(dir.path());
  ASSERT_TRUE(messages.is_ok()) << messages.message();
  ASSERT_EQ(messages->size(), 3u);  // receiver 9 listed twice on message 1 counts once
  const std::string events = risk_import_events(*messages);
  EXPECT_NE(
      events.find(
          R"({"type":"contract_started","at":"2001-09-09T01:46:40Z","contract":"7-9","client":"7","freelancer":"9"})"),
      std::string::npos)
      << events;
  EXPECT_NE(events.find(R"({"type":"message","at":"2001-09-09T01:56:40Z","contract":"7-9","from":"9"})"),
            std::string::npos)
      << events;
}

TEST(RiskImport, BadLinesNameFileAndLine) {
  TempDir dir;
  write_file(dir.file("edges.txt"), "1 2 0\n1 2 soon\n");
  auto snap = import::read_snap_edges(dir.file("edges.txt"), 0);
  ASSERT_FALSE(snap.is_ok());
  EXPECT_NE(snap.message().find("edges.txt:2: expected \"SRC DST T\""), std::string::npos) << snap.message();
  write_file(dir.file("konect.txt"), "# not a KONECT header\n1 2 0\n1 2 1 1262454010\n");
  auto konect = import::read_snap_edges(dir.file("konect.txt"), 0);
  ASSERT_FALSE(konect.is_ok());
  EXPECT_NE(konect.message().find("konect.txt:3: expected \"SRC DST T\""), std::string::npos) << konect.message();
  EXPECT_NE(konect.message().find("keep its columns 1, 2 and 4"), std::string::npos) << konect.message();
  write_file(dir.file("signs.txt"), "1 2 0\n1 2 -0.5\n");
  auto signs = import::read_snap_edges(dir.file("signs.txt"), 0);
  ASSERT_FALSE(signs.is_ok());
  EXPECT_NE(signs.message().find("signs.txt:2: expected"), std::string::npos) << signs.message();
  write_file(dir.file("far.txt"), "1 2 999999999999\n");
  auto far = import::read_snap_edges(dir.file("far.txt"), 0);
  ASSERT_FALSE(far.is_ok());
  EXPECT_NE(far.message().find("far.txt:1: T 999999999999 is past the year 9999"), std::string::npos) << far.message();

  write_file(dir.file("messages.tsv"), "1\ta\t1000000000\tHi\t7\n");
  write_file(dir.file("recipients.tsv"), "1\t1\t9\n5\t1\t9\n");
  auto enron = import::read_enron_tables(dir.path());
  ASSERT_FALSE(enron.is_ok());
  EXPECT_NE(enron.message().find("recipients.tsv:2: message id 5 is not in messages.tsv"), std::string::npos)
      << enron.message();
  EXPECT_FALSE(import::read_snap_edges(dir.file("missing.txt"), 0).is_ok());
}

}  // namespace
}  // namespace gw::test
