// The COPC reader on the shared COPC files and on a COPC we write: node counts add up to
// the header's, every point lies in its node's cube, nodes in file order give the records
// the independent decoders hashed, pruned walks load fewer pages, and files that are not
// COPC or are truncated give one-line errors naming them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "common/shared_data.hpp"
#include "common/temp_dir.hpp"
#include "copc/converter.hpp"
#include "copc/reader.hpp"
#include "io/open.hpp"
#include "util/byte_source.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace lidarmill::copc {
namespace {

namespace fs = std::filesystem;
using testing::shared_data_dir;

const std::vector<std::string> kSharedCopcFiles{"copc/simple.copc.laz",
                                                "copc/simple_with_page.copc.laz",
                                                "copc/lone-star.copc.laz",
                                                "copc/ellipsoid.copc.laz",
                                                "copc/autzen_clip_native.copc.laz",
                                                "copc/autzen_clip_4326.copc.laz"};

std::vector<Entry> nodes_in_file_order(const Reader& reader) {
    auto nodes = reader.nodes();
    std::erase_if(nodes, [](const Entry& e) { return e.point_count <= 0; });
    std::sort(nodes.begin(), nodes.end(),
              [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
    return nodes;
}

// Points of `records` outside `cube`, with the half scale step of slack that quantised
// coordinates on a shared face need.
std::size_t points_outside(const Reader& reader, const Box& cube,
                           const std::vector<std::uint8_t>& records) {
    const auto& h = reader.header();
    std::size_t outside = 0;
    for (std::size_t at = 0; at + h.record_length <= records.size(); at += h.record_length) {
        for (int axis = 0; axis < 3; ++axis) {
            const double v =
                util::load_le<std::int32_t>(records.data() + at + 4 * axis) * h.scale[axis] +
                h.offset[axis];
            const double slack = h.scale[axis] / 2 + 1e-9;
            if (v < cube.min[axis] - slack || v > cube.max[axis] + slack) {
                ++outside;
                break;
            }
        }
    }
    return outside;
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const util::InputError& e) {
        return e.what();
    }
    return "";
}

class CopcReaderTest : public testing::TempDirTest {
  protected:
    fs::path copy_truncated(const fs::path& from, std::uint64_t size) {
        const fs::path to = dir_ / ("truncated_" + std::to_string(size) + ".copc.laz");
        fs::copy_file(from, to);
        fs::resize_file(to, size);
        return to;
    }
};

TEST(CopcReader, NodeCountsAddUpToTheHeaderCount) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const auto& file : kSharedCopcFiles) {
        const Reader reader = Reader::open(shared_data_dir() / file);
        std::uint64_t sum = 0;
        for (const Entry& e : reader.nodes()) sum += static_cast<std::uint64_t>(e.point_count);
        EXPECT_EQ(sum, reader.point_count()) << file;
        EXPECT_EQ(reader.point_format(), reader.header().point_format) << file;
        EXPECT_GT(reader.info().halfsize, 0) << file;
        EXPECT_TRUE(reader.laszip().variable_chunks()) << file;
    }
}

TEST(CopcReader, DecodedPointsLieInTheirNodesCube) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const auto& file : kSharedCopcFiles) {
        const Reader reader = Reader::open(shared_data_dir() / file);
        std::size_t decoded = 0;
        for (const Entry& e : reader.nodes()) {
            const auto records = reader.read_node(e);
            ASSERT_EQ(records.size(),
                      static_cast<std::size_t>(e.point_count) * reader.record_length());
            EXPECT_EQ(points_outside(reader, reader.node_bounds(e.key), records), 0u)
                << file << " node " << e.key.to_string();
            decoded += records.size() / reader.record_length();
        }
        EXPECT_EQ(decoded, reader.point_count()) << file;
        const Entry root = reader.nodes().front();
        const las::PointBuffer points = reader.read_points(root);
        ASSERT_EQ(points.size(), static_cast<std::size_t>(root.point_count)) << file;
        EXPECT_TRUE(std::ranges::equal(points.raw(), reader.read_node(root))) << file;
    }
}

TEST(CopcReader, NodesInFileOrderGiveTheReferenceRecordHash) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto expected = testing::expected_records();
    int checked = 0;
    for (const auto& file : kSharedCopcFiles) {
        const auto row = expected.find(file);
        if (row == expected.end() || row->second.sha256.empty()) continue;
        const Reader reader = Reader::open(shared_data_dir() / file);
        util::Sha256 hash;
        for (const Entry& e : nodes_in_file_order(reader)) hash.update(reader.read_node(e));
        EXPECT_EQ(hash.hex_digest(), row->second.sha256) << file;
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(kSharedCopcFiles.size()));
}

TEST(CopcReader, PruningSkipsChildPagesOfRejectedSubtrees) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path file = shared_data_dir() / "copc/simple_with_page.copc.laz";
    const Reader all = Reader::open(file);
    const std::size_t every_node = all.nodes().size();
    EXPECT_EQ(all.hierarchy().pages_loaded(), 2u);

    // Only the root and its first child: the subtree on the second page is never loaded.
    const Reader pruned = Reader::open(file);
    std::vector<VoxelKey> visited;
    pruned.for_each_node(
        [](const VoxelKey& key, const Box&) {
            return key.d == 0 || (key.d == 1 && key.x == 0 && key.y == 0 && key.z == 0);
        },
        [&](const Entry& e) { visited.push_back(e.key); });
    EXPECT_EQ(pruned.hierarchy().pages_loaded(), 1u);
    EXPECT_LT(visited.size(), every_node);
    EXPECT_NE(std::find(visited.begin(), visited.end(), VoxelKey{}), visited.end());

    // A spatial filter: nodes whose cube meets a small box at the cube's low corner.
    const Reader spatial = Reader::open(file);
    const auto lo = spatial.info().cube_min();
    const Box query{{lo[0], lo[1], lo[2]},
                    {lo[0] + spatial.info().halfsize / 4, lo[1] + spatial.info().halfsize / 4,
                     lo[2] + spatial.info().halfsize / 4}};
    std::size_t inside = 0;
    spatial.for_each_node([&](const VoxelKey&, const Box& cube) { return cube.intersects(query); },
                          [&](const Entry& e) {
                              EXPECT_TRUE(spatial.node_bounds(e.key).intersects(query));
                              ++inside;
                          });
    EXPECT_GT(inside, 0u);
    EXPECT_LT(inside, every_node);
}

TEST(CopcReader, NonCopcLazGivesAOneLineErrorNamingTheFile) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path file = shared_data_dir() / "las14/1_4_w_evlr.laz";
    const std::string message = error_of([&] { Reader::open(file); });
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not a COPC file"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    // The cheap test a caller can run on metadata it already holds.
    util::FileByteSource source(file);
    EXPECT_FALSE(is_copc(las::read_metadata(source)));
    util::FileByteSource copc(shared_data_dir() / "copc/simple.copc.laz");
    EXPECT_TRUE(is_copc(las::read_metadata(copc)));
}

TEST_F(CopcReaderTest, TruncatedCopcGivesAnErrorNamingTheFile) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path source = shared_data_dir() / "copc/simple_with_page.copc.laz";
    const std::uint64_t size = fs::file_size(source);
    for (const std::uint64_t keep :
         {size - 1, size / 2, std::uint64_t{600}, std::uint64_t{100}, std::uint64_t{0}}) {
        const fs::path file = copy_truncated(source, keep);
        const std::string message = error_of([&] {
            const Reader reader = Reader::open(file);
            for (const Entry& e : reader.nodes()) reader.read_node(e);
        });
        EXPECT_NE(message.find(file.string()), std::string::npos) << keep << ": " << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST_F(CopcReaderTest, APagePointerOutsideTheHierarchyNamesTheFile) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path source = shared_data_dir() / "copc/simple_with_page.copc.laz";
    const CopcInfo info = Reader::open(source).info();
    std::ifstream in(source, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    // Point the root page's page entry past the end of the file.
    int pointers = 0;
    for (std::uint64_t at = info.root_hier_offset;
         at + kEntrySize <= info.root_hier_offset + info.root_hier_size; at += kEntrySize) {
        auto* entry = reinterpret_cast<std::uint8_t*>(bytes.data() + at);
        if (Entry::parse(entry).point_count != -1) continue;
        util::store_le(entry + 16, static_cast<std::uint64_t>(bytes.size() + 100));
        ++pointers;
    }
    ASSERT_EQ(pointers, 1);
    const fs::path damaged = dir_ / "damaged.copc.laz";
    std::ofstream(damaged, std::ios::binary).write(bytes.data(), bytes.size());

    const Reader reader = Reader::open(damaged);
    const std::string message = error_of([&] { reader.nodes(); });
    EXPECT_NE(message.find(damaged.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not inside the hierarchy EVLR"), std::string::npos) << message;
    // A walk that does not enter the damaged subtree still works.
    std::size_t roots = 0;
    reader.for_each_node([](const VoxelKey& key, const Box&) { return key.d == 0; },
                         [&](const Entry&) { ++roots; });
    EXPECT_EQ(roots, 1u);
}

TEST_F(CopcReaderTest, ANodePastTheEndOfTheFileNamesTheNode) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const Reader reader = Reader::open(shared_data_dir() / "copc/simple.copc.laz");
    Entry beyond = nodes_in_file_order(reader).back();
    beyond.offset = reader.source().size() - 2;
    const std::string message = error_of([&] { reader.read_node(beyond); });
    EXPECT_NE(message.find("node " + beyond.key.to_string()), std::string::npos) << message;
    EXPECT_NE(message.find(reader.name()), std::string::npos) << message;
}

TEST_F(CopcReaderTest, ReadsBackTheCopcWeWrite) {
    const fs::path tile = dir_ / "tile.laz";
    const auto synth = testing::run_lidarmill("synth " + testing::shell_quote(tile.string()) +
                                              " --points 60000 --progress none --seed 3");
    ASSERT_EQ(synth.exit_code, 0) << synth.err;
    ConvertOptions o;
    o.inputs = {tile};
    o.output = dir_ / "tile.copc.laz";
    o.threads = 2;
    o.memory_budget = 256ull << 20;
    o.leaf_max_points = 5000;  // a few levels of nodes
    o.temp_dir = dir_ / "tmp";
    const ConvertResult written = convert(o);

    const Reader reader = Reader::open(o.output);
    EXPECT_EQ(reader.point_count(), written.points);
    EXPECT_EQ(reader.nodes().size(), written.nodes);
    EXPECT_EQ(reader.hierarchy().pages_loaded(), written.pages);
    ASSERT_TRUE(reader.wkt().has_value());
    // Nodes in file order hold the records a plain LAZ read of the file gives.
    std::vector<std::uint8_t> by_node;
    for (const Entry& e : nodes_in_file_order(reader)) {
        const auto records = reader.read_node(e);
        EXPECT_EQ(points_outside(reader, reader.node_bounds(e.key), records), 0u)
            << e.key.to_string();
        by_node.insert(by_node.end(), records.begin(), records.end());
    }
    auto plain = io::open_reader(o.output, {1});
    std::vector<std::uint8_t> in_file(plain->point_count() * plain->record_length());
    std::size_t read = 0;
    while (const std::size_t n =
               plain->read(std::span(in_file).subspan(read * plain->record_length())))
        read += n;
    ASSERT_EQ(read, plain->point_count());
    EXPECT_EQ(by_node.size(), in_file.size());
    EXPECT_TRUE(by_node == in_file);
}

}  // namespace
}  // namespace lidarmill::copc
