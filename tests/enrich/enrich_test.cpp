// The tile pipeline of `enrich` on real files: records, VLRs, EVLRs and CRS kept, new
// dimensions appended, values equal to a whole-tile computation, and output bytes that do
// not depend on the chunking or on in-memory versus out-of-core processing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/shared_data.hpp"
#include "common/temp_dir.hpp"
#include "enrich/enrich_tile.hpp"
#include "features/test_support.hpp"
#include "io/open.hpp"
#include "las/point_format.hpp"
#include "las/writer.hpp"
#include "ops/translate.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace lidarmill::features {
namespace {

using namespace lidarmill::enrich;

namespace fs = std::filesystem;
using lidarmill::testing::shared_data_dir;

struct Records {
    las::FileMetadata metadata;
    std::vector<std::uint8_t> bytes;
    std::size_t count() const { return bytes.size() / metadata.header.record_length; }
    const std::uint8_t* record(std::size_t i) const {
        return bytes.data() + i * metadata.header.record_length;
    }
};

Records read_all(const fs::path& path) {
    auto reader = io::open_reader(path, {2});
    Records r{reader->metadata(), {}};
    r.bytes.resize(reader->point_count() * reader->record_length());
    std::size_t at = 0;
    while (const std::size_t n = reader->read(std::span(r.bytes).subspan(at))) {
        at += n * reader->record_length();
    }
    r.bytes.resize(at);
    return r;
}

// Writes `records` with the header, VLRs and EVLRs of `like` (LAZ by the path's extension).
void write_like(const fs::path& path, const las::FileMetadata& like,
                std::span<const std::uint8_t> records) {
    const las::Header& h = like.header;
    las::WriterConfig config;
    config.header = las::derive_header(h, h.version_minor, h.point_format, h.record_length);
    config.vlrs = like.vlrs;
    config.evlrs = like.evlrs;
    auto writer = io::create_writer(path, std::move(config), {});
    writer->write(records);
    writer->finish();
}

bool has_warning(const EnrichResult& result, std::string_view text) {
    return std::ranges::any_of(result.warnings, [&](const std::string& warning) {
        return warning.find(text) != std::string::npos;
    });
}

// A thinned IGN tile: 64 k points on 1 km^2.
fs::path sparse_ign_tile() {
    return shared_data_dir() / "ign/Semis_2022_0906_6665_LA93_IGN69_ok.laz";
}

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

class EnrichTest : public lidarmill::testing::TempDirTest {
  protected:
    EnrichOptions options(std::string_view mode = "building") const {
        EnrichOptions o;
        o.features = features_for_mode(mode);
        o.threads = 2;
        o.memory_budget = std::uint64_t{1} << 30;
        return o;
    }
};

// The first record_length bytes of every output record are the input record.
void expect_records_kept(const Records& in, const Records& out) {
    ASSERT_EQ(in.count(), out.count());
    const auto length = in.metadata.header.record_length;
    util::Sha256 prefix_hash;
    for (std::size_t i = 0; i < out.count(); ++i) {
        prefix_hash.update(std::span(out.record(i), length));
    }
    EXPECT_EQ(prefix_hash.hex_digest(), util::sha256_hex(in.bytes));
}

TEST_F(EnrichTest, KeepsRecordsVlrsEvlrsAndCrsAndAppendsDimensions) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto expected = lidarmill::testing::expected_records();
    for (const std::string name :
         {"ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz", "las14/1_4_w_evlr.laz",
          "odd/unregistered_extra_bytes.las", "legacy/extrabytes.las"}) {
        SCOPED_TRACE(name);
        const fs::path input = shared_data_dir() / name;
        const fs::path output = dir_ / (fs::path(name).stem().string() + ".laz");
        const auto result = enrich_file(input, output, options());
        const Records in = read_all(input);
        const Records out = read_all(output);
        EXPECT_EQ(result.points, in.count());
        expect_records_kept(in, out);
        if (expected.count(name) && !expected.at(name).sha256.empty()) {
            EXPECT_EQ(util::sha256_hex(in.bytes), expected.at(name).sha256);
        }

        // New dimensions after the input's own, with names and descriptions.
        const auto& schema = out.metadata.extra_bytes;
        const auto features = features_for_mode("building");
        ASSERT_GE(schema.dimensions.size(), features.size());
        const std::size_t first_new = schema.dimensions.size() - features.size();
        for (std::size_t f = 0; f < features.size(); ++f) {
            const auto& d = schema.dimensions[first_new + f].descriptor;
            EXPECT_EQ(d.name, feature_name(features[f]));
            EXPECT_EQ(d.description, feature_description(features[f]));
            EXPECT_EQ(d.base_type(), las::ExtraType::f32);
        }
        EXPECT_EQ(out.metadata.header.record_length,
                  in.metadata.header.record_length + 4 * features.size());
        for (const auto& dim : in.metadata.extra_bytes.dimensions) {
            const auto* kept = schema.find(dim.descriptor.name);
            ASSERT_NE(kept, nullptr) << dim.descriptor.name;
            EXPECT_EQ(kept->offset_in_extra, dim.offset_in_extra);
        }

        // Every other VLR and every EVLR byte for byte, and the CRS.
        auto without_schema = [](const std::vector<las::Vlr>& vlrs) {
            std::vector<std::pair<std::string, std::vector<std::uint8_t>>> kept;
            for (const auto& v : vlrs) {
                if (!v.is("LASF_Spec", 4) && !v.is("laszip encoded", 22204)) {
                    kept.push_back({v.user_id + "/" + std::to_string(v.record_id), v.data});
                }
            }
            return kept;
        };
        EXPECT_EQ(without_schema(in.metadata.vlrs), without_schema(out.metadata.vlrs));
        ASSERT_EQ(in.metadata.evlrs.size(), out.metadata.evlrs.size());
        for (std::size_t e = 0; e < in.metadata.evlrs.size(); ++e) {
            EXPECT_EQ(in.metadata.evlrs[e].data, out.metadata.evlrs[e].data);
        }
        EXPECT_EQ(in.metadata.crs.wkt, out.metadata.crs.wkt);
        EXPECT_EQ(in.metadata.crs.epsg, out.metadata.crs.epsg);
        EXPECT_EQ(in.metadata.header.scale, out.metadata.header.scale);
        EXPECT_EQ(in.metadata.header.offset, out.metadata.header.offset);

        // translate --drop-extra <new dimensions> gives back the input's records.
        ops::TranslateOptions drop;
        for (const Feature f : features) drop.drop_extra.emplace_back(feature_name(f));
        const fs::path dropped = dir_ / "dropped.las";
        ops::translate(output, dropped, drop);
        const Records back = read_all(dropped);
        if (in.metadata.extra_bytes.undeclared_bytes() == 0) {
            EXPECT_EQ(util::sha256_hex(back.bytes), util::sha256_hex(in.bytes));
        } else {
            expect_records_kept(in, back);
        }
    }
}

TEST_F(EnrichTest, OutputBytesDoNotDependOnChunksOrBudget) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "ign/Semis_2022_0906_6665_LA93_IGN69_ok.laz";
    auto whole = options("full");
    const auto single = enrich_file(input, dir_ / "single.laz", whole);
    EXPECT_EQ(single.chunks, 1u);
    EXPECT_FALSE(single.out_of_core);

    auto chunked = whole;
    chunked.max_chunk_points = 3000;
    const auto many = enrich_file(input, dir_ / "chunked.laz", chunked);
    EXPECT_GT(many.chunks, 9u);
    EXPECT_FALSE(many.out_of_core);

    auto spilled = whole;
    spilled.memory_budget = 48u << 20;  // far below the in-memory need: out of core
    spilled.max_chunk_points = 5000;
    spilled.temp_dir = dir_;
    const auto out_of_core = enrich_file(input, dir_ / "spilled.laz", spilled);
    EXPECT_TRUE(out_of_core.out_of_core);
    EXPECT_GT(out_of_core.chunks, 4u);
    EXPECT_GT(out_of_core.scratch_bytes, 0u);

    const auto reference = file_bytes(dir_ / "single.laz");
    EXPECT_EQ(reference, file_bytes(dir_ / "chunked.laz"));
    EXPECT_EQ(reference, file_bytes(dir_ / "spilled.laz"));
    // The scratch folder is gone.
    for (const auto& entry : fs::directory_iterator(dir_)) {
        EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path();
    }
}

// Copying the compressed layers of a layered LAZ input is an optimisation only: the file
// is the one encoding every record again writes, in memory and out of core.
TEST_F(EnrichTest, ReusingCompressedLayersWritesTheSameFileAsEncodingAgain) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const std::string name : {"ign/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
                                   "ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz"}) {
        SCOPED_TRACE(name);
        const fs::path input = shared_data_dir() / name;
        for (const bool spill : {false, true}) {
            auto reuse = options("core");
            if (spill) {
                reuse.memory_budget = 48u << 20;
                reuse.max_chunk_points = 5000;
                reuse.temp_dir = dir_;
            }
            auto again = reuse;
            again.reuse_compressed_layers = false;
            const auto fast = enrich_file(input, dir_ / "reused.laz", reuse);
            const auto slow = enrich_file(input, dir_ / "encoded.laz", again);
            EXPECT_TRUE(fast.reused_compressed_layers);
            EXPECT_FALSE(slow.reused_compressed_layers);
            EXPECT_EQ(fast.out_of_core, spill);
            EXPECT_TRUE(file_bytes(dir_ / "reused.laz") == file_bytes(dir_ / "encoded.laz"))
                << (spill ? "out of core" : "in memory");
        }
    }
}

// A COPC input gives a plain LAZ file (its octree VLR and EVLR would describe the wrong
// bytes), chunked like the input, with every record kept.
TEST_F(EnrichTest, CopcInputGivesPlainLazWithRecordsKept) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "copc/autzen_clip_native.copc.laz";
    const auto result = enrich_file(input, dir_ / "autzen.laz", options("core"));
    EXPECT_TRUE(result.reused_compressed_layers);
    const Records in = read_all(input);
    const Records out = read_all(dir_ / "autzen.laz");
    expect_records_kept(in, out);
    for (const auto& v : out.metadata.vlrs) EXPECT_NE(v.user_id, "copc");
    for (const auto& v : out.metadata.evlrs) EXPECT_NE(v.user_id, "copc");
    EXPECT_EQ(in.metadata.crs.wkt, out.metadata.crs.wkt);
}

TEST_F(EnrichTest, ValuesEqualAWholeTileComputationInInputOrder) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "legacy/plane.laz";
    auto o = options("full");
    o.max_chunk_points = 4000;
    const fs::path output = dir_ / "plane.las";
    enrich_file(input, output, o);

    const Records in = read_all(input);
    const Records out = read_all(output);
    const auto& h = in.metadata.header;
    // The same local origin as the pipeline (the header minimum rounded down to a km).
    const double origin_x = std::floor(h.min[0] / 1000) * 1000;
    const double origin_y = std::floor(h.min[1] / 1000) * 1000;
    std::vector<double> x, y, z;
    for (std::size_t i = 0; i < in.count(); ++i) {
        x.push_back(util::load_le<std::int32_t>(in.record(i)) * h.scale[0] +
                    (h.offset[0] - origin_x));
        y.push_back(util::load_le<std::int32_t>(in.record(i) + 4) * h.scale[1] +
                    (h.offset[1] - origin_y));
        z.push_back(util::load_le<std::int32_t>(in.record(i) + 8) * h.scale[2] + h.offset[2]);
    }
    // No class-2 points in plane.laz: height features are no-data, the others are compared.
    std::vector<Feature> shape;
    for (const Feature f : features_for_mode("full")) {
        if (f != Feature::height_above_ground && f != Feature::wall_score &&
            f != Feature::roof_score) {
            shape.push_back(f);
        }
    }
    std::vector<std::uint32_t> query(in.count());
    std::vector<std::uint64_t> ids(in.count());
    for (std::size_t i = 0; i < in.count(); ++i) query[i] = ids[i] = i;
    const auto columns =
        testing::compute_all({x, y, z, ids}, shape, o.neighbourhood, nullptr, query);

    const auto& schema = out.metadata.extra_bytes;
    const auto base = las::base_record_length(h.point_format);
    std::size_t compared = 0;
    for (std::size_t f = 0; f < shape.size(); ++f) {
        const auto* dim = schema.find(feature_name(shape[f]));
        ASSERT_NE(dim, nullptr);
        for (std::size_t i = 0; i < in.count(); ++i) {
            const auto extra =
                std::span(out.record(i) + base, out.metadata.header.record_length - base);
            const double stored = schema.value(extra, *dim);
            const double expected = columns[f][i];
            if (std::isnan(expected)) {
                EXPECT_TRUE(std::isnan(stored)) << feature_name(shape[f]) << " point " << i;
                continue;
            }
            ASSERT_NEAR(stored, expected, 1e-5 * std::max(1.0, std::abs(expected)))
                << feature_name(shape[f]) << " point " << i;
            ++compared;
        }
    }
    EXPECT_GT(compared, in.count() * 10);
    // A plane: normals near vertical for nearly every point.
    const auto* planarity = schema.find("verticality");
    std::size_t planar = 0;
    for (std::size_t i = 0; i < out.count(); ++i) {
        const auto extra =
            std::span(out.record(i) + base, out.metadata.header.record_length - base);
        planar += schema.value(extra, *planarity) < 0.1;
    }
    EXPECT_GT(planar, out.count() * 8 / 10);
}

TEST_F(EnrichTest, CompactPrecisionStoresScaledIntegersCloseToFloat) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "ign/test_data_77055_627755_LA93_IGN69.laz";
    auto o = options("building");
    enrich_file(input, dir_ / "float.laz", o);
    o.precision = Precision::compact;
    enrich_file(input, dir_ / "compact.laz", o);
    const Records full = read_all(dir_ / "float.laz");
    const Records compact = read_all(dir_ / "compact.laz");
    EXPECT_LT(compact.metadata.header.record_length, full.metadata.header.record_length);
    EXPECT_LT(fs::file_size(dir_ / "compact.laz"), fs::file_size(dir_ / "float.laz"));
    const auto base = las::base_record_length(full.metadata.header.point_format);
    for (const Feature f : features_for_mode("building")) {
        const auto* a = full.metadata.extra_bytes.find(feature_name(f));
        const auto* b = compact.metadata.extra_bytes.find(feature_name(f));
        ASSERT_TRUE(a && b);
        const bool scaled = b->descriptor.base_type() == las::ExtraType::i16;
        if (scaled) {
            EXPECT_TRUE(b->descriptor.has_scale()) << feature_name(f);
        }
        for (std::size_t i = 0; i < full.count(); i += 7) {
            const double va = full.metadata.extra_bytes.value(
                std::span(full.record(i) + base, full.metadata.header.record_length - base), *a);
            const double vb = compact.metadata.extra_bytes.value(
                std::span(compact.record(i) + base, compact.metadata.header.record_length - base),
                *b);
            if (std::isnan(va)) {
                if (scaled) {
                    EXPECT_EQ(
                        util::load_le<std::int16_t>(compact.record(i) + base + b->offset_in_extra),
                        kCompactNoData);
                }
                continue;
            }
            ASSERT_NEAR(vb, va, scaled ? b->descriptor.scale[0] : 0.0)
                << feature_name(f) << " " << i;
        }
    }
}

TEST_F(EnrichTest, RefusesFilesEnrichedBeforeAndOverwritingTheInput) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "ign/crop_duplicate.laz";
    enrich_file(input, dir_ / "once.laz", options("core"));
    EXPECT_THROW(enrich_file(dir_ / "once.laz", dir_ / "twice.laz", options("core")),
                 util::InputError);
    EXPECT_THROW(enrich_file(dir_ / "once.laz", dir_ / "once.laz", options("full")),
                 util::UsageError);
    EXPECT_FALSE(fs::exists(dir_ / "twice.laz"));
}

TEST_F(EnrichTest, EmptyAndSinglePointFilesGiveNoDataNotGarbage) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto empty =
        enrich_file(shared_data_dir() / "legacy/no-points-1.3.laz", dir_ / "empty.laz", options());
    EXPECT_EQ(empty.points, 0u);
    EXPECT_EQ(read_all(dir_ / "empty.laz").count(), 0u);

    const fs::path single =
        shared_data_dir() / "ign/test_data_0436_6384_LA93_IGN69_single_point.laz";
    enrich_file(single, dir_ / "single.laz", options("full"));
    const Records out = read_all(dir_ / "single.laz");
    ASSERT_EQ(out.count(), 1u);
    const auto base = las::base_record_length(out.metadata.header.point_format);
    const auto extra = std::span(out.record(0) + base, out.metadata.header.record_length - base);
    EXPECT_TRUE(std::isnan(
        out.metadata.extra_bytes.value(extra, *out.metadata.extra_bytes.find("planarity"))));
    EXPECT_EQ(
        out.metadata.extra_bytes.value(extra, *out.metadata.extra_bytes.find("points_in_radius")),
        0.0);
}

// A stray ground point 40 km away (a trajectory glitch) stretches the bounding box to
// 1600 km^2, over 10^9 ground cells of 1 m, which no grid over the box could hold: the tile
// is enriched all the same, in little memory, and every other point gets the very values
// it gets without the stray one.
TEST_F(EnrichTest, AStrayPointFarAwayChangesNothingForTheOthers) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const Records in = read_all(sparse_ign_tile());
    const auto& h = in.metadata.header;
    const std::size_t n = in.count();
    std::size_t ground = n;
    for (std::size_t i = 0; i < n && ground == n; ++i) {
        if (in.record(i)[16] == 2) ground = i;  // classification, formats 6-10
    }
    ASSERT_LT(ground, n);
    std::vector<std::uint8_t> with_stray = in.bytes;
    with_stray.insert(with_stray.end(), in.record(ground), in.record(ground) + h.record_length);
    std::uint8_t* const stray = with_stray.data() + n * h.record_length;
    for (const std::size_t axis : {0u, 1u}) {
        const auto at = util::load_le<std::int32_t>(stray + 4 * axis);
        util::store_le<std::int32_t>(stray + 4 * axis,
                                     at + static_cast<std::int32_t>(40000 / h.scale[axis]));
    }
    write_like(dir_ / "tile.las", in.metadata, in.bytes);
    write_like(dir_ / "tile_stray.las", in.metadata, with_stray);

    auto o = options("core");
    o.memory_budget = 256u << 20;
    enrich_file(dir_ / "tile.las", dir_ / "out.las", o);
    const EnrichResult result = enrich_file(dir_ / "tile_stray.las", dir_ / "out_stray.las", o);
    // (Of the whole test process; a grid over the box would need over 30 GB.)
    EXPECT_LT(result.peak_rss_bytes, std::uint64_t{1} << 30);

    const Records out = read_all(dir_ / "out.las");
    const Records out_stray = read_all(dir_ / "out_stray.las");
    ASSERT_EQ(out_stray.count(), n + 1);
    const std::size_t length = out.metadata.header.record_length;
    ASSERT_EQ(out_stray.metadata.header.record_length, length);
    EXPECT_TRUE(std::equal(out.bytes.begin(), out.bytes.end(), out_stray.bytes.begin()));
    // Planned on the points, not on the 1,600 km^2 box (which would have wanted tens of GB
    // for the ground and chunks of 20 km), and the user is told why.
    EXPECT_FALSE(result.plan.out_of_core);
    EXPECT_LT(result.plan.minimum_bytes, std::uint64_t{256} << 20);
    EXPECT_LT(result.plan.chunk_side, 1100.0);
    EXPECT_TRUE(has_warning(result, "stray points?"));
    // The stray point is its own ground; alone, it has no neighbourhood shape.
    const auto& schema = out_stray.metadata.extra_bytes;
    const auto base = las::base_record_length(h.point_format);
    const auto extra = std::span(out_stray.record(n) + base, length - base);
    EXPECT_NEAR(schema.value(extra, *schema.find("height_above_ground")), 0.0, 1e-6);
    EXPECT_TRUE(std::isnan(schema.value(extra, *schema.find("planarity"))));
}

// Two tiles 20 km apart in one file: chunks sized for the mean density of the box would
// put a whole tile in one chunk. Sized on where the points are, no chunk holds more than
// twice its target, and the output is the one of fewer, larger chunks.
TEST_F(EnrichTest, ChunksFollowWhereThePointsAreNotTheHeaderBox) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const Records in = read_all(sparse_ign_tile());
    const auto& h = in.metadata.header;
    const std::size_t n = in.count();
    std::vector<std::uint8_t> both = in.bytes;
    both.insert(both.end(), in.bytes.begin(), in.bytes.end());
    for (std::size_t i = n; i < 2 * n; ++i) {
        std::uint8_t* const record = both.data() + i * h.record_length;
        util::store_le<std::int32_t>(record, util::load_le<std::int32_t>(record) +
                                                 static_cast<std::int32_t>(20000 / h.scale[0]));
    }
    write_like(dir_ / "two.laz", in.metadata, both);

    auto o = options("core");
    o.max_chunk_points = n / 4;
    util::File file(dir_ / "two.laz", util::File::Mode::read);
    const TilePlan plan = plan_tile(las::read_metadata(file), o);
    EXPECT_GT(plan.crowded_chunk_points, 0u);
    EXPECT_LE(plan.crowded_chunk_points, 2 * o.max_chunk_points);
    EXPECT_GE(plan.chunk_count(), 8u);
    const EnrichResult chunked = enrich_file(dir_ / "two.laz", dir_ / "chunked.laz", o);
    EXPECT_EQ(chunked.chunks, plan.chunk_count());
    o.max_chunk_points = 0;
    const EnrichResult few = enrich_file(dir_ / "two.laz", dir_ / "few.laz", o);
    EXPECT_LT(few.chunks, chunked.chunks);
    EXPECT_EQ(read_all(dir_ / "chunked.laz").bytes, read_all(dir_ / "few.laz").bytes);
}

// A tile whose points crowd one corner of a sound box (four shrunken copies of it there):
// out of core, the corner's chunk holds many times the points planned. It is split on
// disk into smaller chunks, and the output is the one computed in memory.
TEST_F(EnrichTest, CrowdedChunksOutOfCoreAreSplit) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const Records in = read_all(sparse_ign_tile());
    const auto& h = in.metadata.header;
    const std::size_t n = in.count();
    std::vector<std::uint8_t> crowded = in.bytes;
    const auto x0 = static_cast<std::int32_t>(std::llround((h.min[0] - h.offset[0]) / h.scale[0]));
    const auto y0 = static_cast<std::int32_t>(std::llround((h.min[1] - h.offset[1]) / h.scale[1]));
    for (int copy = 0; copy < 4; ++copy) {
        crowded.insert(crowded.end(), in.bytes.begin(), in.bytes.end());
        for (std::size_t i = 0; i < n; ++i) {
            std::uint8_t* const record = crowded.data() + ((copy + 1) * n + i) * h.record_length;
            for (const std::int32_t axis : {0, 1}) {
                const std::int32_t origin = axis == 0 ? x0 : y0;
                const auto at = util::load_le<std::int32_t>(record + 4 * axis);
                util::store_le<std::int32_t>(record + 4 * axis,
                                             origin + (at - origin) / 10 + 7 * copy + axis);
            }
        }
    }
    write_like(dir_ / "crowded.las", in.metadata, crowded);

    auto o = options("core");
    o.memory_budget = 64u << 20;
    o.max_chunk_points = 10000;
    const EnrichResult split = enrich_file(dir_ / "crowded.las", dir_ / "split.las", o);
    EXPECT_TRUE(split.out_of_core);
    EXPECT_GE(split.split_chunks, 1u);
    o.memory_budget = std::uint64_t{2} << 30;
    o.max_chunk_points = 0;
    const EnrichResult whole = enrich_file(dir_ / "crowded.las", dir_ / "whole.las", o);
    EXPECT_FALSE(whole.out_of_core);
    EXPECT_EQ(read_all(dir_ / "split.las").bytes, read_all(dir_ / "whole.las").bytes);
    // Nothing left in the scratch folder's parent.
    for (const auto& entry : fs::directory_iterator(dir_)) {
        EXPECT_EQ(entry.path().filename().string().find(".lidarmill"), std::string::npos);
    }
}

// Bounds left at zero by the writer: the box says nothing, the points are read to plan.
TEST_F(EnrichTest, ZeroHeaderBoundsArePlannedOnThePoints) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    ops::translate(sparse_ign_tile(), dir_ / "tile.las", {});
    fs::copy_file(dir_ / "tile.las", dir_ / "zero.las");
    {
        std::fstream file(dir_ / "zero.las", std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(179);  // max x, min x, max y, min y, max z, min z
        const std::vector<char> zeros(48, 0);
        file.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    auto o = options("core");
    o.max_chunk_points = 20000;
    util::File file(dir_ / "zero.las", util::File::Mode::read);
    const TilePlan plan = plan_tile(las::read_metadata(file), o);
    EXPECT_GT(plan.crowded_chunk_points, 0u);  // the points were read
    EXPECT_LE(plan.crowded_chunk_points, 2 * o.max_chunk_points);
    EXPECT_GE(plan.chunk_count(), 4u);
    enrich_file(dir_ / "tile.las", dir_ / "tile_out.las", o);
    const EnrichResult result = enrich_file(dir_ / "zero.las", dir_ / "zero_out.las", o);
    EXPECT_EQ(result.chunks, plan.chunk_count());
    EXPECT_TRUE(has_warning(result, "header bounds do not cover the points"));
    EXPECT_EQ(read_all(dir_ / "zero_out.las").bytes, read_all(dir_ / "tile_out.las").bytes);
}

TEST_F(EnrichTest, PlanGoesOutOfCoreOnlyWhenTheTileDoesNotFit) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    util::File file(shared_data_dir() / "ign/test_semis_2023_0292_6833_LA93_IGN69.laz",
                    util::File::Mode::read);
    const auto m = las::read_metadata(file);
    auto o = options("building");
    o.memory_budget = std::uint64_t{2} << 30;
    const auto roomy = plan_tile(m, o);
    EXPECT_FALSE(roomy.out_of_core);
    EXPECT_LE(roomy.estimated_peak_bytes, o.memory_budget);
    // 0.3 points/m^2: chunks of 64 k points are 500 m wide and their 5 m halos thin, so in
    // memory chunks stop growing there, whatever the budget (they run from cache).
    EXPECT_EQ(roomy.chunk_count(), 4u);
    EXPECT_GE(roomy.chunk_points, 65536u);
    // 29 points/m^2: a chunk that size would be 50 m wide, with a halo of 40 % of it.
    util::File dense_file(shared_data_dir() / "ign/test_data_77055_627755_LA93_IGN69.laz",
                          util::File::Mode::read);
    const auto dense = plan_tile(las::read_metadata(dense_file), o);
    EXPECT_FALSE(dense.out_of_core);
    EXPECT_EQ(dense.chunk_count(), 1u);
    o.memory_budget = 64u << 20;
    const auto tight = plan_tile(m, o);
    EXPECT_TRUE(tight.out_of_core);
    EXPECT_GT(tight.chunk_count(), 1u);
    EXPECT_GE(tight.chunk_side, 2 * tight.halo);
    EXPECT_GT(minimum_tile_memory(m, o), 0u);
}

}  // namespace
}  // namespace lidarmill::features
