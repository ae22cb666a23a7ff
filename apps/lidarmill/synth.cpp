// lidarmill synth OUT [--points N] [--seed S] [--density D] [--origin X,Y] [--rgb] [--nir]
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "commands.hpp"
#include "las/crs.hpp"
#include "io/open.hpp"
#include "synth/synth.hpp"
#include "synth/truth.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"

namespace lidarmill::app {

namespace {
struct SynthArgs {
    std::string output;
    synth::SynthParams params;
    std::vector<double> origin;
    bool truth = false;
    std::uint32_t chunk_size = laz::kDefaultChunkSize;
    std::string progress;
    unsigned threads = 0;
};

las::WriterConfig synth_config(const synth::TileLayout& layout) {
    las::WriterConfig config;
    las::Header& h = config.header;
    h.version_minor = 4;
    h.point_format = h.point_format_raw = layout.point_format;
    h.record_length = layout.record_length;
    for (int a = 0; a < 3; ++a) {
        h.scale[a] = layout.scale[a];
        h.offset[a] = layout.offset[a];
    }
    h.global_encoding = las::kGpsStandardTime | las::kWktCrs;
    las::set_text(h.system_identifier, "lidarmill synth");
    las::set_text(h.generating_software, "lidarmill 0.1.0");
    // A fixed date keeps the output a pure function of the parameters.
    h.creation_day = 1;
    h.creation_year = 2024;
    config.vlrs.push_back(las::make_wkt_vlr(layout.wkt));
    return config;
}
}  // namespace

Command register_synth(CLI::App& app) {
    auto a = std::make_shared<SynthArgs>();
    app.add_option("output", a->output, "Output file (.laz = LAZ, otherwise LAS)")->required();
    app.add_option("--points", a->params.points, "Number of points")->capture_default_str();
    app.add_option("--seed", a->params.seed, "Random seed (same seed, same bytes)")
        ->capture_default_str();
    app.add_option("--density", a->params.density, "Points per square metre")
        ->capture_default_str();
    app.add_option("--origin", a->origin, "Lower-left corner X,Y in Lambert-93 metres")
        ->delimiter(',')
        ->expected(2);
    app.add_flag("--rgb", a->params.rgb, "Add colour (point format 7)");
    app.add_flag("--nir", a->params.nir, "Add colour and near infrared (point format 8)");
    app.add_flag("--truth", a->truth,
                 "Also write OUT.truth: per-point ground truth (wall/roof/ground...)");
    app.add_option("--chunk-size", a->chunk_size, "LAZ chunk size in points")
        ->capture_default_str();
    app.add_option("--progress", a->progress, "Progress: bar, plain, json or none");
    app.add_option("--threads", a->threads, "LAZ encoder threads (0 = all cores)");
    return [a]() {
        if (a->origin.size() == 2) {
            a->params.origin_x = a->origin[0];
            a->params.origin_y = a->origin[1];
        }
        const auto layout = synth::layout(a->params);
        auto writer = io::create_writer(a->output, synth_config(layout),
                                         {std::nullopt, a->chunk_size, a->threads});
        std::unique_ptr<synth::TruthWriter> truth;
        if (a->truth) truth = std::make_unique<synth::TruthWriter>(a->output + ".truth");
        const auto style = progress_style(a->progress);
        util::Progress progress("synth", layout.point_count, style);
        const auto start = std::chrono::steady_clock::now();
        synth::generate(a->params, [&](std::span<const std::uint8_t> records,
                                       std::span<const synth::TruthRecord> truth_records) {
            writer->write(records);
            if (truth) truth->write(truth_records);
            progress.advance(records.size() / layout.record_length);
        });
        writer->finish();
        if (truth) truth->finish();
        progress.finish();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        spdlog::info("{}: {} points, point format {}, {:.0f} x {:.0f} m, {:.1f} s", a->output,
                     writer->points_written(), layout.point_format, layout.side, layout.side,
                     seconds);
        return 0;
    };
}

}  // namespace lidarmill::app
