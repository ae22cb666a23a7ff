// Appending bytes to layered LAZ records by adding layers (laz/layer_append.hpp) must
// write exactly the file that encoding the widened records from scratch writes; and the
// positions-only decoding scope must restore what it promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "io/open.hpp"
#include "las/point_format.hpp"
#include "laz/layer_append.hpp"
#include "laz/laz_reader.hpp"
#include "laz/laz_test_support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::laz {
namespace {
namespace fs = std::filesystem;
using namespace lidarmill::laz::testing;

std::vector<std::uint8_t> all_records(las::Reader& reader) {
    std::vector<std::uint8_t> records(reader.point_count() * reader.record_length());
    std::size_t at = 0;
    while (const std::size_t n = reader.read(std::span(records).subspan(at))) {
        at += n * reader.record_length();
    }
    records.resize(at);
    return records;
}

// Bytes to append: a mix of slowly varying and noisy values, like feature columns.
std::vector<std::uint8_t> appended_bytes(std::size_t points, std::size_t width) {
    std::vector<std::uint8_t> bytes(points * width);
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < points; ++i) {
        for (std::size_t b = 0; b < width; ++b) {
            state = state * 1664525u + 1013904223u;
            bytes[i * width + b] =
                static_cast<std::uint8_t>(b % 3 == 0 ? (i / 7 + b) : state >> 24);
        }
    }
    return bytes;
}

struct Files {
    std::vector<std::uint8_t> full, appended;
};

fs::path temp_path(const std::string& name) {
    return fs::temp_directory_path() /
           ("lidarmill_append_" + std::to_string(::getpid()) + "_" + name);
}

las::WriterConfig config_for(const las::FileMetadata& m, std::uint16_t record_length) {
    las::WriterConfig config;
    config.header =
        las::derive_header(m.header, m.header.version_minor, m.header.point_format, record_length);
    config.vlrs = m.vlrs;
    config.evlrs = m.evlrs;
    return config;
}

// Writes `path` twice: from whole records, and by appending layers to the input chunks.
Files write_both(const fs::path& input, std::size_t width) {
    auto reader = io::open_reader(input, {2});
    const auto& m = reader->metadata();
    const auto records = all_records(*reader);
    const std::size_t n = records.size() / m.header.record_length;
    const auto vlr = find_laszip_vlr(m);
    const LayerAppender appender(*vlr, m.header.record_length, static_cast<std::uint16_t>(width));
    const std::uint16_t out_length = appender.output_record_length();
    const auto extra = appended_bytes(n, width);

    std::vector<std::uint8_t> widened(n * out_length);
    std::vector<std::uint8_t> channels(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(records.data() + i * m.header.record_length, m.header.record_length,
                    widened.data() + i * out_length);
        std::copy_n(extra.data() + i * width, width,
                    widened.data() + i * out_length + m.header.record_length);
        channels[i] = (records[i * m.header.record_length + 15] >> 4) & 3;
    }

    util::File in(input, util::File::Mode::read);
    const LazPointData data{m.header.offset_to_point_data, m.point_data_end,
                            m.header.point_count(),        m.header.point_format,
                            m.header.record_length,        *vlr};
    const ChunkTable table = read_chunk_table(in, data);
    EXPECT_TRUE(table.problem.empty()) << table.problem;

    io::WriteOptions options;
    options.compress = true;
    options.threads = 2;
    options.laszip_vlr = appender.output_vlr();
    const auto full_path = temp_path("full.laz"), appended_path = temp_path("appended.laz");
    {
        auto writer = io::create_writer(full_path, config_for(m, out_length), options);
        std::size_t first = 0;
        for (const auto& chunk : table.chunks) {
            writer->write(
                std::span(widened).subspan(first * out_length, chunk.point_count * out_length));
            writer->end_chunk();
            first += chunk.point_count;
        }
        writer->finish();
    }
    {
        auto writer = io::create_writer(appended_path, config_for(m, out_length), options);
        las::PointStats stats;
        stats.add(widened, out_length, las::is_extended_format(m.header.point_format));
        writer->add_stats(stats);
        std::size_t first = 0;
        for (const auto& chunk : table.chunks) {
            std::vector<std::uint8_t> bytes(chunk.byte_count);
            in.pread_exact(chunk.offset, bytes, "chunk");
            const std::size_t count = chunk.point_count;
            writer->write_encoded(count, [&appender, bytes = std::move(bytes), count,
                                          new_bytes = std::span(extra).subspan(first * width),
                                          ch = std::span(channels).subspan(first)] {
                return appender.append(bytes, count, new_bytes, ch);
            });
            first += count;
        }
        writer->finish();
    }
    Files files{read_file(full_path), read_file(appended_path)};
    auto decoded = io::open_reader(appended_path, {1});
    EXPECT_TRUE(all_records(*decoded) == widened) << input << ": decoded records differ";
    fs::remove(full_path);
    fs::remove(appended_path);
    return files;
}

TEST(LayerAppend, WritesTheFileAFullEncodingWrites) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // Plain POINT14, RGB14 with variable (COPC) chunks, RGBNIR14 + BYTE14, waveform
    // packets, and a file with a single point.
    for (const char* name :
         {"las14/1_4_w_evlr.laz", "copc/autzen_clip_native.copc.laz", "ign/crop_duplicate.laz",
          "ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz", "las14/fullwave.laz",
          "ign/test_data_0436_6384_LA93_IGN69_single_point.laz", "las14/ellipsoid-1.4.laz"}) {
        for (const std::size_t width : {1u, 13u}) {
            const Files files = write_both(shared_data() / name, width);
            ASSERT_FALSE(files.full.empty());
            EXPECT_TRUE(files.full == files.appended)
                << name << " + " << width << " bytes: appended layers differ from a full encoding";
        }
    }
}

// Other items follow POINT14's per-point context, which changes with the scanner channel
// (and differs between item versions 3 and 4): inputs with channel switches, both versions.
TEST(LayerAppend, FollowsScannerChannelContextsOfVersions3And4) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    auto reader = io::open_reader(shared_data() / "ign/crop_duplicate.laz", {2});
    const auto& m = reader->metadata();
    auto records = all_records(*reader);
    const std::size_t length = m.header.record_length;
    std::uint32_t state = 7;
    std::uint8_t channel = 0;
    for (std::size_t at = 0; at < records.size(); at += length) {
        state = state * 1664525u + 1013904223u;
        if ((state >> 24) < 40) channel = static_cast<std::uint8_t>((state >> 8) & 3);
        records[at + 15] = static_cast<std::uint8_t>((records[at + 15] & 0xCF) | (channel << 4));
    }
    for (const std::uint16_t version : {3, 4}) {
        auto vlr = *find_laszip_vlr(m);
        for (auto& item : vlr.items) item.version = version;
        vlr.chunk_size = 97;  // many chunks, each starting on some channel
        io::WriteOptions options;
        options.compress = true;
        options.laszip_vlr = vlr;
        const auto input = temp_path("channels_v" + std::to_string(version) + ".laz");
        {
            auto writer = io::create_writer(input, config_for(m, m.header.record_length), options);
            writer->write(records);
            writer->finish();
        }
        for (const std::size_t width : {3u, 8u}) {
            const Files files = write_both(input, width);
            EXPECT_TRUE(files.full == files.appended)
                << "version " << version << " + " << width << " bytes";
        }
        fs::remove(input);
    }
}

TEST(LayerAppend, RefusesWhatItCannotExtend) {
    const auto pointwise = LaszipVlr::for_point_format(3, 34);
    EXPECT_FALSE(why_layers_cannot_be_appended(pointwise, 34, 4).empty());
    EXPECT_THROW(LayerAppender(pointwise, 34, 4), util::InputError);
    const auto layered = LaszipVlr::for_point_format(6, 30);
    EXPECT_TRUE(why_layers_cannot_be_appended(layered, 30, 4).empty());
    EXPECT_FALSE(why_layers_cannot_be_appended(layered, 30, 0).empty());
    EXPECT_FALSE(why_layers_cannot_be_appended(layered, 31, 4).empty());  // items != record
    const LayerAppender appender(layered, 30, 4);
    EXPECT_EQ(appender.output_record_length(), 34);
    ASSERT_EQ(appender.output_vlr().items.size(), 2u);
    EXPECT_EQ(appender.output_vlr().items[1].type, ItemType::byte14);
    EXPECT_EQ(appender.output_vlr().items[1].size, 4);
    // A damaged chunk is an input error, never a crash.
    const std::vector<std::uint8_t> extra(8, 1), channels(2, 0), short_chunk(20, 0);
    EXPECT_THROW(appender.append(short_chunk, 2, extra, channels), util::InputError);
    std::vector<std::uint8_t> lying(30 + 4 + 4 * 9, 0);
    lying[34] = 0xFF;  // the first layer claims 255 bytes that are not there
    EXPECT_THROW(appender.append(lying, 2, extra, channels), util::InputError);
}

TEST(LayerAppend, PositionsScopeRestoresPositionsReturnsChannelAndClass) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const char* name : {"ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
                             "copc/autzen_clip_native.copc.laz", "las14/fullwave.laz"}) {
        auto full = io::open_reader(shared_data() / name, {2});
        auto partial = io::open_reader(shared_data() / name, {2, DecodeScope::positions});
        const auto a = all_records(*full);
        const auto b = all_records(*partial);
        ASSERT_EQ(a.size(), b.size()) << name;
        const std::size_t length = full->record_length();
        std::size_t differing_elsewhere = 0;
        for (std::size_t at = 0; at < a.size(); at += length) {
            ASSERT_TRUE(std::equal(a.begin() + at, a.begin() + at + 12, b.begin() + at))
                << name << ": coordinates of point " << at / length;
            ASSERT_EQ(a[at + 14], b[at + 14]) << name << ": returns of point " << at / length;
            ASSERT_EQ(a[at + 15] & 0x30, b[at + 15] & 0x30) << name << ": channel";
            ASSERT_EQ(a[at + 16], b[at + 16]) << name << ": class of point " << at / length;
            differing_elsewhere +=
                !std::equal(a.begin() + at, a.begin() + at + length, b.begin() + at);
        }
        // The scope did skip work: GPS times and intensities are not restored.
        EXPECT_GT(differing_elsewhere, 0u) << name;
    }
}

}  // namespace
}  // namespace lidarmill::laz
