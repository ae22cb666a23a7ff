#pragma once
// Running the lidarmill binary from tests.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace lidarmill::testing {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Runs `lidarmill ARGS` (arguments already shell-quoted where needed).
inline RunResult run_lidarmill(const std::string& args) {
    static int counter = 0;
    const auto err_path =
        std::filesystem::temp_directory_path() /
        ("lidarmill_cli_err_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    const std::string command =
        std::string(LIDARMILL_BINARY) + " " + args + " 2>" + err_path.string();
    RunResult r;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 65536> buffer{};
    while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
        r.out.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_path);
    std::stringstream ss;
    ss << err.rdbuf();
    r.err = ss.str();
    std::filesystem::remove(err_path);
    return r;
}

inline nlohmann::json info_json(const std::filesystem::path& file) {
    const auto r = run_lidarmill("info --json --checksum " + shell_quote(file.string()));
    if (r.exit_code != 0) return {{"exit_code", r.exit_code}, {"stderr", r.err}};
    return nlohmann::json::parse(r.out);
}

}  // namespace lidarmill::testing
