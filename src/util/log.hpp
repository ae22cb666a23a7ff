#pragma once
// Process-wide logging setup. Code logs through spdlog's default logger
// (spdlog::warn(...), spdlog::info(...), spdlog::debug(...)); init_logging() installs it.
#include <cstddef>
#include <ostream>

namespace lidarmill::util {

// Installs the default logger writing "lidarmill <level>: <message>" lines to stderr.
// verbosity: -1 (quiet) = errors only, 0 = warnings and errors, 1 = info, 2 or more = debug.
// Warnings are counted even when quiet hides them, so a run can still report
// "finished with N warnings". Calling it again replaces the logger and keeps the count.
void init_logging(int verbosity);

// Same, writing to `out` instead of stderr (for tests). `out` must outlive the logger,
// i.e. until the next init_logging() call.
void init_logging(int verbosity, std::ostream& out);

// Warnings logged through the default logger since start-up or the last reset.
std::size_t warning_count();
void reset_warning_count();

}  // namespace lidarmill::util
