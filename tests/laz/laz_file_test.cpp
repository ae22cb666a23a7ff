#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "laz/chunk_codec.hpp"
#include "laz/laz_reader.hpp"
#include "laz/laz_test_support.hpp"
#include "laz/laz_writer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

namespace lidarmill::laz {
namespace {

using namespace lidarmill::laz::testing;

// Decodes the point data of a LAZ file on disk into one buffer of records.
std::vector<std::uint8_t> decode_file(const std::filesystem::path& path, unsigned threads,
                                      std::size_t read_size = 4096) {
    const auto bytes = read_file(path);
    const LasInfo info = parse_las(bytes);
    auto file = std::make_shared<util::File>(path, util::File::Mode::read);
    auto reader = make_laz_record_reader(file, point_data_of(info, path.string()), threads);
    std::vector<std::uint8_t> records;
    std::vector<std::uint8_t> buffer(read_size * info.record_length);
    while (true) {
        const std::size_t n = reader->read(buffer);
        if (n == 0) break;
        records.insert(records.end(), buffer.begin(),
                       buffer.begin() + static_cast<long>(n * info.record_length));
    }
    EXPECT_EQ(reader->remaining(), 0u);
    return records;
}

struct Expected {
    const char* file;
    const char* sha256;
};

// records_sha256 from SOURCES.md (agreed by laz-perf, laz-rs and LASzip).
const Expected kLegacyLaz[] = {
    {"legacy/point10.las.laz", "d2033d0504e6b849a1301368703f90c77eda09c93e5d623e89cab06cb98ad63f"},
    {"legacy/point-time.las.laz",
     "0e80c2de788f2a50a3a2797cd807af2434ecd3fd3b8330a2087f699725c94874"},
    {"legacy/point-color.las.laz",
     "b31e5bc003bae4f6dab5ab7f81488bfc6854a758dd71f1b38a6753425af7c76d"},
    {"legacy/point-color-time.las.laz",
     "df9ea7bd185ff9d99700cbfced75989bb91415a12c893381273cca1dbd7182c1"},
    {"legacy/extrabytes.laz", "c98294910637458e4b55447460f2dece893aca5990f4fd5624fec7d570783c31"},
    {"legacy/autzen_trim.laz", "f4eb6d80bf1fa507ffdcdaa73606d09041982659a50ee3895957e0b2b347f54b"},
    {"legacy/point10-1.0.laz", "7810e82de62426854d981d9435d2ad1c58cd8317c62699e329c644e36c03da37"},
    {"legacy/no-points-1.3.laz",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"legacy/point-time-1.4.las.laz",
     "0e80c2de788f2a50a3a2797cd807af2434ecd3fd3b8330a2087f699725c94874"},
    {"legacy/lone-star.laz", "29178e5d5621e60aa11b25c399e17d27e4163cb95bda4eedef8633a5cbb0d02f"},
    {"legacy/simple-laszip-compressor-version-1.2r0.laz",
     "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015"},
    {"legacy/laszip-generated_with2bytespadding.laz",
     "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015"},
    {"legacy/liblas-generated.laz",
     "0717948a72e6bf719db8d96ded1e76b760d73fb683347ebe3dd603832e3d5015"},
    {"legacy/plane.laz", "933d0f7f9519699d14522520a7bb36e798bb07b9a7d60aab2a8b7e98a4d94e6b"},
};

TEST(LazFile, LegacyFilesDecodeToReferenceDigests) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const auto& e : kLegacyLaz) {
        for (unsigned threads : {1u, 3u}) {
            const auto records = decode_file(shared_data() / e.file, threads);
            EXPECT_EQ(util::sha256_hex(records), e.sha256)
                << e.file << " with " << threads << " threads";
        }
    }
}

TEST(LazFile, LayeredFilesDecodeThroughTheReader) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // Compressor 3 chunks come from the layered codec; chunk tables, EVLRs after the point
    // data and variable chunks (COPC) are this reader's job.
    const Expected files[] = {
        {"las14/1_4_w_evlr.laz",
         "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
        {"copc/lone-star.copc.laz",
         "fb81e03fca9a6e3569feb6aa6e9eb92ddbca58ac10cb29fc8ba5e7eec4027dd3"},
        {"ign/test_data_77055_627755_LA93_IGN69.laz",
         "3e31031b3ace1abacd5305abd7afdd9a1e050e0d63e6a04fb01ccbb1a3c3e76f"},
    };
    for (const auto& e : files) {
        const auto records = decode_file(shared_data() / e.file, 2);
        EXPECT_EQ(util::sha256_hex(records), e.sha256) << e.file;
    }
}

TEST(LazFile, OddReadSizesKeepPointOrder) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // 110000 points in 3 chunks, read 7 records at a time across chunk boundaries.
    const auto records = decode_file(shared_data() / "legacy/autzen_trim.laz", 2, 7);
    EXPECT_EQ(util::sha256_hex(records),
              "f4eb6d80bf1fa507ffdcdaa73606d09041982659a50ee3895957e0b2b347f54b");
}

TEST(LazFile, ProgressesWithoutAnyTbbWorker) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // The reader must decode the chunks itself when the pool has no worker to give.
    tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const auto records = decode_file(shared_data() / "legacy/lone-star.laz", 4, 10000);
    EXPECT_EQ(util::sha256_hex(records),
              "29178e5d5621e60aa11b25c399e17d27e4163cb95bda4eedef8633a5cbb0d02f");
}

// A scratch file removed at the end of the test.
class TempFile {
  public:
    explicit TempFile(const std::string& name)
        : path_(std::filesystem::temp_directory_path() /
                (name + "." + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "." + std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {}
    ~TempFile() { std::filesystem::remove(path_); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// Writes `records` as LAZ point data after a `prefix_size`-byte dummy prefix; returns the
// file bytes. `chunk_ends` (variable chunks) lists record counts after which to end a chunk.
std::vector<std::uint8_t> write_laz_point_data(
    const std::filesystem::path& path, const std::vector<std::uint8_t>& records,
    std::uint8_t point_format, std::uint16_t record_length, std::uint32_t chunk_size,
    unsigned threads, std::size_t prefix_size, const std::vector<std::size_t>& chunk_ends = {}) {
    util::File out(path, util::File::Mode::write);
    out.write(std::vector<std::uint8_t>(prefix_size, 0xAB));
    auto writer = make_laz_record_writer(out, point_format, record_length, chunk_size, threads);
    EXPECT_TRUE(writer->encoding_vlr().has_value());
    const std::size_t count = records.size() / record_length;
    std::size_t written = 0;
    std::size_t next_end = 0;
    while (written < count) {
        // Uneven write sizes exercise chunk splitting inside write().
        std::size_t n = std::min<std::size_t>(count - written, 1 + (written * 7919) % 30011);
        if (next_end < chunk_ends.size()) n = std::min(n, chunk_ends[next_end] - written);
        writer->write(std::span(records).subspan(written * record_length, n * record_length));
        written += n;
        if (next_end < chunk_ends.size() && written == chunk_ends[next_end]) {
            writer->end_chunk();
            ++next_end;
        }
    }
    writer->finish();
    EXPECT_EQ(out.tell(), out.size());
    out.close();
    return read_file(path);
}

std::vector<std::uint8_t> decode_written(const std::filesystem::path& path, std::size_t prefix_size,
                                         std::uint64_t count, std::uint8_t point_format,
                                         std::uint16_t record_length, std::uint32_t chunk_size,
                                         unsigned threads) {
    const LazPointData data{
        prefix_size,   std::filesystem::file_size(path),
        count,         point_format,
        record_length, LaszipVlr::for_point_format(point_format, record_length, chunk_size)};
    auto file = std::make_shared<util::File>(path, util::File::Mode::read);
    auto reader = make_laz_record_reader(file, data, threads);
    std::vector<std::uint8_t> records(count * record_length);
    std::size_t got = 0;
    while (got < count) {
        const std::size_t n = reader->read(std::span(records).subspan(got * record_length));
        if (n == 0) break;
        got += n;
    }
    EXPECT_EQ(got, count);
    return records;
}

const char* const kLegacyLas[] = {"legacy/point10.las",       "legacy/point-time.las",
                                  "legacy/point-color.las",   "legacy/point-color-time.las",
                                  "legacy/extrabytes.las",    "legacy/autzen_trim.las",
                                  "legacy/simple1_3.las",     "legacy/point10-1.0.las",
                                  "legacy/no-points-1.3.las", "odd/1.2-empty-geotiff-vlrs.las",
                                  "odd/gps-time-nan.las",     "odd/spurious.las"};

TEST(LazFile, LegacyLasRoundTripsThroughOurEncoder) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    for (const char* name : kLegacyLas) {
        const auto bytes = read_file(shared_data() / name);
        const LasInfo info = parse_las(bytes);
        const auto records = las_records(bytes, info);
        const std::uint64_t count = records.size() / info.record_length;
        for (std::uint32_t chunk_size : {kDefaultChunkSize, 1000u, 1u}) {
            if (chunk_size == 1 && count > 2000) continue;
            TempFile tmp("lazcore_roundtrip");
            write_laz_point_data(tmp.path(), records, info.point_format, info.record_length,
                                 chunk_size, 2, 100);
            const auto decoded = decode_written(tmp.path(), 100, count, info.point_format,
                                                info.record_length, chunk_size, 2);
            EXPECT_TRUE(decoded == records) << name << " chunk size " << chunk_size;
        }
    }
}

TEST(LazFile, VariableChunksRoundTrip) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto bytes = read_file(shared_data() / "legacy/autzen_trim.las");
    const LasInfo info = parse_las(bytes);
    const auto records = las_records(bytes, info);
    TempFile tmp("lazcore_variable");
    const std::vector<std::size_t> ends = {1, 2, 5000, 5001, 60000, 109999};
    const auto file = write_laz_point_data(tmp.path(), records, info.point_format,
                                           info.record_length, kVariableChunkSize, 3, 64, ends);
    const LazPointData data{
        64,
        file.size(),
        110000,
        info.point_format,
        info.record_length,
        LaszipVlr::for_point_format(info.point_format, info.record_length, kVariableChunkSize)};
    util::File in(tmp.path(), util::File::Mode::read);
    const ChunkTable table = read_chunk_table(in, data);
    ASSERT_TRUE(table.problem.empty()) << table.problem;
    std::vector<std::uint64_t> points;
    for (const auto& c : table.chunks) points.push_back(c.point_count);
    EXPECT_EQ(points, (std::vector<std::uint64_t>{1, 1, 4998, 1, 54999, 49999, 1}));
    for (unsigned threads : {1u, 4u}) {
        EXPECT_TRUE(decode_written(tmp.path(), 64, 110000, info.point_format, info.record_length,
                                   kVariableChunkSize, threads) == records);
    }
}

// The point data region (chunk table pointer, chunks, table) of a file.
std::vector<std::uint8_t> point_data_region(const std::vector<std::uint8_t>& file,
                                            const LasInfo& info) {
    return {file.begin() + static_cast<long>(info.point_data_offset),
            file.begin() + static_cast<long>(info.point_data_end)};
}

TEST(LazFile, EncoderOutputMatchesLaszipBytes) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const std::pair<const char*, const char*> pairs[] = {
        {"legacy/point10.las", "legacy/point10.las.laz"},
        {"legacy/point-time.las", "legacy/point-time.las.laz"},
        {"legacy/point-color.las", "legacy/point-color.las.laz"},
        {"legacy/point-color-time.las", "legacy/point-color-time.las.laz"},
        {"legacy/extrabytes.las", "legacy/extrabytes.laz"},
        {"legacy/autzen_trim.las", "legacy/autzen_trim.laz"},
        {"legacy/point10-1.0.las", "legacy/point10-1.0.laz"},
        {"legacy/no-points-1.3.las", "legacy/no-points-1.3.laz"},
        {"legacy/point-time.las", "legacy/point-time-1.4.las.laz"},
    };
    for (const auto& [las_name, laz_name] : pairs) {
        const auto las_bytes = read_file(shared_data() / las_name);
        const auto laz_bytes = read_file(shared_data() / laz_name);
        const LasInfo las = parse_las(las_bytes);
        const LasInfo laz = parse_las(laz_bytes);
        const auto reference = point_data_region(laz_bytes, laz);
        TempFile tmp("lazcore_pair");
        // Same prefix length as the reference so the absolute chunk-table pointer matches too.
        const auto ours_file =
            write_laz_point_data(tmp.path(), las_records(las_bytes, las), las.point_format,
                                 las.record_length, kDefaultChunkSize, 2, laz.point_data_offset);
        const std::vector<std::uint8_t> ours(
            ours_file.begin() + static_cast<long>(laz.point_data_offset), ours_file.end());
        // The laz-perf-written 1065-point samples carry 32 extra bytes after the chunk table
        // (two 16-byte blocks, not part of the LAZ format); everything before them must match.
        ASSERT_LE(ours.size(), reference.size()) << laz_name;
        EXPECT_TRUE(std::equal(ours.begin(), ours.end(), reference.begin()))
            << laz_name << ": encoded point data differs from the reference";
        const std::size_t trailing = reference.size() - ours.size();
        EXPECT_TRUE(trailing == 0 || trailing == 32)
            << laz_name << ": " << trailing << " extra bytes";
    }
}

TEST(LazFile, LaszipVlrForPointFormatMatchesLaszip343) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // Files written by LASzip 3.4r3 itself.
    for (const char* name :
         {"legacy/point10-1.0.laz", "legacy/no-points-1.3.laz", "ign/crop_duplicate.laz",
          "ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz", "las14/ellipsoid-1.4.laz",
          "ign/test_semis_2023_0292_6833_LA93_IGN69.laz"}) {
        const auto bytes = read_file(shared_data() / name);
        const LasInfo info = parse_las(bytes);
        ASSERT_TRUE(info.laszip_payload) << name;
        EXPECT_EQ(LaszipVlr::for_point_format(info.point_format, info.record_length).serialize(),
                  *info.laszip_payload)
            << name;
        const LaszipVlr parsed = LaszipVlr::parse(*info.laszip_payload, name);
        EXPECT_EQ(parsed.serialize(), *info.laszip_payload) << name;
        EXPECT_NO_THROW(parsed.check(info.point_format, info.record_length, name));
    }
}

TEST(LazFile, BrokenLaszipVlrsGiveOneLineErrors) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const std::pair<const char*, const char*> cases[] = {
        {"odd/broken_coder.laz", "invalid LASzip VLR: unknown coder 15"},
        {"odd/broken_compressor.laz", "invalid LASzip VLR: unknown compressor 16"},
        {"odd/broken_type.laz", "invalid LASzip VLR: unknown item type 22"},
        {"odd/broken_version.laz", "invalid LASzip VLR: unsupported POINT10 item version 6"},
    };
    for (const auto& [name, problem] : cases) {
        const auto bytes = read_file(shared_data() / name);
        const LasInfo info = parse_las(bytes);
        ASSERT_TRUE(info.laszip_payload) << name;
        try {
            (void)LaszipVlr::parse(*info.laszip_payload, name);
            ADD_FAILURE() << name << " parsed without error";
        } catch (const util::InputError& e) {
            EXPECT_EQ(e.problem(), problem);
            EXPECT_EQ(std::string(e.what()), std::string(name) + ": " + problem);
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        }
    }
}

TEST(LazFile, VlrCheckRejectsMismatchedRecords) {
    const LaszipVlr vlr = LaszipVlr::for_point_format(3, 34);
    EXPECT_NO_THROW(vlr.check(3, 34, "f.laz"));
    EXPECT_THROW(vlr.check(3, 36, "f.laz"), util::InputError);
    EXPECT_THROW(vlr.check(6, 34, "f.laz"), util::InputError);
    EXPECT_EQ(LaszipVlr::for_point_format(5, 70).items.back().size, 7);
    EXPECT_THROW((void)LaszipVlr::parse(std::vector<std::uint8_t>(20), "f.laz"), util::InputError);
}

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

// Copies a shared file into a scratch file with some bytes overwritten.
std::filesystem::path patched_copy(const TempFile& tmp, const char* name, std::size_t at,
                                   std::vector<std::uint8_t> patch, std::size_t truncate_to = 0) {
    auto bytes = read_file(shared_data() / name);
    std::copy(patch.begin(), patch.end(), bytes.begin() + static_cast<long>(at));
    if (truncate_to) bytes.resize(truncate_to);
    write_bytes(tmp.path(), bytes);
    return tmp.path();
}

// Decoding `path` must throw one line that names the file and holds `fragment`.
void expect_one_line_error(const std::filesystem::path& path, unsigned threads,
                           const std::string& fragment) {
    try {
        (void)decode_file(path, threads);
        ADD_FAILURE() << "decoding did not throw";
    } catch (const util::InputError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(path.string()), std::string::npos) << what;
        EXPECT_NE(what.find(fragment), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos);
    }
}

TEST(LazFile, MissingChunkTableIsWalkedWithWarning) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // Compressor 2 (11 chunks) and compressor 3 (6 chunks of the layered format).
    const std::pair<const char*, const char*> files[] = {
        {"legacy/lone-star.laz",
         "29178e5d5621e60aa11b25c399e17d27e4163cb95bda4eedef8633a5cbb0d02f"},
        {"ign/test_semis_2023_0292_6833_LA93_IGN69.laz",
         "230742cf40d7f525ba1dd2cc11025236f75a6b2eebc9baf4aa88ea3477c0e88b"}};
    for (const auto& [name, sha] : files) {
        SCOPED_TRACE(name);
        const LasInfo info = parse_las(read_file(shared_data() / name));
        for (std::int64_t bad_offset : {std::int64_t{0}, std::int64_t{1} << 40}) {
            TempFile tmp("lazcore_notable");
            std::vector<std::uint8_t> patch(8);
            util::store_le(patch.data(), bad_offset);
            patched_copy(tmp, name, info.point_data_offset, patch);
            const auto records = decode_file(tmp.path(), 2);
            EXPECT_EQ(util::sha256_hex(records), sha);
        }
    }
}

TEST(LazFile, TruncatedChunkErrorNamesFileAndChunk) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const char* name = "legacy/autzen_trim.laz";  // 3 chunks
    const auto original = read_file(shared_data() / name);
    const LasInfo info = parse_las(original);
    util::File in(shared_data() / name, util::File::Mode::read);
    const ChunkTable table = read_chunk_table(in, point_data_of(info, name));
    ASSERT_EQ(table.chunks.size(), 3u);
    // Garbage in the middle of chunk 2: decoding must fail cleanly or give other records,
    // never crash; cutting the file inside chunk 3 must name chunk 3.
    TempFile tmp("lazcore_truncated");
    const auto& third = table.chunks[2];
    patched_copy(tmp, name, 0, {}, static_cast<std::size_t>(third.offset + third.byte_count / 2));
    // The table sits after the cut, so the reader walks; the walk fails inside chunk 3.
    expect_one_line_error(tmp.path(), 1, "chunk 3 of 3");
}

// A damaged header and LASzip VLR claiming chunks of 4 billion points for a few kilobytes
// each (a fuzzer find: the reader asked for 146 GB) are refused with a one-line error, with
// a chunk table and without one.
TEST(LazFile, ChunksClaimingBillionsOfPointsAreRefused) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const char* name = "ign/test_semis_2023_0292_6833_LA93_IGN69.laz";  // LAS 1.4, layered
    const auto original = read_file(shared_data() / name);
    const LasInfo info = parse_las(original);
    const std::string user_id = "laszip encoded";
    const auto found =
        std::search(original.begin(), original.end(), user_id.begin(), user_id.end());
    ASSERT_NE(found, original.end());
    // The VLR header (54 bytes) starts 2 bytes before its user id; the chunk size is at 12.
    const auto chunk_size_at = static_cast<std::size_t>(found - original.begin()) - 2 + 54 + 12;
    for (const bool with_table : {true, false}) {
        SCOPED_TRACE(with_table ? "with chunk table" : "walking");
        TempFile tmp("lazcore_billions");
        auto bytes = original;
        util::store_le<std::uint32_t>(bytes.data() + chunk_size_at, 0xFFFFFFF0u);
        util::store_le<std::uint64_t>(bytes.data() + 247, std::uint64_t{1} << 33);  // points
        if (!with_table) util::store_le<std::int64_t>(bytes.data() + info.point_data_offset, 0);
        write_bytes(tmp.path(), bytes);
        expect_one_line_error(tmp.path(), 2, "claims 4294967280 points");
    }
}

TEST(LazFile, CorruptChunkBytesThrowOrDecodeWithoutCrashing) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const char* name = "legacy/point-color-time.las.laz";
    const auto original = read_file(shared_data() / name);
    const LasInfo info = parse_las(original);
    const LazPointData data = point_data_of(info, name);
    util::File in(shared_data() / name, util::File::Mode::read);
    const ChunkTable table = read_chunk_table(in, data);
    ASSERT_EQ(table.chunks.size(), 1u);
    std::vector<std::uint8_t> chunk(
        original.begin() + static_cast<long>(table.chunks[0].offset),
        original.begin() + static_cast<long>(table.chunks[0].offset + table.chunks[0].byte_count));
    auto decoder = make_chunk_decoder(data.vlr, info.point_format, info.record_length);
    std::vector<std::uint8_t> out(info.point_count * info.record_length);
    decoder->decode(chunk, info.point_count, out);
    EXPECT_EQ(decoder->consumed_bytes(), chunk.size());
    for (std::size_t cut : {std::size_t{10}, std::size_t{40}, chunk.size() / 2, chunk.size() - 1}) {
        const std::vector<std::uint8_t> part(chunk.begin(), chunk.begin() + static_cast<long>(cut));
        EXPECT_THROW(decoder->decode(part, info.point_count, out), util::InputError) << cut;
    }
    for (std::size_t i = 40; i < chunk.size(); i += 997) chunk[i] ^= 0x5A;
    try {
        decoder->decode(chunk, info.point_count, out);
    } catch (const util::InputError&) {
    }
}

}  // namespace
}  // namespace lidarmill::laz
