// lidarmill info FILE... [--json] [--checksum] [--header-only]
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "ops/info.hpp"
#include "util/error.hpp"

namespace lidarmill::app {

namespace {
struct InfoOptions {
    std::vector<std::string> files;
    bool json = false;
    bool checksum = false;
    bool header_only = false;
    unsigned threads = 0;
};
}  // namespace

Command register_info(CLI::App& app) {
    auto o = std::make_shared<InfoOptions>();
    app.add_option("files", o->files, "LAS/LAZ/COPC files")->required()->check(CLI::ExistingFile);
    app.add_flag("--json", o->json, "JSON output (an object for one file, an array for several)");
    app.add_flag("--checksum", o->checksum,
                 "Add records_sha256: SHA-256 over the raw point records in file order");
    app.add_flag("--header-only", o->header_only,
                 "Do not read the points (no class histogram or data bounds)");
    app.add_option("--threads", o->threads, "Decoding threads (0 = all cores)");
    return [o]() {
        nlohmann::json all = nlohmann::json::array();
        int status = 0;
        for (const auto& file : o->files) {
            try {
                auto doc = ops::summarize_file(file, {!o->header_only, o->checksum, o->threads});
                if (o->json) {
                    all.push_back(std::move(doc));
                } else {
                    std::cout << ops::format_summary(doc) << (o->files.size() > 1 ? "\n" : "");
                }
            } catch (const util::InputError& e) {
                std::cerr << "lidarmill: error: " << e.what() << "\n";
                status = static_cast<int>(util::ExitCode::bad_input);
                if (o->json) all.push_back({{"file", file}, {"error", e.what()}});
            }
        }
        if (o->json) std::cout << (all.size() == 1 ? all[0] : all).dump(2) << "\n";
        if (status != 0 && o->files.size() > 1)
            status = static_cast<int>(util::ExitCode::partial_failure);
        return status;
    };
}

}  // namespace lidarmill::app
