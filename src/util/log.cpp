#include "util/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

namespace lidarmill::util {

namespace {

std::atomic<std::size_t> g_warning_count{0};

// Counts warnings; writes nothing. Sits beside the visible sink so counting does not
// depend on the verbosity chosen for display.
class WarningCounterSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        if (message.level == spdlog::level::warn) g_warning_count.fetch_add(1);
    }
    void flush_() override {}
};

spdlog::level::level_enum level_for(int verbosity) {
    if (verbosity < 0) return spdlog::level::err;
    if (verbosity == 0) return spdlog::level::warn;
    if (verbosity == 1) return spdlog::level::info;
    return spdlog::level::debug;
}

void install(int verbosity, spdlog::sink_ptr visible) {
    const auto display_level = level_for(verbosity);
    visible->set_level(display_level);
    visible->set_pattern("lidarmill %l: %v");
    auto counter = std::make_shared<WarningCounterSink>();
    counter->set_level(spdlog::level::warn);
    auto logger =
        std::make_shared<spdlog::logger>("lidarmill", spdlog::sinks_init_list{visible, counter});
    // The logger must pass warnings on to the counter even when the display hides them.
    logger->set_level(std::min(display_level, spdlog::level::warn));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace

void init_logging(int verbosity) {
    install(verbosity, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void init_logging(int verbosity, std::ostream& out) {
    install(verbosity, std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true));
}

std::size_t warning_count() {
    return g_warning_count.load();
}

void reset_warning_count() {
    g_warning_count.store(0);
}

}  // namespace lidarmill::util
