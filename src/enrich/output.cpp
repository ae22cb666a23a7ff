#include "enrich/output.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "io/open.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::enrich {
namespace {

las::ExtraBytesSchema output_schema(const Tile& tile) {
    las::ExtraBytesSchema schema = tile.metadata.extra_bytes;
    if (schema.undeclared_bytes() > 0) {
        // Opaque bytes must be declared before new dimensions can follow them.
        las::ExtraBytesDescriptor opaque;
        opaque.data_type = 0;
        opaque.options = static_cast<std::uint8_t>(schema.undeclared_bytes());
        opaque.name = "undeclared_bytes";
        opaque.description = "Undeclared input extra bytes";
        const std::size_t size = schema.undeclared_bytes();
        schema.total_size = schema.declared_size;
        if (size > 255) {
            throw util::InputError(tile.metadata.path,
                                   "more than 255 undeclared extra bytes per record");
        }
        schema.add(opaque);
    }
    for (const auto& dim : tile.output_layout.dimensions()) schema.add(dim.descriptor());
    return schema;
}

std::unique_ptr<las::Writer> make_writer(const Tile& tile,
                                         std::optional<laz::LaszipVlr> laszip_vlr) {
    const auto& in = tile.metadata.header;
    const std::uint8_t minor = std::max<std::uint8_t>(in.version_minor, 2);
    las::WriterConfig config =
        las::writer_config_from(tile.metadata, {.version_minor = minor,
                                                .point_format = in.point_format,
                                                .record_length = tile.layout.out,
                                                .extra_bytes = output_schema(tile),
                                                .keep_global_encoding = true});
    io::WriteOptions write_options;
    write_options.compress = tile.options.compress;
    write_options.threads = tile.options.threads;
    write_options.laszip_vlr = std::move(laszip_vlr);
    return io::create_writer(tile.output, std::move(config), write_options);
}

// Every compressed input chunk, its layers copied and the features' layers added.
void write_appending_layers(const Tile& tile, FeatureFeed& feed, const LayerReuse& reuse,
                            const las::PointStats& stats, TileRun& run) {
    auto writer = make_writer(tile, reuse.appender.output_vlr());
    writer->add_stats(stats);
    const util::File input(tile.input, util::File::Mode::read);
    const laz::LayerAppender& appender = reuse.appender;
    for (std::size_t c = 0; c < reuse.chunks.size(); ++c) {
        const laz::ChunkLocation& chunk = reuse.chunks[c];
        std::vector<std::uint8_t> compressed(chunk.byte_count);
        input.pread_exact(chunk.offset, compressed, "compressed chunk");
        std::vector<std::uint8_t> features, channels;
        const auto points = static_cast<std::size_t>(chunk.point_count);
        features.reserve(points * tile.feature_bytes);
        channels.reserve(points);
        feed.next(points, features, channels);
        writer->write_encoded(
            points,
            [&appender, points, c, path = tile.metadata.path, compressed = std::move(compressed),
             features = std::move(features), channels = std::move(channels)] {
                try {
                    return appender.append(compressed, points, features, channels);
                } catch (const util::InputError& e) {
                    throw util::InputError(path, fmt::format("chunk {}: {}", c, e.problem()));
                }
            });
        run.progress.advance(points);
    }
    writer->finish();
    run.warnings.insert(run.warnings.end(), writer->warnings.begin(), writer->warnings.end());
}

// The input read again in full, each record followed by its features.
void write_records(const Tile& tile, FeatureFeed& feed, std::uint64_t points_read, TileRun& run) {
    auto reader = io::open_reader(tile.input, {tile.options.threads});
    auto writer = make_writer(tile, std::nullopt);
    std::vector<std::uint8_t> in(kReadBatchPoints * tile.layout.in);
    std::vector<std::uint8_t> out(kReadBatchPoints * tile.layout.out);
    std::vector<std::uint8_t> features, channels;
    std::uint64_t done = 0;
    while (std::size_t n = reader->read(in)) {
        n = static_cast<std::size_t>(std::min<std::uint64_t>(n, points_read - done));
        if (n == 0) break;
        features.clear();
        channels.clear();
        feed.next(n, features, channels);
        for (std::size_t i = 0; i < n; ++i) {
            std::uint8_t* record = out.data() + i * tile.layout.out;
            std::memcpy(record, in.data() + i * tile.layout.in, tile.layout.in);
            std::memcpy(record + tile.layout.in, features.data() + i * tile.feature_bytes,
                        tile.feature_bytes);
        }
        writer->write(std::span(out).first(n * tile.layout.out));
        done += n;
        run.progress.advance(n);
    }
    if (done != points_read) {
        throw util::InputError(tile.metadata.path, "changed while being enriched (fewer points)");
    }
    writer->finish();
    run.warnings.insert(run.warnings.end(), writer->warnings.begin(), writer->warnings.end());
}

}  // namespace

std::optional<LayerReuse> plan_layer_reuse(const Tile& tile) {
    if (!tile.options.reuse_compressed_layers) return std::nullopt;
    if (!tile.options.compress.value_or(io::is_laz_path(tile.output))) return std::nullopt;
    const auto vlr = laz::find_laszip_vlr(tile.metadata);
    if (!vlr || !(tile.metadata.header.point_format_raw & 0xC0)) return std::nullopt;
    const std::string why = laz::why_layers_cannot_be_appended(
        *vlr, tile.layout.in, static_cast<std::uint16_t>(tile.feature_bytes));
    if (!why.empty()) {
        spdlog::debug("{}: features appended by encoding records again: {}", tile.metadata.path,
                      why);
        return std::nullopt;
    }
    const util::File file(tile.input, util::File::Mode::read);
    const laz::LazPointData data{tile.metadata.header.offset_to_point_data,
                                 tile.metadata.point_data_end,
                                 tile.metadata.header.point_count(),
                                 tile.metadata.header.point_format,
                                 tile.layout.in,
                                 *vlr};
    laz::ChunkTable table = laz::read_chunk_table(file, data);
    if (!table.problem.empty()) return std::nullopt;  // the reader warns about it
    std::uint64_t points = 0;
    for (const auto& chunk : table.chunks) points += chunk.point_count;
    if (points != tile.plan().points) return std::nullopt;
    return LayerReuse{
        laz::LayerAppender(*vlr, tile.layout.in, static_cast<std::uint16_t>(tile.feature_bytes)),
        std::move(table.chunks)};
}

void write_output(const Tile& tile, FeatureFeed& feed, const LayerReuse* reuse,
                  const las::PointStats& stats, std::uint64_t points_read, TileRun& run) {
    const PhaseTimer timer(run.write_time);
    if (reuse) {
        write_appending_layers(tile, feed, *reuse, stats, run);
    } else {
        write_records(tile, feed, points_read, run);
    }
}

}  // namespace lidarmill::enrich
