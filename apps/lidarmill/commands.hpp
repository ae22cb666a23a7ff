#pragma once
// Each subcommand registers its options on the app and returns the function that runs
// it; the function returns the process exit code.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "util/progress.hpp"

namespace lidarmill::app {

using Command = std::function<int()>;

// Set by main from -q: progress reporting is off unless asked for explicitly.
inline bool quiet_mode = false;

// The progress style for a --progress value ("" = default: bar on a terminal, else plain).
inline util::ProgressStyle progress_style(const std::string& requested) {
    if (!requested.empty()) return util::parse_progress_style(requested);
    return quiet_mode ? util::ProgressStyle::none : util::default_progress_style();
}

Command register_info(CLI::App& app);
Command register_translate(CLI::App& app);
Command register_synth(CLI::App& app);
Command register_enrich(CLI::App& app);
Command register_copc(CLI::App& app);
Command register_validate(CLI::App& app);

}  // namespace lidarmill::app
