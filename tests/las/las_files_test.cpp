// The LAS layer on the real files of ../shared/data: records, headers, VLRs, EVLRs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/shared_data.hpp"
#include "las/header.hpp"
#include "las/reader.hpp"
#include "las/writer.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace lidarmill::las {
namespace {

namespace fs = std::filesystem;
using lidarmill::testing::expected_records;
using lidarmill::testing::shared_data_dir;

struct ReadResult {
    std::uint64_t points = 0;
    std::string sha256;
    std::vector<std::uint8_t> records;
};

ReadResult read_all(Reader& reader) {
    ReadResult r;
    util::Sha256 sha;
    std::vector<std::uint8_t> buffer(4096 * reader.record_length());
    while (const std::size_t n = reader.read(buffer)) {
        const auto bytes = std::span(buffer).first(n * reader.record_length());
        sha.update(bytes);
        r.records.insert(r.records.end(), bytes.begin(), bytes.end());
        r.points += n;
    }
    r.sha256 = sha.hex_digest();
    return r;
}

std::vector<std::string> uncompressed_files() {
    std::vector<std::string> files;
    for (const auto& [name, row] : expected_records()) {
        if (fs::path(name).extension() == ".las" && !row.sha256.empty()) files.push_back(name);
    }
    return files;
}

fs::path temp_dir() {
    auto dir = fs::temp_directory_path() / ("lidarmill_las_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

TEST(LasFiles, EveryUncompressedFileMatchesIndependentDecoders) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto expected = expected_records();
    const auto files = uncompressed_files();
    ASSERT_GE(files.size(), 15u) << "SOURCES.md table not parsed";
    for (const auto& name : files) {
        SCOPED_TRACE(name);
        Reader reader(shared_data_dir() / name);
        const auto result = read_all(reader);
        EXPECT_EQ(result.points, expected.at(name).points.value());
        EXPECT_EQ(result.sha256, expected.at(name).sha256);
    }
}

TEST(LasFiles, HeaderSerializesToTheSameBytes) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const auto& name : uncompressed_files()) {
        if (name.rfind("odd/", 0) == 0) continue;
        SCOPED_TRACE(name);
        util::File file(shared_data_dir() / name, util::File::Mode::read);
        const auto m = read_metadata(file);
        std::vector<std::uint8_t> original(m.header.header_size);
        file.pread_exact(0, original);
        EXPECT_EQ(serialize_header(m.header), original);
    }
}

// Rewriting keeps every record and every VLR/EVLR byte; the header statistics are
// recomputed from the data.
TEST(LasFiles, RewriteKeepsRecordsVlrsAndEvlrs) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto dir = temp_dir();
    for (const auto& name : uncompressed_files()) {
        if (name.rfind("odd/", 0) == 0) continue;
        SCOPED_TRACE(name);
        Reader reader(shared_data_dir() / name);
        const auto& m = reader.metadata();
        WriterConfig config;
        config.header = derive_header(m.header, m.header.version_minor, m.header.point_format,
                                      m.header.record_length);
        config.vlrs = m.vlrs;
        config.evlrs = m.evlrs;
        config.bytes_after_vlrs = m.bytes_after_vlrs;
        const auto out = dir / fs::path(name).filename();
        const auto original = read_all(reader);
        {
            Writer writer(out, config);
            writer.write(original.records);
            writer.finish();
        }
        Reader again(out);
        const auto copy = read_all(again);
        EXPECT_EQ(copy.sha256, original.sha256);
        const auto& m2 = again.metadata();
        ASSERT_EQ(m2.vlrs.size(), m.vlrs.size());
        for (std::size_t i = 0; i < m.vlrs.size(); ++i) {
            EXPECT_EQ(m2.vlrs[i].raw_user_id, m.vlrs[i].raw_user_id);
            EXPECT_EQ(m2.vlrs[i].record_id, m.vlrs[i].record_id);
            EXPECT_EQ(m2.vlrs[i].raw_description, m.vlrs[i].raw_description);
            EXPECT_EQ(m2.vlrs[i].data, m.vlrs[i].data);
        }
        ASSERT_EQ(m2.evlrs.size(), m.evlrs.size());
        for (std::size_t i = 0; i < m.evlrs.size(); ++i)
            EXPECT_EQ(m2.evlrs[i].data, m.evlrs[i].data);
        EXPECT_EQ(m2.bytes_after_vlrs, m.bytes_after_vlrs);
        EXPECT_EQ(m2.header.point_count(), original.points);
        EXPECT_TRUE(m2.warnings.empty()) << m2.warnings.front();
    }
    fs::remove_all(dir);
}

TEST(LasFiles, ExtraBytesSchemaIsTyped) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    util::File file(shared_data_dir() / "legacy/extrabytes.las", util::File::Mode::read);
    const auto m = read_metadata(file);
    EXPECT_EQ(m.extra_bytes.total_size, 27u);
    EXPECT_EQ(m.extra_bytes.declared_size, 27u);
    ASSERT_FALSE(m.extra_bytes.dimensions.empty());
    std::size_t offset = 0;
    for (const auto& d : m.extra_bytes.dimensions) {
        EXPECT_EQ(d.offset_in_extra, offset);
        EXPECT_FALSE(d.descriptor.name.empty());
        offset += d.descriptor.size();
    }
}

TEST(LasFiles, UndeclaredExtraBytesAreKeptOpaque) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    util::File file(shared_data_dir() / "odd/unregistered_extra_bytes.las", util::File::Mode::read);
    const auto m = read_metadata(file);
    EXPECT_EQ(m.extra_bytes.undeclared_bytes(), 4u);
    EXPECT_TRUE(m.extra_bytes.dimensions.empty());
    ASSERT_FALSE(m.warnings.empty());
    EXPECT_NE(m.warnings.back().find("not declared"), std::string::npos);
}

// SOURCES.md calls its 6 extra bytes undeclared, but a RIEGL extra-bytes VLR declares
// them (Amplitude, Reflectance, Deviation); its GeoTIFF double/ASCII VLRs are empty.
TEST(LasFiles, RieglExtraBytesAndEmptyGeoTiffVlrs) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    util::File file(shared_data_dir() / "odd/1.2-empty-geotiff-vlrs.las", util::File::Mode::read);
    const auto m = read_metadata(file);
    EXPECT_EQ(m.extra_bytes.undeclared_bytes(), 0u);
    ASSERT_EQ(m.extra_bytes.dimensions.size(), 3u);
    EXPECT_EQ(m.extra_bytes.dimensions[0].descriptor.name, "Amplitude");
    EXPECT_EQ(m.extra_bytes.dimensions[2].descriptor.name, "Deviation");
    EXPECT_FALSE(m.crs.geokeys.empty());
}

TEST(LasFiles, CrsIsRead) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    util::File file(shared_data_dir() / "legacy/autzen_trim.las", util::File::Mode::read);
    const auto m = read_metadata(file);
    EXPECT_FALSE(m.crs.empty());
}

}  // namespace
}  // namespace lidarmill::las
