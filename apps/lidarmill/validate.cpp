// lidarmill validate FILE... [--deep] [--json]: COPC conformance; exit 0 only without errors.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "copc/validate.hpp"
#include "util/error.hpp"

namespace lidarmill::app {

namespace {
struct ValidateArgs {
    std::vector<std::string> files;
    bool deep = false;
    bool json = false;
    unsigned threads = 0;
};

void print_text(const copc::ValidationReport& r) {
    std::cout << r.file << ": " << (r.valid() ? "valid COPC" : "INVALID COPC") << " (" << r.points
              << " points, " << r.nodes << " nodes, " << r.pages << " hierarchy pages";
    if (r.points_decoded) std::cout << ", " << r.points_decoded << " points decoded";
    std::cout << "; " << r.count(copc::Severity::error) << " errors, "
              << r.count(copc::Severity::warning) << " warnings)\n";
    for (const auto& f : r.findings) {
        std::cout << "  " << copc::severity_name(f.severity) << " [" << f.check << "] " << f.message
                  << "\n";
    }
}
}  // namespace

Command register_validate(CLI::App& app) {
    auto a = std::make_shared<ValidateArgs>();
    app.add_option("files", a->files, "COPC files to check")->required();
    app.add_flag("--deep", a->deep,
                 "Decode every point: node cubes, header bounds, GPS range, returns");
    app.add_flag("--json", a->json, "Print one JSON document instead of text");
    app.add_option("--threads", a->threads, "Decoder threads for --deep (0 = all cores)");
    return [a]() {
        bool all_valid = true;
        nlohmann::json reports = nlohmann::json::array();
        for (const auto& file : a->files) {
            const auto r = copc::validate_copc(file, {a->deep, a->threads});
            all_valid = all_valid && r.valid();
            if (a->json) {
                reports.push_back(r.to_json());
            } else {
                print_text(r);
            }
        }
        if (a->json)
            std::cout << nlohmann::json{{"valid", all_valid}, {"files", reports}}.dump(2) << "\n";
        return all_valid ? 0 : static_cast<int>(util::ExitCode::bad_input);
    };
}

}  // namespace lidarmill::app
