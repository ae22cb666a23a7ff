// Layered (compressor 3) chunk codec on the real LAS 1.4 files of ../shared/data: decoded
// records must hash to what independent decoders produced (SOURCES.md), re-encoding must
// give LASzip's bytes, and encode -> decode must be lossless.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "laz/arithmetic.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/laszip_vlr.hpp"
#include "laz/layered.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace {

namespace fs = std::filesystem;

const fs::path kData = LIDARMILL_SHARED_DATA;

#define REQUIRE_SHARED_DATA()                                                                 \
    do {                                                                                      \
        if (!fs::is_directory(kData)) GTEST_SKIP() << "shared data folder absent: " << kData; \
    } while (0)

std::vector<std::uint8_t> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    std::string hex;
    char two[3];
    for (unsigned int i = 0; i < length; ++i) {
        std::snprintf(two, sizeof(two), "%02x", digest[i]);
        hex += two;
    }
    return hex;
}

struct Chunk {
    std::span<const std::uint8_t> bytes;
    std::size_t points = 0;
};

// Just enough of a LAS/LAZ file to reach its records or chunks.
struct LasFile {
    std::vector<std::uint8_t> bytes;
    std::uint8_t point_format = 0;
    std::uint16_t record_length = 0;
    std::uint64_t point_count = 0;
    std::uint32_t offset_to_points = 0;
    std::optional<LaszipVlr> laszip;

    std::span<const std::uint8_t> raw_records() const {
        return std::span(bytes).subspan(offset_to_points, point_count * record_length);
    }
};

LasFile open_las(const fs::path& path) {
    LasFile f;
    f.bytes = read_file(path);
    const std::uint8_t* h = f.bytes.data();
    const auto header_size = util::load_le<std::uint16_t>(h + 94);
    f.offset_to_points = util::load_le<std::uint32_t>(h + 96);
    const auto vlr_count = util::load_le<std::uint32_t>(h + 100);
    f.point_format = h[104] & 0x3F;
    f.record_length = util::load_le<std::uint16_t>(h + 105);
    f.point_count = util::load_le<std::uint32_t>(h + 107);
    if (header_size >= 375) f.point_count = util::load_le<std::uint64_t>(h + 247);

    std::size_t position = header_size;
    for (std::uint32_t i = 0; i < vlr_count && position + 54 <= f.bytes.size(); ++i) {
        const std::string user_id = util::load_fixed_string(h + position + 2, 16);
        const auto record_id = util::load_le<std::uint16_t>(h + position + 18);
        const auto length = util::load_le<std::uint16_t>(h + position + 20);
        if (user_id == "laszip encoded" && record_id == 22204)
            f.laszip =
                LaszipVlr::parse(std::span(f.bytes).subspan(position + 54, length), path.string());
        position += 54 + length;
    }
    return f;
}

// The chunks as listed by the chunk table (LASzip's read_chunk_table).
std::vector<Chunk> read_chunks(const LasFile& f) {
    const std::uint8_t* base = f.bytes.data();
    const auto table_offset = util::load_le<std::int64_t>(base + f.offset_to_points);
    const auto chunk_count = util::load_le<std::uint32_t>(base + table_offset + 4);
    const bool variable = f.laszip->variable_chunks();

    ArithmeticDecoder dec;
    dec.init(std::span(f.bytes).subspan(static_cast<std::size_t>(table_offset) + 8));
    IntegerCompressor ic(32, 2);
    ic.init_decompressor();
    std::vector<Chunk> chunks(chunk_count);
    std::int32_t last_count = 0;
    std::int32_t last_size = 0;
    std::size_t start = f.offset_to_points + 8;
    std::uint64_t points_left = f.point_count;
    for (auto& chunk : chunks) {
        if (variable) last_count = ic.decompress(dec, last_count, 0);
        last_size = ic.decompress(dec, last_size, 1);
        const std::uint64_t points =
            variable ? static_cast<std::uint32_t>(last_count)
                     : std::min<std::uint64_t>(f.laszip->chunk_size, points_left);
        chunk.bytes = std::span(f.bytes).subspan(start, static_cast<std::uint32_t>(last_size));
        chunk.points = points;
        start += static_cast<std::uint32_t>(last_size);
        points_left -= points;
    }
    return chunks;
}

std::vector<std::uint8_t> decode_all(const LasFile& f, const std::vector<Chunk>& chunks) {
    auto decoder = make_layered_chunk_decoder(*f.laszip, f.record_length);
    std::vector<std::uint8_t> records(f.point_count * f.record_length);
    std::size_t done = 0;
    for (const Chunk& chunk : chunks) {
        decoder->decode(chunk.bytes, chunk.points,
                        std::span(records).subspan(done * f.record_length));
        done += chunk.points;
    }
    EXPECT_EQ(done, f.point_count);
    return records;
}

struct LazCase {
    const char* path;
    const char* records_sha256;
};

void PrintTo(const LazCase& c, std::ostream* os) {
    *os << c.path;
}

class LayeredFile : public ::testing::TestWithParam<LazCase> {
  protected:
    void SetUp() override {
#ifdef LIDARMILL_SANITIZED
        if (std::string_view(GetParam().path).starts_with("bench/")) {
            GTEST_SKIP()
                << "2 M-point bench file skipped under the sanitizers (checked by the release run)";
        }
#endif
    }
};

// Decoding every chunk gives the records other decoders agree on.
TEST_P(LayeredFile, DecodesToReferenceRecords) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / GetParam().path);
    ASSERT_TRUE(f.laszip.has_value());
    ASSERT_EQ(f.laszip->compressor, Compressor::layered_chunked);
    const auto records = decode_all(f, read_chunks(f));
    EXPECT_EQ(sha256_hex(records), GetParam().records_sha256);
}

// Our encoder reproduces the file's chunks byte for byte, and its chunks decode back to
// the same records.
TEST_P(LayeredFile, ReencodesToOriginalChunkBytes) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / GetParam().path);
    ASSERT_TRUE(f.laszip.has_value());
    const auto chunks = read_chunks(f);
    const auto records = decode_all(f, chunks);
    auto encoder = make_layered_chunk_encoder(*f.laszip, f.record_length);
    auto decoder = make_layered_chunk_decoder(*f.laszip, f.record_length);

    std::size_t done = 0;
    std::size_t identical = 0;
    std::vector<std::uint8_t> again;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        const auto slice =
            std::span(records).subspan(done * f.record_length, chunks[i].points * f.record_length);
        const auto encoded = encoder->encode(slice, chunks[i].points);
        if (std::equal(encoded.begin(), encoded.end(), chunks[i].bytes.begin(),
                       chunks[i].bytes.end()))
            ++identical;
        again.assign(slice.size(), 0);
        decoder->decode(encoded, chunks[i].points, again);
        ASSERT_TRUE(std::equal(again.begin(), again.end(), slice.begin())) << "chunk " << i;
        done += chunks[i].points;
    }
    EXPECT_EQ(identical, chunks.size()) << "chunks not byte-identical to the file's";
}

// Items as LASzip wrote them: POINT14 v3 alone (pf6), + RGB14 (pf7) + BYTE14 (pf7 + 2),
// + RGBNIR14 (pf8), + RGBNIR14 + WAVEPACKET14 (pf10), + RGBNIR14 + BYTE14 (pf8 + 15),
// single-point chunks, COPC's variable chunks.
INSTANTIATE_TEST_SUITE_P(
    SharedData, LayeredFile,
    ::testing::Values(LazCase{"las14/1_4_w_evlr.laz",
                              "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
                      LazCase{"las14/ellipsoid-1.4.laz",
                              "55166e53a2de04ccf2866757203e71a131f9f5c2623684680e2e118ef5c176a7"},
                      LazCase{"las14/fullwave.laz",
                              "b49cab16bf6befbbc8f00653bda3b288883b82c5c6ef91018252210338ab9f02"},
                      LazCase{"ign/test_data_77055_627755_LA93_IGN69.laz",
                              "3e31031b3ace1abacd5305abd7afdd9a1e050e0d63e6a04fb01ccbb1a3c3e76f"},
                      LazCase{"ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz",
                              "7e8ee68b5fd2ed04ddca8f46afde17cf8e3494c6cc978cd640c6052e9ebb9240"},
                      LazCase{"ign/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
                              "f8407883595ab62c7c4f9a586031d8805cd4a244670d2f7a37660f6ec4d871c6"},
                      LazCase{"ign/test_semis_2023_0292_6833_LA93_IGN69.laz",
                              "230742cf40d7f525ba1dd2cc11025236f75a6b2eebc9baf4aa88ea3477c0e88b"},
                      LazCase{"ign/crop_duplicate.laz",
                              "1ca5c2bd3da840846b8788fde84fba6b75fec25cf44ec1a5807135b760144ca4"},
                      LazCase{"ign/sample_lareunion_epsg2975.laz",
                              "1a31de2ea79b28dcec81d158654a83fa86aa5a47d31187498754a4b58790f0a2"},
                      LazCase{"ign/test_data_0436_6384_LA93_IGN69_single_point.laz",
                              "3ac60a853fa91bd5cc1b633c518167590ea5734ae284efce064a4fe4628ece8c"},
                      LazCase{"odd/test_pdalfail_0643_6319_LA93_IGN69.laz",
                              "047a26c498a7fb10c15017e0de9d3e36e9edf237a26139850ef93d006ad94f98"},
                      LazCase{"copc/simple.copc.laz",
                              "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
                      LazCase{"copc/simple_with_page.copc.laz",
                              "361eda6829430490b1bba3a2665408642d16211f6c349b2f11edf451c8164422"},
                      LazCase{"copc/lone-star.copc.laz",
                              "fb81e03fca9a6e3569feb6aa6e9eb92ddbca58ac10cb29fc8ba5e7eec4027dd3"},
                      LazCase{"copc/ellipsoid.copc.laz",
                              "f441db6de8fe6d198cbdbe9b16c372b229f6e31f392e81e4a6918a9e669c0746"},
                      LazCase{"copc/autzen_clip_native.copc.laz",
                              "7ac65a4ee0e592bd4f74b72e46f94c501764716a8b5908b26e6088f669ff8193"},
                      LazCase{"copc/autzen_clip_4326.copc.laz",
                              "3251ccc679e04bd7a5ef72bd2bedda6b0ce0d8f29e38b444666001c633792a79"},
                      LazCase{"bench/real7_2m.laz",
                              "4dbbd5cec373e1dcbd77b00773e808df9045ea9ae8c815db6c3173058c8396a5"},
                      LazCase{"bench/lonestar4_2m.laz",
                              "6c8ed7f51713ad6a572b1cf2ef5502b41dd9028851a30b4c3e692694266b0244"}));

// Encodes `records` in chunks of `chunk_points` with the VLR LASzip would write, decodes
// again and checks nothing changed.
void expect_lossless(std::span<const std::uint8_t> records, std::uint8_t point_format,
                     std::uint16_t record_length, std::size_t chunk_points,
                     std::uint16_t item_version = 3) {
    LaszipVlr vlr = LaszipVlr::for_point_format(point_format, record_length);
    for (LazItem& item : vlr.items) item.version = item_version;
    ASSERT_EQ(vlr.compressor, Compressor::layered_chunked);
    auto encoder = make_layered_chunk_encoder(vlr, record_length);
    auto decoder = make_layered_chunk_decoder(vlr, record_length);
    const std::size_t count = records.size() / record_length;
    std::vector<std::uint8_t> again;
    for (std::size_t first = 0; first < count; first += chunk_points) {
        const std::size_t points = std::min(chunk_points, count - first);
        const auto slice = records.subspan(first * record_length, points * record_length);
        const auto chunk = encoder->encode(slice, points);
        again.assign(slice.size(), 0);
        decoder->decode(chunk, points, again);
        ASSERT_TRUE(std::equal(again.begin(), again.end(), slice.begin()))
            << "chunk at point " << first;
    }
}

struct LasCase {
    const char* path;
    const char* records_sha256;
};

void PrintTo(const LasCase& c, std::ostream* os) {
    *os << c.path;
}

class UncompressedFile : public ::testing::TestWithParam<LasCase> {};

TEST_P(UncompressedFile, RoundTripsThroughLayeredCodec) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / GetParam().path);
    ASSERT_EQ(sha256_hex(f.raw_records()), GetParam().records_sha256);
    expect_lossless(f.raw_records(), f.point_format, f.record_length, kDefaultChunkSize);
    expect_lossless(f.raw_records(), f.point_format, f.record_length,
                    997);  // many chunks, odd sizes
}

// wontcompress3.las is LASzip issue #50 (legacy and extended flags disagree).
INSTANTIATE_TEST_SUITE_P(
    SharedData, UncompressedFile,
    ::testing::Values(LasCase{"las14/wontcompress3.las",
                              "e4197e48919d3ec9954b1bfed10b8f6eafeeed2dfd237b9eea78d1fd094b29b8"},
                      LasCase{"las14/1_4_w_evlr.las",
                              "923571fd0bdbfdc886522adcb5fccaa6462642142937b1a3c490519155d447ba"},
                      LasCase{"las14/rand1_6.las",
                              "acc8946719430029fa75f1ddd1006066058a44eb03dee96be5b03060cb452a62"},
                      LasCase{"las14/5points_14.las",
                              "9f34d345e9ded125a8a65f3687cfbcaab1b6005feff11d54660948120ac6a57c"},
                      LasCase{"las14/simple1_4.las",
                              "2854467625435251f7192600766132a6bfd737e3d72e1a762ac1aef5ab56d88e"},
                      LasCase{"las14/autzen_trim_7.las",
                              "abe6e3290b015121a5b1202770ad01128866a60d95508239f442556698360881"}));

// Records of a real file with scanner channels, gps times, colours, NIR and extra bytes
// scrambled so all four channel contexts and the rarely used code paths get exercised.
TEST(LayeredCodec, ScrambledChannelsRoundTrip) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / "ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz");
    auto records = decode_all(f, read_chunks(f));
    ASSERT_EQ(f.point_format, 8);
    std::mt19937 random(1234);
    const std::size_t rl = f.record_length;
    for (std::size_t i = 0; i < f.point_count; ++i) {
        std::uint8_t* r = records.data() + i * rl;
        if (random() % 4 == 0)
            r[15] = static_cast<std::uint8_t>((r[15] & 0xCF) | ((random() % 4) << 4));
        if (random() % 50 == 0) r[14] = static_cast<std::uint8_t>(random());  // any return numbers
        if (random() % 30 == 0)
            util::store_le(r + 22, static_cast<std::uint64_t>(random()) << 40);  // far gps
        if (random() % 70 == 0) util::store_le(r + 22, -0.0);
        if (random() % 20 == 0)
            r[30 + random() % 8] = static_cast<std::uint8_t>(random());  // RGB / NIR
        if (random() % 20 == 0) r[38 + random() % (rl - 38)] = static_cast<std::uint8_t>(random());
        if (random() % 40 == 0) util::store_le(r + 18, static_cast<std::int16_t>(random()));
    }
    expect_lossless(records, f.point_format, f.record_length, 5000);
    expect_lossless(records, f.point_format, f.record_length, 5000, 4);
}

TEST(LayeredCodec, WavePacketsRoundTripWithChannels) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / "las14/fullwave.laz");
    auto records = decode_all(f, read_chunks(f));
    std::mt19937 random(99);
    for (std::size_t i = 0; i < f.point_count; ++i) {
        std::uint8_t* r = records.data() + i * f.record_length;
        if (random() % 3 == 0)
            r[15] = static_cast<std::uint8_t>((r[15] & 0xCF) | ((random() % 4) << 4));
        if (random() % 25 == 0)
            util::store_le(r + 39, static_cast<std::uint64_t>(random()) << 33);  // far offset
    }
    expect_lossless(records, f.point_format, f.record_length, 3000);
    expect_lossless(records, f.point_format, f.record_length, 3000, 4);
}

// Version 3 and 4 differ only once points switch between scanner channels.
TEST(LayeredCodec, Version4DiffersFromVersion3OnlyWithChannelSwitches) {
    REQUIRE_SHARED_DATA();
    const LasFile f = open_las(kData / "copc/autzen_clip_native.copc.laz");  // switches channels
    const auto records = decode_all(f, read_chunks(f));
    LaszipVlr v4 = *f.laszip;
    for (LazItem& item : v4.items) item.version = 4;
    const auto v3_chunk =
        make_layered_chunk_encoder(*f.laszip, f.record_length)->encode(records, f.point_count);
    const auto v4_chunk =
        make_layered_chunk_encoder(v4, f.record_length)->encode(records, f.point_count);
    EXPECT_NE(v3_chunk, v4_chunk);
    std::vector<std::uint8_t> again(records.size());
    make_layered_chunk_decoder(v4, f.record_length)->decode(v4_chunk, f.point_count, again);
    EXPECT_EQ(again, records);

    const LasFile single = open_las(kData / "las14/1_4_w_evlr.laz");  // one channel only
    const auto single_records = decode_all(single, read_chunks(single));
    LaszipVlr single_v4 = *single.laszip;
    for (LazItem& item : single_v4.items) item.version = 4;
    EXPECT_EQ(make_layered_chunk_encoder(*single.laszip, single.record_length)
                  ->encode(single_records, single.point_count),
              make_layered_chunk_encoder(single_v4, single.record_length)
                  ->encode(single_records, single.point_count));
}

// ------------------------------------------------------------- damaged input

LaszipVlr pf8_vlr() {
    return LaszipVlr::for_point_format(8, 38);
}

std::vector<std::uint8_t> first_chunk_of_ign_file(std::size_t& points) {
    const LasFile f = open_las(kData / "ign/test_data_77055_627755_LA93_IGN69.laz");
    const auto chunks = read_chunks(f);
    points = chunks[0].points;
    return {chunks[0].bytes.begin(), chunks[0].bytes.end()};
}

TEST(LayeredCodec, TruncatedChunkThrowsInputError) {
    REQUIRE_SHARED_DATA();
    std::size_t points = 0;
    const auto chunk = first_chunk_of_ign_file(points);
    auto decoder = make_layered_chunk_decoder(pf8_vlr(), 38);
    std::vector<std::uint8_t> out(points * 38);
    for (std::size_t keep : {std::size_t{0}, std::size_t{20}, std::size_t{38}, std::size_t{60},
                             chunk.size() / 2, chunk.size() - 1}) {
        EXPECT_THROW(decoder->decode(std::span(chunk).first(keep), points, out), util::InputError)
            << keep;
    }
}

TEST(LayeredCodec, CorruptLayerSizesThrowInputError) {
    REQUIRE_SHARED_DATA();
    std::size_t points = 0;
    auto chunk = first_chunk_of_ign_file(points);
    auto decoder = make_layered_chunk_decoder(pf8_vlr(), 38);
    std::vector<std::uint8_t> out(points * 38);
    util::store_le(chunk.data() + 38 + 4 + 4 * 3, std::uint32_t{0xFFFFFFF0});
    try {
        decoder->decode(chunk, points, out);
        FAIL() << "no exception";
    } catch (const util::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("layered chunk"), std::string::npos) << e.what();
    }
}

// Flipped bytes must end in an InputError or in some decoded records, never in a crash
// or an out-of-bounds access (run under the sanitizer build).
TEST(LayeredCodec, RandomCorruptionNeverCrashes) {
    REQUIRE_SHARED_DATA();
    std::size_t points = 0;
    const auto original = first_chunk_of_ign_file(points);
    auto decoder = make_layered_chunk_decoder(pf8_vlr(), 38);
    std::vector<std::uint8_t> out(points * 38);
    std::mt19937 random(7);
    int errors = 0;
    for (int trial = 0; trial < 40; ++trial) {
        auto chunk = original;
        for (int flips = 0; flips < 8; ++flips)
            chunk[38 + 4 + random() % (chunk.size() - 42)] ^= 1u << (random() % 8);
        try {
            decoder->decode(chunk, points, out);
        } catch (const util::InputError&) {
            ++errors;
        }
    }
    EXPECT_GT(errors, 0);
}

TEST(LayeredCodec, RejectsItemListsItCannotLayer) {
    LaszipVlr vlr = LaszipVlr::for_point_format(6, 30);
    EXPECT_THROW(make_layered_chunk_decoder(vlr, 31), util::InputError);  // sizes do not add up
    vlr.items[0].version = 1;
    EXPECT_THROW(make_layered_chunk_decoder(vlr, 30), util::InputError);
    LaszipVlr pointwise = LaszipVlr::for_point_format(1, 28);
    EXPECT_THROW(make_layered_chunk_encoder(pointwise, 28), util::InputError);
}

TEST(LayeredCodec, SinglePointAndEmptyChunks) {
    const LaszipVlr vlr = LaszipVlr::for_point_format(7, 36);
    auto encoder = make_layered_chunk_encoder(vlr, 36);
    auto decoder = make_layered_chunk_decoder(vlr, 36);
    std::vector<std::uint8_t> record(36);
    for (std::size_t i = 0; i < record.size(); ++i)
        record[i] = static_cast<std::uint8_t>(i * 7 + 1);
    const auto chunk = encoder->encode(record, 1);
    ASSERT_GE(chunk.size(), 36u + 4 + 4 * 10);
    EXPECT_EQ(util::load_le<std::uint32_t>(chunk.data() + 36), 1u);
    std::vector<std::uint8_t> out(36);
    decoder->decode(chunk, 1, out);
    EXPECT_EQ(out, record);
    EXPECT_TRUE(encoder->encode({}, 0).empty());
}

}  // namespace
}  // namespace lidarmill::laz
