// lidarmill translate IN OUT [--point-format N] [--las-version 1.2|1.3|1.4] [--chunk-size N]
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "ops/translate.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"

namespace lidarmill::app {

namespace {
struct TranslateArgs {
    std::string input, output;
    int point_format = -1;
    std::string las_version;
    std::uint32_t chunk_size = 0;
    std::string drop_extra;
    std::string progress;
    unsigned threads = 0;
};

std::optional<std::uint8_t> parse_version(const std::string& text) {
    if (text.empty()) return std::nullopt;
    if (text == "1.2") return 2;
    if (text == "1.3") return 3;
    if (text == "1.4") return 4;
    throw util::UsageError("--las-version must be 1.2, 1.3 or 1.4, not '" + text + "'");
}
}  // namespace

Command register_translate(CLI::App& app) {
    auto a = std::make_shared<TranslateArgs>();
    app.add_option("input", a->input, "Input LAS/LAZ file")->required()->check(CLI::ExistingFile);
    app.add_option("output", a->output, "Output file (.laz = LAZ, otherwise LAS)")->required();
    app.add_option("--point-format", a->point_format, "Output point format 0-10")
        ->check(CLI::Range(0, 10));
    app.add_option("--las-version", a->las_version, "Output LAS version: 1.2, 1.3 or 1.4");
    app.add_option("--chunk-size", a->chunk_size, "LAZ chunk size in points (default 50000)")
        ->check(CLI::Range(1u, 0xFFFFFFFEu));
    app.add_option("--drop-extra", a->drop_extra,
                   "Drop extra-bytes dimensions: 'all' or a comma-separated list of names");
    app.add_option("--progress", a->progress, "Progress: bar, plain, json or none");
    app.add_option("--threads", a->threads, "Codec threads (0 = all cores)");
    return [a]() {
        ops::TranslateOptions o;
        if (a->point_format >= 0) o.point_format = static_cast<std::uint8_t>(a->point_format);
        o.las_version_minor = parse_version(a->las_version);
        if (a->chunk_size) o.chunk_size = a->chunk_size;
        if (a->drop_extra == "all") {
            o.drop_all_extra = true;
        } else if (!a->drop_extra.empty()) {
            std::stringstream names(a->drop_extra);
            for (std::string name; std::getline(names, name, ',');) o.drop_extra.push_back(name);
        }
        o.threads = a->threads;
        const auto style = progress_style(a->progress);
        util::Progress progress("translate", 0, style);
        o.on_progress = [&progress](std::uint64_t done, std::uint64_t total) {
            progress.set_total(total);
            progress.advance(done - progress.done());
        };
        const auto result = ops::translate(a->input, a->output, o);
        progress.finish();
        for (const auto& w : result.warnings) spdlog::warn("{}: {}", a->input, w);
        const auto& l = result.losses;
        if (l.any()) {
            spdlog::warn(
                "{}: the target point format could not hold every value: {} return numbers, {} "
                "classes, {} scan angles clamped; {} overlap flags, {} scanner channels dropped",
                a->input, l.returns_clamped, l.classes_clamped, l.scan_angles_clamped,
                l.overlap_flags_dropped, l.scanner_channels_dropped);
        }
        spdlog::info("{}: {} points written to {}", a->input, result.points, a->output);
        return 0;
    };
}

}  // namespace lidarmill::app
