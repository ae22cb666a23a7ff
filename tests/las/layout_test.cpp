// Unit tests of header, VLR, extra-bytes and record-layout code.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/shared_data.hpp"
#include "las/convert.hpp"
#include "las/extra_bytes.hpp"
#include "las/header.hpp"
#include "las/point_buffer.hpp"
#include "las/point_format.hpp"
#include "las/reader.hpp"
#include "las/writer.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::las {
namespace {

namespace fs = std::filesystem;

TEST(PointFormat, RecordSizesAndOffsets) {
    EXPECT_EQ(base_record_length(0), 20);
    EXPECT_EQ(base_record_length(3), 34);
    EXPECT_EQ(base_record_length(6), 30);
    EXPECT_EQ(base_record_length(8), 38);
    EXPECT_EQ(base_record_length(10), 67);
    EXPECT_EQ(record_offsets(3).rgb, 28);
    EXPECT_EQ(record_offsets(2).rgb, 20);
    EXPECT_EQ(record_offsets(8).nir, 36);
    EXPECT_EQ(record_offsets(9).wave_packet, 30);
    EXPECT_EQ(record_offsets(10).wave_packet, 38);
    EXPECT_EQ(record_offsets(5).wave_packet, 34);
}

TEST(Header, RoundTripsEveryVersion) {
    for (std::uint8_t minor : {0, 1, 2, 3, 4}) {
        Header h;
        h.version_minor = minor;
        h.point_format = h.point_format_raw = minor == 4 ? 7 : 3;
        h.record_length = base_record_length(h.point_format) + 3;
        h.header_size = static_cast<std::uint16_t>(h.standard_size());
        h.offset_to_point_data = h.header_size;
        h.legacy_point_count = 12;
        h.point_count_64 = minor == 4 ? 12 : 0;
        h.scale = {0.01, 0.02, 0.001};
        h.offset = {650000, 6860000, -10};
        h.min = {1, 2, 3};
        h.max = {4, 5, 6};
        set_text(h.generating_software, "lidarmill test");
        const auto bytes = serialize_header(h);
        ASSERT_EQ(bytes.size(), h.standard_size());
        const Header back = parse_header(bytes, "mem");
        EXPECT_EQ(serialize_header(back), bytes);
        EXPECT_EQ(back.point_count(), 12u);
        EXPECT_EQ(back.generating_software_text(), "lidarmill test");
        EXPECT_EQ(back.record_length, h.record_length);
    }
}

TEST(Header, RejectsWhatCannotBeRead) {
    std::vector<std::uint8_t> bytes(375, 0);
    EXPECT_THROW(parse_header(bytes, "x.las"), util::InputError);  // no LASF
    Header h;
    auto good = serialize_header(h);
    good[104] = 11;  // point format 11
    EXPECT_THROW(parse_header(good, "x.las"), util::InputError);
    good = serialize_header(h);
    util::store_le<std::uint16_t>(good.data() + 105, 20);  // shorter than format 6
    try {
        parse_header(good, "x.las");
        FAIL();
    } catch (const util::InputError& e) {
        EXPECT_STREQ(e.what(),
                     "x.las: record length 20 is shorter than the 30 bytes of point format 6");
    }
    good = serialize_header(h);
    EXPECT_THROW(parse_header(std::span(good).first(100), "x.las"), util::InputError);
}

TEST(Header, LegacyCountRulesOfLas14) {
    PointStats stats;
    stats.count = 10;
    stats.by_return[0] = 6;
    stats.by_return[1] = 4;
    Header extended;  // 1.4 format 6
    apply_stats(extended, stats);
    EXPECT_EQ(extended.point_count_64, 10u);
    EXPECT_EQ(extended.legacy_point_count, 0u);
    EXPECT_EQ(extended.legacy_points_by_return[0], 0u);
    Header legacy;
    legacy.point_format = 1;
    apply_stats(legacy, stats);
    EXPECT_EQ(legacy.legacy_point_count, 10u);
    EXPECT_EQ(legacy.legacy_points_by_return[1], 4u);
    Header old;
    old.version_minor = 2;
    old.point_format = 3;
    apply_stats(old, stats);
    EXPECT_EQ(old.legacy_point_count, 10u);
    EXPECT_EQ(old.point_count_64, 0u);
}

TEST(ExtraBytes, DescriptorRoundTripAndTypedValues) {
    ExtraBytesDescriptor d;
    d.data_type = static_cast<std::uint8_t>(ExtraType::i16);
    d.options = 8 | 16;  // scale and offset
    d.name = "height_above_ground";
    d.description = "metres above the ground";
    d.scale = {0.001, 0, 0};
    d.offset = {10, 0, 0};
    const auto bytes = d.serialize();
    const auto back = ExtraBytesDescriptor::parse(bytes);
    EXPECT_EQ(back.name, d.name);
    EXPECT_EQ(back.description, d.description);
    EXPECT_EQ(back.size(), 2u);
    EXPECT_EQ(back.type_name(), "int16");

    ExtraBytesSchema schema;
    schema.add(back);
    ExtraBytesDescriptor f;
    f.data_type = 30;  // float64[3]
    f.name = "xyz";
    schema.add(f);
    EXPECT_EQ(schema.declared_size, 2u + 24u);
    EXPECT_EQ(schema.dimensions[1].offset_in_extra, 2u);
    EXPECT_EQ(schema.dimensions[1].descriptor.element_count(), 3);

    std::vector<std::uint8_t> extra(26);
    util::store_le<std::int16_t>(extra.data(), -1500);
    util::store_le<double>(extra.data() + 2 + 16, 42.5);
    EXPECT_NEAR(schema.value(extra, schema.dimensions[0]), 8.5, 1e-12);
    EXPECT_DOUBLE_EQ(schema.value(extra, schema.dimensions[1], 2), 42.5);

    std::vector<std::string> warnings;
    const auto vlr = schema.to_vlr();
    const auto parsed = ExtraBytesSchema::from_vlrs(std::span(&vlr, 1), 30, warnings);
    EXPECT_EQ(parsed.dimensions.size(), 2u);
    EXPECT_EQ(parsed.undeclared_bytes(), 4u);
    EXPECT_EQ(warnings.size(), 1u);
}

// 1.2 format 3 -> 1.4 format 7 keeps every field value, and back again gives the
// original records.
TEST(Convert, Format3To7KeepsEveryField) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    Reader reader(lidarmill::testing::shared_data_dir() / "legacy/autzen_trim.las");
    std::vector<std::uint8_t> in(reader.point_count() * 34);
    ASSERT_EQ(reader.read(in), reader.point_count());
    const std::size_t n = reader.point_count();
    RecordConverter to7({3, 34}, {7, 36}, true);
    std::vector<std::uint8_t> mid(n * 36);
    to7.convert(in, n, mid);
    EXPECT_FALSE(to7.losses().any());
    PointBuffer a(3, 34), b(7, 36);
    a.assign(in, n);
    b.assign(mid, n);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(a.X[i], b.X[i]);
        ASSERT_EQ(a.Y[i], b.Y[i]);
        ASSERT_EQ(a.Z[i], b.Z[i]);
        ASSERT_EQ(a.intensity[i], b.intensity[i]);
        ASSERT_EQ(a.return_number[i], b.return_number[i]);
        ASSERT_EQ(a.number_of_returns[i], b.number_of_returns[i]);
        ASSERT_EQ(a.classification[i], b.classification[i]);
        ASSERT_EQ(a.classification_flags[i], b.classification_flags[i]);
        ASSERT_EQ(a.scan_direction[i], b.scan_direction[i]);
        ASSERT_EQ(a.edge_of_flight_line[i], b.edge_of_flight_line[i]);
        ASSERT_NEAR(a.scan_angle_degrees(i), b.scan_angle_degrees(i), 0.003);
        ASSERT_EQ(a.user_data[i], b.user_data[i]);
        ASSERT_EQ(a.point_source_id[i], b.point_source_id[i]);
        ASSERT_EQ(a.gps_time[i], b.gps_time[i]);
        ASSERT_EQ(a.red[i], b.red[i]);
        ASSERT_EQ(a.green[i], b.green[i]);
        ASSERT_EQ(a.blue[i], b.blue[i]);
    }
    RecordConverter back({7, 36}, {3, 34}, true);
    std::vector<std::uint8_t> again(n * 34);
    back.convert(mid, n, again);
    EXPECT_EQ(again, in);
}

TEST(Convert, ExtendedToLegacyReportsLosses) {
    std::vector<std::uint8_t> rec(30, 0);
    rec[14] = 9 | (10 << 4);                               // return 9 of 10
    rec[15] = 0x08;                                        // overlap
    rec[16] = 40;                                          // class 40
    util::store_le<std::int16_t>(rec.data() + 18, 25000);  // 150 degrees
    RecordConverter c({6, 30}, {1, 28}, true);
    std::vector<std::uint8_t> out(28);
    c.convert(rec, 1, out);
    EXPECT_EQ(c.losses().returns_clamped, 1u);
    EXPECT_EQ(c.losses().classes_clamped, 1u);
    EXPECT_EQ(c.losses().overlap_flags_dropped, 1u);
    EXPECT_EQ(c.losses().scan_angles_clamped, 1u);
    EXPECT_EQ(out[15] & 0x1F, 31);
}

TEST(Writer, NothingAppearsWithoutFinish) {
    const auto path =
        fs::temp_directory_path() / ("lidarmill_unfinished_" + std::to_string(::getpid()) + ".las");
    {
        WriterConfig config;
        Writer writer(path, config);
        std::vector<std::uint8_t> record(30, 0);
        writer.write(record);
    }
    EXPECT_FALSE(fs::exists(path));
    for (const auto& entry : fs::directory_iterator(path.parent_path())) {
        EXPECT_EQ(entry.path().filename().string().find(".lidarmill_unfinished_"),
                  std::string::npos);
    }
}

TEST(Writer, HeaderStatisticsComeFromTheData) {
    const auto path =
        fs::temp_directory_path() / ("lidarmill_stats_" + std::to_string(::getpid()) + ".las");
    WriterConfig config;
    config.header.scale = {0.01, 0.01, 0.01};
    config.header.offset = {1000, 2000, 0};
    std::vector<std::uint8_t> records(3 * 30, 0);
    const std::int32_t xyz[3][3] = {{5, -7, 100}, {-2, 9, 50}, {0, 0, 75}};
    for (int i = 0; i < 3; ++i) {
        for (int a = 0; a < 3; ++a) util::store_le(records.data() + i * 30 + 4 * a, xyz[i][a]);
        records[i * 30 + 14] = static_cast<std::uint8_t>((i == 2 ? 2 : 1) | (2 << 4));
    }
    {
        Writer writer(path, config);
        writer.write(records);
        writer.finish();
    }
    Reader reader(path);
    const auto& h = reader.header();
    EXPECT_EQ(h.point_count_64, 3u);
    EXPECT_EQ(h.legacy_point_count, 0u);
    EXPECT_EQ(h.points_by_return_64[0], 2u);
    EXPECT_EQ(h.points_by_return_64[1], 1u);
    EXPECT_DOUBLE_EQ(h.min[0], 1000 - 0.02);
    EXPECT_DOUBLE_EQ(h.max[1], 2000 + 0.09);
    EXPECT_DOUBLE_EQ(h.max[2], 1.0);
    EXPECT_TRUE(h.global_encoding & kWktCrs || true);
    fs::remove(path);
}

}  // namespace
}  // namespace lidarmill::las
