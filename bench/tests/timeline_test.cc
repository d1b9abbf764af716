// Timeline (bench/load/timeline.h): the per-second view of a load run. Each test records
// answers at chosen offsets (no clock) and reads back the JSON lines the --timeline file holds.
#include "../load/timeline.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace etcdlab::bench {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The text of "name":<value> in one JSON line (numbers and null only, as the timeline writes).
std::string field(const std::string& line, const std::string& name) {
  auto p = line.find("\"" + name + "\":");
  if (p == std::string::npos) return "<missing " + name + ">";
  p += name.size() + 3;
  return line.substr(p, line.find_first_of(",}", p) - p);
}

double number(const std::string& line, const std::string& name) {
  return std::stod(field(line, name));
}

TEST(Timeline, EverySecondOfTheWindowHasALineInOrder) {
  Timeline t;
  t.record_ok(100 * kMs, 2 * kMs);
  auto lines = lines_of(t.json_lines(3));
  ASSERT_EQ(lines.size(), 3u) << t.json_lines(3);
  for (size_t i = 0; i < lines.size(); i++) EXPECT_EQ(field(lines[i], "second"), std::to_string(i));
}

// The point of the timeline: a server that answers nothing for a second shows as a line with
// no answers, not as a missing line (which a plot would bridge).
TEST(Timeline, ASecondWithoutAnswersIsWrittenWithZeroAndNullQuantiles) {
  Timeline t;
  t.record_ok(500 * kMs, 1 * kMs);
  t.record_ok(2 * kS + 500 * kMs, 1500 * kMs);  // waited through the silent second
  auto lines = lines_of(t.json_lines(3));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(field(lines[1], "ok"), "0");
  EXPECT_EQ(field(lines[1], "ops_per_s"), "0.0");
  for (const char* q : {"p50_ms", "p90_ms", "p99_ms", "max_ms"})
    EXPECT_EQ(field(lines[1], q), "null");
  EXPECT_EQ(field(lines[2], "ok"), "1");
  EXPECT_NEAR(number(lines[2], "p99_ms"), 1500, 1500 * 0.03);
  EXPECT_EQ(field(lines[2], "max_ms"), "1500.0000");
}

// A second's quantiles come from its own answers: a slow second does not raise the next.
TEST(Timeline, QuantilesAreThoseOfTheSecondAlone) {
  Timeline t;
  for (int i = 0; i < 100; i++) t.record_ok(kS / 2, 800 * kMs);
  for (int i = 0; i < 100; i++) t.record_ok(kS + kS / 2, 2 * kMs);
  auto lines = lines_of(t.json_lines(2));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NEAR(number(lines[0], "p99_ms"), 800, 800 * 0.03);
  EXPECT_NEAR(number(lines[1], "p99_ms"), 2, 2 * 0.03);
  EXPECT_EQ(field(lines[1], "max_ms"), "2.0000");
  EXPECT_EQ(field(lines[0], "ops_per_s"), "100.0");
}

TEST(Timeline, ErrorsAreCountedInTheSecondTheyArrived) {
  Timeline t;
  t.record_error(1 * kS + 1);
  t.record_error(1 * kS + 2);
  t.record_ok(10 * kMs, 1 * kMs);
  auto lines = lines_of(t.json_lines(2));
  EXPECT_EQ(field(lines[0], "errors"), "0");
  EXPECT_EQ(field(lines[1], "errors"), "2");
  EXPECT_EQ(field(lines[1], "ok"), "0");
}

// Requests due before the end of the window may be answered after it: they count in its last
// second, so that no answer of the run is lost and no narrow tail line shows a false rate.
TEST(Timeline, AnswersAfterTheWindowCountInItsLastSecond) {
  Timeline t;
  t.record_ok(1 * kS + 900 * kMs, 1 * kMs);
  t.record_ok(2 * kS + 3 * kMs, 40 * kMs);
  t.record_ok(4 * kS, 40 * kMs);
  auto lines = lines_of(t.json_lines(2));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(field(lines[1], "ok"), "3");
  EXPECT_EQ(field(lines[1], "max_ms"), "40.0000");
}

// A window of 2.5 s has three lines; the last is half a second wide, its rate counted so.
TEST(Timeline, ThePartialLastSecondsRateIsOverItsWidth) {
  Timeline t;
  for (int i = 0; i < 10; i++) t.record_ok(2 * kS + 100 * kMs, 1 * kMs);
  auto lines = lines_of(t.json_lines(2.5));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(field(lines[2], "ops_per_s"), "20.0");
}

// Each event loop keeps a timeline; the run's is their sum, second by second.
TEST(Timeline, MergeAddsSecondBySecond) {
  Timeline a, b;
  a.record_ok(100 * kMs, 1 * kMs);
  b.record_ok(200 * kMs, 9 * kMs);
  b.record_ok(3 * kS, 1 * kMs);
  b.record_error(3 * kS);
  a.merge(b);
  auto lines = lines_of(a.json_lines(4));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(field(lines[0], "ok"), "2");
  EXPECT_EQ(field(lines[0], "max_ms"), "9.0000");
  EXPECT_EQ(field(lines[3], "ok"), "1");
  EXPECT_EQ(field(lines[3], "errors"), "1");
}

// --total runs have no fixed window: the lines cover the seconds that have answers.
TEST(Timeline, WithoutAWindowTheLinesCoverTheAnswers) {
  Timeline t;
  t.record_ok(2 * kS + 1, 1 * kMs);
  auto lines = lines_of(t.json_lines(0));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(field(lines[0], "ok"), "0");
  EXPECT_EQ(field(lines[2], "ok"), "1");
}

}  // namespace
}  // namespace etcdlab::bench
