#include "util/progress.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/error.hpp"

namespace lidarmill::util {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<nlohmann::json> json_events(const std::string& text) {
    std::vector<nlohmann::json> events;
    for (const auto& line : lines_of(text)) events.push_back(nlohmann::json::parse(line));
    return events;
}

TEST(ProgressStyle, ParsesTheFourNames) {
    EXPECT_EQ(parse_progress_style("bar"), ProgressStyle::bar);
    EXPECT_EQ(parse_progress_style("plain"), ProgressStyle::plain);
    EXPECT_EQ(parse_progress_style("json"), ProgressStyle::json);
    EXPECT_EQ(parse_progress_style("none"), ProgressStyle::none);
    EXPECT_THROW(parse_progress_style("Bar"), UsageError);
    EXPECT_THROW(parse_progress_style(""), UsageError);
    try {
        parse_progress_style("fancy");
    } catch (const UsageError& error) {
        EXPECT_STREQ(error.what(),
                     "invalid progress style \"fancy\": expected bar, plain, json or none");
    }
}

TEST(ProgressStyle, DefaultIsBarOrPlain) {
    const ProgressStyle style = default_progress_style();
    EXPECT_TRUE(style == ProgressStyle::bar || style == ProgressStyle::plain);
}

TEST(Progress, JsonEmitsProgressEventsAndOneDoneEvent) {
    std::ostringstream out;
    {
        Progress progress("decode \"a\".laz", 10000, ProgressStyle::json, "points", &out);
        progress.set_report_interval(0ns);
        std::this_thread::sleep_for(2ms);
        progress.advance(5000);
        progress.advance(5000);
        progress.finish();
        progress.finish();       // idempotent
        progress.advance(5000);  // after finish: counted, not reported
    }
    const auto events = json_events(out.str());
    ASSERT_EQ(events.size(), 3u) << out.str();
    EXPECT_EQ(events[0]["event"], "progress");
    EXPECT_EQ(events[0]["task"], "decode \"a\".laz");
    EXPECT_EQ(events[0]["done"], 5000);
    EXPECT_EQ(events[0]["total"], 10000);
    EXPECT_GT(events[0]["rate"].get<double>(), 0.0);
    EXPECT_GE(events[0]["eta_s"].get<double>(), 0.0);
    EXPECT_GE(events[0]["elapsed_s"].get<double>(), 0.002);
    EXPECT_EQ(events[1]["done"], 10000);
    EXPECT_EQ(events[1]["eta_s"], 0.0);
    EXPECT_GE(events[1]["elapsed_s"].get<double>(), events[0]["elapsed_s"].get<double>());
    EXPECT_EQ(events[2]["event"], "done");
    EXPECT_EQ(events[2]["done"], 10000);
    EXPECT_EQ(events[2]["total"], 10000);
    EXPECT_FALSE(events[2].contains("eta_s"));
    EXPECT_GE(events[2]["elapsed_s"].get<double>(), 0.002);
}

TEST(Progress, JsonKeysComeInTheDocumentedOrder) {
    std::ostringstream out;
    Progress progress("t", 100, ProgressStyle::json, "points", &out);
    progress.set_report_interval(0ns);
    progress.advance(50);
    const std::string line = lines_of(out.str()).at(0);
    const std::vector<std::string> keys = {"\"event\"", "\"task\"",  "\"done\"",     "\"total\"",
                                           "\"rate\"",  "\"eta_s\"", "\"elapsed_s\""};
    std::size_t position = 0;
    for (const auto& key : keys) {
        const auto found = line.find(key, position);
        ASSERT_NE(found, std::string::npos) << key << " in " << line;
        position = found;
    }
}

TEST(Progress, JsonUnknownTotalIsNull) {
    std::ostringstream out;
    {
        Progress progress("scan", 0, ProgressStyle::json, "files", &out);
        progress.set_report_interval(0ns);
        progress.advance(3);
    }  // destructor finishes
    const auto events = json_events(out.str());
    ASSERT_EQ(events.size(), 2u) << out.str();
    EXPECT_TRUE(events[0]["total"].is_null());
    EXPECT_TRUE(events[0]["eta_s"].is_null());
    EXPECT_EQ(events[1]["event"], "done");
    EXPECT_EQ(events[1]["done"], 3);
}

TEST(Progress, DefaultIntervalSuppressesReportsOfAShortTask) {
    std::ostringstream out;
    Progress progress("quick", 1000000, ProgressStyle::json, "points", &out);
    for (int i = 0; i < 1000; ++i) progress.advance(1000);
    EXPECT_EQ(out.str(), "");  // well under the 1 s json interval
    progress.finish();
    const auto events = json_events(out.str());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["event"], "done");
    EXPECT_EQ(events[0]["done"], 1000000);
}

TEST(Progress, SmallTotalsStillReport) {
    // With 5 files in total, every advance must check the clock.
    std::ostringstream out;
    Progress progress("files", 5, ProgressStyle::json, "files", &out);
    progress.set_report_interval(0ns);
    for (int i = 0; i < 5; ++i) progress.advance(1);
    EXPECT_EQ(lines_of(out.str()).size(), 5u) << out.str();
}

TEST(Progress, SetTotalChangesPercentageAndEta) {
    std::ostringstream out;
    Progress progress("t", 0, ProgressStyle::json, "points", &out);
    progress.set_report_interval(0ns);
    progress.set_total(400);
    EXPECT_EQ(progress.total(), 400u);
    progress.advance(100);
    const auto events = json_events(out.str());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["total"], 400);
    EXPECT_FALSE(events[0]["eta_s"].is_null());
}

TEST(Progress, PlainWritesPeriodicLinesAndAFinalLine) {
    std::ostringstream out;
    Progress progress("decode", 2000000, ProgressStyle::plain, "points", &out);
    progress.set_report_interval(0ns);
    progress.advance(900000);
    progress.finish();
    const auto lines = lines_of(out.str());
    ASSERT_EQ(lines.size(), 2u) << out.str();
    EXPECT_EQ(lines[0].rfind("decode: 45% (900.0k of 2.0M points, ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(" points/s, ETA "), std::string::npos) << lines[0];
    EXPECT_EQ(lines[1].rfind("decode: done, 900000 points in ", 0), 0u) << lines[1];
    EXPECT_NE(lines[1].find(" s ("), std::string::npos) << lines[1];
    EXPECT_EQ(lines[1].back(), ')');
}

TEST(Progress, PlainReportsAreRateLimited) {
    std::ostringstream out;
    Progress progress("decode", 1 << 20, ProgressStyle::plain, "points", &out);
    for (int i = 0; i < 256; ++i) progress.advance(4096);
    progress.finish();
    EXPECT_EQ(lines_of(out.str()).size(), 1u) << out.str();  // only the final line
}

TEST(Progress, BarRedrawsOneLineAndEndsItOnFinish) {
    std::ostringstream out;
    Progress progress("index", 100, ProgressStyle::bar, "points", &out);
    progress.set_report_interval(0ns);
    progress.advance(45);
    progress.finish();
    const std::string text = out.str();
    EXPECT_EQ(text.front(), '\r');
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(lines_of(text).size(), 1u);  // redraws use '\r', not new lines
    EXPECT_NE(text.find("\rindex [#############.................] 45% "), std::string::npos)
        << text;
    EXPECT_NE(text.find(" points/s ETA "), std::string::npos) << text;
    // finish() redraws with the count reached (not a fake 100%) and the elapsed time.
    const std::string prefix = "\rindex [#############.................] 45% ";
    EXPECT_NE(text.find(prefix, 1), std::string::npos) << text;
    EXPECT_NE(text.find(" points/s in "), std::string::npos) << text;
}

TEST(Progress, BarBlanksLeftoversOfALongerLine) {
    std::ostringstream out;
    Progress progress("t", 0, ProgressStyle::bar, "points", &out);
    progress.set_report_interval(0ns);
    progress.advance(123456789);  // "... elapsed 0:00"; the final line says "in 0:00"
    progress.finish();
    const std::string text = out.str();
    const auto second = text.find('\r', 1);
    ASSERT_NE(second, std::string::npos) << text;
    const std::string first_line = text.substr(1, second - 1);
    const std::string final_line = text.substr(second + 1, text.size() - second - 2);
    EXPECT_NE(first_line.find("t 123.5M points "), std::string::npos) << first_line;
    EXPECT_EQ(final_line.size(), first_line.size());
    EXPECT_EQ(final_line.back(), ' ');
}

TEST(Progress, NoneWritesNothing) {
    std::ostringstream out;
    {
        Progress progress("t", 10, ProgressStyle::none, "points", &out);
        progress.set_report_interval(0ns);
        progress.advance(10);
        EXPECT_EQ(progress.done(), 10u);
    }
    EXPECT_EQ(out.str(), "");
}

TEST(Progress, ConcurrentAdvancesAreAllCountedAndLinesStayWhole) {
    std::ostringstream out;
    constexpr int kThreads = 4;
    constexpr int kCallsPerThread = 20000;
    {
        Progress progress("parallel", kThreads * kCallsPerThread * 7ull, ProgressStyle::json,
                          "points", &out);
        progress.set_report_interval(0ns);
        std::vector<std::thread> workers;
        for (int t = 0; t < kThreads; ++t) {
            workers.emplace_back([&] {
                for (int i = 0; i < kCallsPerThread; ++i) progress.advance(7);
            });
        }
        for (auto& worker : workers) worker.join();
        EXPECT_EQ(progress.done(), kThreads * kCallsPerThread * 7ull);
    }
    const auto events = json_events(out.str());  // throws if two lines were interleaved
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back()["event"], "done");
    EXPECT_EQ(events.back()["done"], kThreads * kCallsPerThread * 7);
    std::uint64_t previous = 0;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        const auto done = events[i]["done"].get<std::uint64_t>();
        EXPECT_GE(done, previous);  // reports are written in order under the lock
        previous = done;
    }
}

}  // namespace
}  // namespace lidarmill::util
