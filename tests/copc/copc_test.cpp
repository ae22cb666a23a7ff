// The COPC converter on real and synthetic data: every point kept exactly once (order-free
// hash of the records), files that pass validate --deep, thread-independent bytes, merges.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "common/shared_data.hpp"
#include "common/temp_dir.hpp"
#include "copc/converter.hpp"
#include "copc/format.hpp"
#include "copc/plan.hpp"
#include "copc/spill.hpp"
#include "copc/validate.hpp"
#include "copc/writer.hpp"
#include "io/open.hpp"
#include "las/convert.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::copc {
namespace {

namespace fs = std::filesystem;
using testing::shared_data_dir;

// A multiset digest: two independent 64-bit hashes of each record, summed.
struct RecordMultiset {
    std::uint64_t count = 0, sum1 = 0, sum2 = 0;
    void add(const std::uint8_t* r, std::size_t length) {
        std::uint64_t h1 = 1469598103934665603ull, h2 = 0x9e3779b97f4a7c15ull;
        for (std::size_t i = 0; i < length; ++i) {
            h1 = (h1 ^ r[i]) * 1099511628211ull;
            h2 = (h2 + r[i] + 1) * 0xff51afd7ed558ccdull;
            h2 ^= h2 >> 29;
        }
        ++count;
        sum1 += h1;
        sum2 += h2;
    }
    bool operator==(const RecordMultiset&) const = default;
};

void PrintTo(const RecordMultiset& m, std::ostream* os) {
    *os << m.count << " records " << m.sum1 << "/" << m.sum2;
}

// The input's records as the converter must write them: output point format and record
// length, coordinates in the output scale and offset.
RecordMultiset expected_multiset(const std::vector<fs::path>& inputs, const las::Header& out) {
    RecordMultiset m;
    for (const auto& path : inputs) {
        auto reader = io::open_reader(path, {1});
        const auto& in = reader->header();
        las::RecordConverter converter({in.point_format, in.record_length},
                                       {out.point_format, out.record_length}, true);
        std::vector<std::uint8_t> buffer(4096 * in.record_length),
            converted(4096 * out.record_length);
        while (const std::size_t n = reader->read(buffer)) {
            converter.convert(buffer, n, converted);
            for (std::size_t i = 0; i < n; ++i) {
                std::uint8_t* r = converted.data() + i * out.record_length;
                for (int axis = 0; axis < 3; ++axis) {
                    const double world =
                        util::load_le<std::int32_t>(r + 4 * axis) * in.scale[axis] +
                        in.offset[axis];
                    util::store_le(r + 4 * axis,
                                   static_cast<std::int32_t>(
                                       std::llround((world - out.offset[axis]) / out.scale[axis])));
                }
                m.add(r, out.record_length);
            }
        }
    }
    return m;
}

RecordMultiset output_multiset(const fs::path& copc) {
    RecordMultiset m;
    auto reader = io::open_reader(copc, {1});
    const std::size_t length = reader->record_length();
    std::vector<std::uint8_t> buffer(4096 * length);
    while (const std::size_t n = reader->read(buffer)) {
        for (std::size_t i = 0; i < n; ++i) m.add(buffer.data() + i * length, length);
    }
    return m;
}

std::string describe(const ValidationReport& r) {
    std::string text;
    for (const auto& f : r.findings)
        text += std::string(severity_name(f.severity)) + " [" + f.check + "] " + f.message + "\n";
    return text;
}

class CopcTest : public testing::TempDirTest {
  protected:
    ConvertResult convert_files(const std::vector<fs::path>& inputs, const fs::path& out,
                                unsigned threads = 2, std::size_t leaf_max = 100'000) {
        ConvertOptions o;
        o.inputs = inputs;
        o.output = out;
        o.threads = threads;
        o.memory_budget = 256ull << 20;
        o.leaf_max_points = leaf_max;
        o.temp_dir = dir_ / "tmp";
        return convert(o);
    }

    // Converts, then checks conservation, validity and the header of the result.
    void check_round_trip(const std::vector<fs::path>& inputs, std::size_t leaf_max = 100'000) {
        const fs::path out = dir_ / (inputs.front().stem().string() + ".copc.laz");
        const auto result = convert_files(inputs, out, 2, leaf_max);
        auto reader = io::open_reader(out, {1});
        const las::Header header = reader->header();
        EXPECT_EQ(header.point_format,
                  copc_point_format(io::open_reader(inputs.front(), {1})->header().point_format));
        EXPECT_EQ(header.legacy_point_count, 0u);
        EXPECT_EQ(output_multiset(out), expected_multiset(inputs, header)) << inputs.front();
        EXPECT_EQ(result.points, header.point_count_64);
        const auto report = validate_copc(out, {true, 2});
        EXPECT_EQ(report.count(Severity::error), 0u) << inputs.front() << "\n" << describe(report);
        EXPECT_EQ(report.points_decoded, result.points);
        // Nothing left behind in the temporary folder.
        for (const auto& e : fs::directory_iterator(dir_ / "tmp"))
            ADD_FAILURE() << "left over: " << e.path();
    }
};

TEST_F(CopcTest, SharedDataFilesKeepEveryRecordAndValidate) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    int converted = 0;
    for (const auto& [file, expected] : testing::expected_records()) {
        if (file.rfind("copc/", 0) == 0 || file.rfind("bench/", 0) == 0) continue;
        if (!expected.points || *expected.points == 0) continue;
        SCOPED_TRACE(file);
        check_round_trip({shared_data_dir() / file});
        ++converted;
    }
    EXPECT_GE(converted, 30);
}

TEST_F(CopcTest, DeepOctreeWithHierarchyPages) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path out = dir_ / "autzen_small_leaves.copc.laz";
    const auto r = convert_files({shared_data_dir() / "legacy/autzen_trim.laz"}, out, 2, 100);
    EXPECT_GE(r.max_depth, 3);
    const auto report = validate_copc(out, {true, 2});
    EXPECT_TRUE(report.valid()) << describe(report);
    EXPECT_EQ(report.pages, r.pages);
    EXPECT_EQ(output_multiset(out),
              expected_multiset({shared_data_dir() / "legacy/autzen_trim.laz"},
                                io::open_reader(out, {1})->header()));
}

TEST(CopcHierarchy, PagesSplitEveryFourLevelsBelowNodesWithChildren) {
    std::map<VoxelKey, Entry> nodes;
    // A chain 0-0-0-0 ... 9-0-0-0 plus a leaf sibling at depth 4 (no page of its own).
    for (int d = 0; d <= 9; ++d) nodes[{d, 0, 0, 0}] = Entry{{d, 0, 0, 0}, 1000u + d, 10, 5};
    nodes[{4, 1, 0, 0}] = Entry{{4, 1, 0, 0}, 2000, 10, 5};
    auto layout = paginate(nodes);
    ASSERT_EQ(layout.pages.size(), 3u);
    EXPECT_EQ(layout.pages[0].root, (VoxelKey{0, 0, 0, 0}));
    EXPECT_EQ(layout.pages[1].root, (VoxelKey{4, 0, 0, 0}));
    EXPECT_EQ(layout.pages[2].root, (VoxelKey{8, 0, 0, 0}));
    // Root page: depths 0-3, the depth-4 leaf, one pointer.
    EXPECT_EQ(layout.pages[0].entries.size(), 6u);
    assign_page_offsets(layout, 5000);
    const Entry& pointer = layout.pages[0].entries.back();
    EXPECT_EQ(pointer.point_count, -1);
    EXPECT_EQ(pointer.key, (VoxelKey{4, 0, 0, 0}));
    EXPECT_EQ(pointer.offset, 5000u + 6 * kEntrySize);
    EXPECT_EQ(pointer.byte_size,
              static_cast<std::int32_t>(layout.pages[1].entries.size() * kEntrySize));
    EXPECT_EQ(layout.pages[1].entries.front().key, (VoxelKey{4, 0, 0, 0}));
    EXPECT_EQ(layout.pages[2].entries.size(), 2u);
}

TEST_F(CopcTest, OutputIsIndependentOfThreadCount) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path input = shared_data_dir() / "ign/test_semis_2023_0292_6833_LA93_IGN69.laz";
    convert_files({input}, dir_ / "one.copc.laz", 1, 5000);
    convert_files({input}, dir_ / "two.copc.laz", 2, 5000);
    std::ifstream a(dir_ / "one.copc.laz", std::ios::binary),
        b(dir_ / "two.copc.laz", std::ios::binary);
    const std::string bytes_a((std::istreambuf_iterator<char>(a)), {}),
        bytes_b((std::istreambuf_iterator<char>(b)), {});
    EXPECT_GT(bytes_a.size(), 1000u);
    EXPECT_TRUE(bytes_a == bytes_b) << "1-thread and 2-thread outputs differ";
}

TEST_F(CopcTest, ValidateReportsTheGpsRangeDefectOfEllipsoid) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto shallow = validate_copc(shared_data_dir() / "copc/ellipsoid.copc.laz", {false, 1});
    EXPECT_TRUE(shallow.valid()) << describe(shallow);
    const auto deep = validate_copc(shared_data_dir() / "copc/ellipsoid.copc.laz", {true, 2});
    EXPECT_FALSE(deep.valid());
    bool gps = false;
    for (const auto& f : deep.findings)
        gps = gps || (f.check == "gps-range" && f.severity == Severity::error);
    EXPECT_TRUE(gps) << describe(deep);
    for (const char* good :
         {"copc/simple.copc.laz", "copc/simple_with_page.copc.laz", "copc/lone-star.copc.laz"}) {
        const auto r = validate_copc(shared_data_dir() / good, {true, 2});
        EXPECT_TRUE(r.valid()) << good << "\n" << describe(r);
    }
    EXPECT_EQ(validate_copc(shared_data_dir() / "copc/simple_with_page.copc.laz").pages, 2u);
    EXPECT_FALSE(validate_copc(shared_data_dir() / "odd/bad-ellipsoid.copc.laz").valid());
    EXPECT_FALSE(validate_copc(shared_data_dir() / "legacy/autzen_trim.laz").valid());
}

// Nodes decode in parallel; the node a finding names as the first offending one must not
// depend on which thread finished first.
TEST_F(CopcTest, DeepFindingsNameTheSameFirstNodeWhateverTheThreads) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path file = shared_data_dir() / "copc/ellipsoid.copc.laz";
    const std::string one_thread = describe(validate_copc(file, {true, 1}));
    EXPECT_NE(one_thread.find("gps-range"), std::string::npos) << one_thread;
    for (int run = 0; run < 8; ++run) {
        EXPECT_EQ(describe(validate_copc(file, {true, 2})), one_thread) << "run " << run;
    }
}

TEST_F(CopcTest, FourAdjacentSynthTilesMergeIntoOneCopc) {
    // 15 points/m2: 60000 points make a 63.2 m tile.
    const double side = std::sqrt(60000.0 / 15.0);
    std::vector<fs::path> tiles;
    for (int i = 0; i < 4; ++i) {
        fs::create_directories(dir_ / "tiles");
        const fs::path tile = dir_ / "tiles" / ("tile" + std::to_string(i) + ".laz");
        const double x = 650000.0 + (i % 2) * side, y = 6860000.0 + (i / 2) * side;
        const auto r = testing::run_lidarmill("synth " + testing::shell_quote(tile.string()) +
                                              " --points 60000 --progress none --seed " +
                                              std::to_string(i + 1) + " --origin " +
                                              std::to_string(x) + "," + std::to_string(y));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        tiles.push_back(tile);
    }
    check_round_trip(tiles, 20000);
    // Folders are searched for point files too.
    EXPECT_EQ(collect_inputs({(dir_ / "tiles").string()}).size(), 4u);
}

TEST_F(CopcTest, InputsWithDifferentCrsNeedASrs) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const std::vector<fs::path> inputs{
        shared_data_dir() / "ign/test_data_77055_627755_LA93_IGN69.laz",
        shared_data_dir() / "ign/sample_lareunion_epsg2975.laz"};
    EXPECT_THROW(plan_output(inputs, ""), util::InputError);
    const auto plan = plan_output(inputs, "EPSG:2975");
    ASSERT_TRUE(plan.wkt.has_value());
    EXPECT_NE(plan.wkt->find("2975"), std::string::npos);
    EXPECT_THROW(plan_output(inputs, "EPSG:4326"), util::UsageError);
}

TEST_F(CopcTest, StaleTemporaryFoldersAreRemoved) {
    const fs::path parent = dir_ / "tmp";
    fs::create_directories(parent / "lidarmill-copc-999999999-0");
    std::ofstream(parent / "lidarmill-copc-999999999-0" / "points.bin")
        << "leftover of a killed run";
    fs::create_directories(parent / "unrelated");
    {
        TempRunDir run(parent);
        EXPECT_TRUE(fs::is_directory(run.path()));
        EXPECT_FALSE(fs::exists(parent / "lidarmill-copc-999999999-0"));
    }
    EXPECT_TRUE(fs::exists(parent / "unrelated"));
    EXPECT_EQ(std::distance(fs::directory_iterator(parent), fs::directory_iterator()), 1);
}

TEST_F(CopcTest, BlockStoreKeepsBucketOrderAcrossFlushes) {
    BlockStore store(dir_ / "blocks.bin", 4, 64);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        std::uint8_t r[4];
        util::store_le(r, i);
        store.add(i % 3, r);
    }
    store.flush();
    std::vector<std::uint8_t> out;
    store.read(1, out);
    ASSERT_EQ(out.size(), 333u * 4);
    for (std::size_t k = 0; k < 333; ++k)
        EXPECT_EQ(util::load_le<std::uint32_t>(out.data() + 4 * k), 3 * k + 1);
    EXPECT_EQ(store.count(0), 334u);
}

TEST_F(CopcTest, CliConvertsAndValidates) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path out = dir_ / "cli.copc.laz";
    const auto c = testing::run_lidarmill(
        "copc " + testing::shell_quote((shared_data_dir() / "legacy/point-color.las").string()) +
        " -o " + testing::shell_quote(out.string()) + " --memory-budget 256M --progress none");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const auto v =
        testing::run_lidarmill("validate --deep --json " + testing::shell_quote(out.string()));
    EXPECT_EQ(v.exit_code, 0) << v.out;
    const auto json = nlohmann::json::parse(v.out);
    EXPECT_TRUE(json["valid"].get<bool>());
    EXPECT_EQ(json["files"][0]["points_decoded"].get<int>(), 1065);
    const auto bad = testing::run_lidarmill(
        "validate --deep " +
        testing::shell_quote((shared_data_dir() / "copc/ellipsoid.copc.laz").string()));
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.out.find("gps-range"), std::string::npos);
    const auto missing =
        testing::run_lidarmill("copc /nonexistent.laz -o " + testing::shell_quote(out.string()));
    EXPECT_EQ(missing.exit_code, 1);
}

}  // namespace
}  // namespace lidarmill::copc
