#include "util/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lidarmill::util {
namespace {

class LogTest : public ::testing::Test {
  protected:
    void SetUp() override { reset_warning_count(); }
    // Later tests in this executable must not write into a destroyed stream.
    void TearDown() override { init_logging(0); }
};

void log_one_of_each() {
    spdlog::debug("d {}", 1);
    spdlog::info("i {}", 2);
    spdlog::warn("w {}", 3);
    spdlog::error("e {}", 4);
}

TEST_F(LogTest, DefaultVerbosityShowsWarningsAndErrorsWithThePattern) {
    std::ostringstream out;
    init_logging(0, out);
    log_one_of_each();
    EXPECT_EQ(out.str(), "lidarmill warning: w 3\nlidarmill error: e 4\n");
    EXPECT_EQ(warning_count(), 1u);
}

TEST_F(LogTest, VerbosityOneAddsInfo) {
    std::ostringstream out;
    init_logging(1, out);
    log_one_of_each();
    EXPECT_EQ(out.str(), "lidarmill info: i 2\nlidarmill warning: w 3\nlidarmill error: e 4\n");
}

TEST_F(LogTest, VerbosityTwoOrMoreAddsDebug) {
    for (int verbosity : {2, 5}) {
        std::ostringstream out;
        init_logging(verbosity, out);
        log_one_of_each();
        EXPECT_EQ(out.str(),
                  "lidarmill debug: d 1\nlidarmill info: i 2\nlidarmill warning: w 3\n"
                  "lidarmill error: e 4\n");
    }
}

TEST_F(LogTest, QuietShowsOnlyErrorsButStillCountsWarnings) {
    std::ostringstream out;
    init_logging(-1, out);
    log_one_of_each();
    spdlog::warn("another");
    EXPECT_EQ(out.str(), "lidarmill error: e 4\n");
    EXPECT_EQ(warning_count(), 2u);
}

TEST_F(LogTest, CountSurvivesReinitialisationAndResets) {
    std::ostringstream out;
    init_logging(0, out);
    spdlog::warn("one");
    init_logging(1, out);
    spdlog::warn("two");
    EXPECT_EQ(warning_count(), 2u);
    reset_warning_count();
    EXPECT_EQ(warning_count(), 0u);
}

TEST_F(LogTest, CountsWarningsFromManyThreads) {
    std::ostringstream out;
    init_logging(-1, out);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < 250; ++i) spdlog::warn("w");
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(warning_count(), 1000u);
}

}  // namespace
}  // namespace lidarmill::util
