// The truth sidecar: round trip, header layout, and damaged files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/temp_dir.hpp"
#include "synth/truth.hpp"
#include "util/error.hpp"

namespace lidarmill::synth {
namespace {

namespace fs = std::filesystem;

class TruthFile : public testing::TempDirTest {};

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(TruthFile, RoundTripsInBatches) {
    std::vector<TruthRecord> records;
    for (int i = 0; i < 1000; ++i) {
        records.push_back(
            {static_cast<TruthClass>(i % 6), i % 6 == 2 || i % 6 == 3 ? 0.25f * i : 0.0f});
    }
    const fs::path path = dir_ / "tile.truth";
    {
        TruthWriter writer(path);
        writer.write(std::span(records).first(300));
        writer.write(std::span(records).subspan(300));
        EXPECT_FALSE(fs::exists(path)) << "published before finish()";
        writer.finish();
        EXPECT_EQ(writer.count(), 1000u);
    }
    const auto bytes = file_bytes(path);
    ASSERT_EQ(bytes.size(), 16u + 5u * 1000u);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "LMTRUTH1");
    EXPECT_EQ(bytes[8], 1000 & 0xFF);
    EXPECT_EQ(bytes[9], 1000 >> 8);
    const auto back = read_truth(path);
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(back[i].label, records[i].label) << i;
        EXPECT_EQ(back[i].building_height, records[i].building_height) << i;
    }
}

TEST_F(TruthFile, EmptyFileHasHeaderOnly) {
    const fs::path path = dir_ / "empty.truth";
    TruthWriter writer(path);
    writer.finish();
    EXPECT_EQ(fs::file_size(path), 16u);
    EXPECT_TRUE(read_truth(path).empty());
}

TEST_F(TruthFile, UnfinishedWriterLeavesNoFile) {
    const fs::path path = dir_ / "abandoned.truth";
    {
        TruthWriter writer(path);
        const TruthRecord r{TruthClass::roof, 5.0f};
        writer.write(std::span(&r, 1));
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(TruthFile, RejectsDamagedFiles) {
    const fs::path path = dir_ / "t.truth";
    {
        TruthWriter writer(path);
        const TruthRecord r[2] = {{TruthClass::ground, 0.0f}, {TruthClass::wall, 3.5f}};
        writer.write(r);
        writer.finish();
    }
    auto bytes = file_bytes(path);
    auto write_variant = [&](const std::vector<std::uint8_t>& content) {
        const fs::path bad = dir_ / "bad.truth";
        std::ofstream(bad, std::ios::binary)
            .write(reinterpret_cast<const char*>(content.data()),
                   static_cast<std::streamsize>(content.size()));
        return bad;
    };
    auto truncated = bytes;
    truncated.pop_back();
    EXPECT_THROW(read_truth(write_variant(truncated)), util::InputError);
    auto bad_magic = bytes;
    bad_magic[0] = 'X';
    EXPECT_THROW(read_truth(write_variant(bad_magic)), util::InputError);
    auto bad_label = bytes;
    bad_label[16] = 9;
    EXPECT_THROW(read_truth(write_variant(bad_label)), util::InputError);
    try {
        read_truth(write_variant(truncated));
    } catch (const util::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.truth"), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_truth(dir_ / "missing.truth"), util::InputError);
}

}  // namespace
}  // namespace lidarmill::synth
