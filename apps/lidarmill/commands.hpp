#pragma once
// Each subcommand registers its options on the app and returns the function that runs
// it; the function returns the process exit code.
#include <CLI/CLI.hpp>

#include <functional>

namespace lidarmill::app {

using Command = std::function<int()>;

Command register_info(CLI::App& app);
Command register_translate(CLI::App& app);
Command register_synth(CLI::App& app);


}  // namespace lidarmill::app
