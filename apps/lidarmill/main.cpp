// lidarmill: airborne LiDAR tiles (LAS/LAZ/COPC) into analysis-ready data.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 ok, 1 usage error, 2 bad input file, 3 partial failure in a batch.";

}  // namespace

int main(int argc, char** argv) {
    using lidarmill::util::ExitCode;
    CLI::App app{"lidarmill: fast, memory-bounded LAS/LAZ/COPC processing", "lidarmill"};
    app.footer(kExitCodes);
    app.require_subcommand(1);
    app.fallthrough();  // -v / -q also after the subcommand
    app.set_version_flag("--version", "lidarmill 0.1.0");
    int verbosity = 0;
    bool quiet = false;
    app.add_flag("-v,--verbose", verbosity, "More log output (repeat for debug)");
    app.add_flag("-q,--quiet", quiet, "Only errors");

    std::map<CLI::App*, lidarmill::app::Command> commands;
    auto add = [&](const char* name, const char* help, auto registrar) {
        auto* sub = app.add_subcommand(name, help);
        sub->footer(kExitCodes);
        commands[sub] = registrar(*sub);
    };
    add("info", "Describe LAS/LAZ files: header, VLRs, CRS, extra bytes, statistics",
        lidarmill::app::register_info);
    add("translate", "Rewrite a LAS/LAZ file losslessly, converting format, version or compression",
        lidarmill::app::register_translate);
    add("synth", "Write a deterministic synthetic airborne LiDAR tile (Lambert-93)",
        lidarmill::app::register_synth);
    add("enrich",
        "Add per-point geometric features as extra-bytes dimensions, for files or directory trees",
        lidarmill::app::register_enrich);
    add("copc", "Convert LAS/LAZ files to one COPC file, out of core under a memory budget",
        lidarmill::app::register_copc);
    add("validate", "Check COPC files against the specification",
        lidarmill::app::register_validate);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : static_cast<int>(ExitCode::usage);
    }
    lidarmill::util::init_logging(quiet ? -1 : verbosity);
    lidarmill::app::quiet_mode = quiet;
    try {
        for (auto& [sub, run] : commands) {
            if (sub->parsed()) return run();
        }
    } catch (const lidarmill::util::UsageError& e) {
        std::cerr << "lidarmill: error: " << e.what() << "\n";
        return static_cast<int>(ExitCode::usage);
    } catch (const lidarmill::util::InputError& e) {
        std::cerr << "lidarmill: error: " << e.what() << "\n";
        return static_cast<int>(ExitCode::bad_input);
    } catch (const std::exception& e) {
        std::cerr << "lidarmill: error: " << e.what() << "\n";
        return static_cast<int>(ExitCode::bad_input);
    }
    return 0;
}
