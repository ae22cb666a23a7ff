#include "las/header.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::las {

using util::load_le;
using util::store_le;

std::uint64_t Header::point_count() const {
    if (at_least(1, 4) && point_count_64 != 0) return point_count_64;
    return legacy_point_count;
}

std::uint64_t Header::points_by_return(int index) const {
    if (at_least(1, 4) && point_count_64 != 0) return points_by_return_64.at(index);
    return index < 5 ? legacy_points_by_return[index] : 0;
}

std::string Header::version_string() const {
    return fmt::format("{}.{}", version_major, version_minor);
}

std::string Header::system_identifier_text() const {
    return util::load_fixed_string(system_identifier.data(), system_identifier.size());
}

std::string Header::generating_software_text() const {
    return util::load_fixed_string(generating_software.data(), generating_software.size());
}

std::size_t Header::standard_size() const {
    if (at_least(1, 4)) return kHeaderSize14;
    if (at_least(1, 3)) return kHeaderSize13;
    return kHeaderSize12;
}

void set_text(std::array<std::uint8_t, 32>& field, std::string_view text) {
    util::store_fixed_string(field.data(), field.size(), text);
}

Header parse_header(std::span<const std::uint8_t> bytes, const std::string& file) {
    if (bytes.size() < 4 || !std::equal(bytes.begin(), bytes.begin() + 4, "LASF")) {
        throw util::InputError(file, "not a LAS/LAZ file (no LASF signature)");
    }
    if (bytes.size() < kHeaderSize12) {
        throw util::InputError(
            file, fmt::format("file too short for a LAS header ({} bytes)", bytes.size()));
    }
    const std::uint8_t* p = bytes.data();
    Header h;
    h.file_source_id = load_le<std::uint16_t>(p + 4);
    h.global_encoding = load_le<std::uint16_t>(p + 6);
    std::copy_n(p + 8, 16, h.guid.begin());
    h.version_major = p[24];
    h.version_minor = p[25];
    if (h.version_major != 1 || h.version_minor > 4) {
        throw util::InputError(
            file, fmt::format("unsupported LAS version {}.{}", h.version_major, h.version_minor));
    }
    std::copy_n(p + 26, 32, h.system_identifier.begin());
    std::copy_n(p + 58, 32, h.generating_software.begin());
    h.creation_day = load_le<std::uint16_t>(p + 90);
    h.creation_year = load_le<std::uint16_t>(p + 92);
    h.header_size = load_le<std::uint16_t>(p + 94);
    h.offset_to_point_data = load_le<std::uint32_t>(p + 96);
    h.number_of_vlrs = load_le<std::uint32_t>(p + 100);
    h.point_format_raw = p[104];
    h.point_format = p[104] & 0x3F;
    h.record_length = load_le<std::uint16_t>(p + 105);
    h.legacy_point_count = load_le<std::uint32_t>(p + 107);
    for (int i = 0; i < 5; ++i)
        h.legacy_points_by_return[i] = load_le<std::uint32_t>(p + 111 + 4 * i);
    for (int i = 0; i < 3; ++i) {
        h.scale[i] = load_le<double>(p + 131 + 8 * i);
        h.offset[i] = load_le<double>(p + 155 + 8 * i);
        h.max[i] = load_le<double>(p + 179 + 16 * i);
        h.min[i] = load_le<double>(p + 187 + 16 * i);
    }

    const std::size_t standard = h.standard_size();
    if (h.header_size < standard) {
        throw util::InputError(file, fmt::format("header size {} is smaller than the {} bytes of a "
                                                 "LAS {} header",
                                                 h.header_size, standard, h.version_string()));
    }
    if (bytes.size() < standard) {
        throw util::InputError(file, fmt::format("file too short for a LAS {} header ({} bytes)",
                                                 h.version_string(), bytes.size()));
    }
    if (h.at_least(1, 3)) h.waveform_data_start = load_le<std::uint64_t>(p + 227);
    if (h.at_least(1, 4)) {
        h.evlr_offset = load_le<std::uint64_t>(p + 235);
        h.evlr_count = load_le<std::uint32_t>(p + 243);
        h.point_count_64 = load_le<std::uint64_t>(p + 247);
        for (int i = 0; i < 15; ++i)
            h.points_by_return_64[i] = load_le<std::uint64_t>(p + 255 + 8 * i);
    }
    if (h.offset_to_point_data < h.header_size) {
        throw util::InputError(file,
                               fmt::format("offset to point data {} lies inside the {}-byte header",
                                           h.offset_to_point_data, h.header_size));
    }
    if (h.point_format > kMaxPointFormat) {
        throw util::InputError(file,
                               fmt::format("unsupported point data format {}", h.point_format));
    }
    if (h.record_length < base_record_length(h.point_format)) {
        throw util::InputError(
            file, fmt::format("record length {} is shorter than the {} bytes of "
                              "point format {}",
                              h.record_length, base_record_length(h.point_format), h.point_format));
    }
    return h;
}

std::vector<std::uint8_t> serialize_header(const Header& h) {
    const std::size_t standard = h.standard_size();
    std::vector<std::uint8_t> out(standard, 0);
    std::uint8_t* p = out.data();
    std::copy_n("LASF", 4, p);
    store_le(p + 4, h.file_source_id);
    store_le(p + 6, h.global_encoding);
    std::copy_n(h.guid.begin(), 16, p + 8);
    p[24] = h.version_major;
    p[25] = h.version_minor;
    std::copy_n(h.system_identifier.begin(), 32, p + 26);
    std::copy_n(h.generating_software.begin(), 32, p + 58);
    store_le(p + 90, h.creation_day);
    store_le(p + 92, h.creation_year);
    store_le(p + 94, static_cast<std::uint16_t>(standard + h.extra_header_bytes.size()));
    store_le(p + 96, h.offset_to_point_data);
    store_le(p + 100, h.number_of_vlrs);
    p[104] = h.point_format_raw;
    store_le(p + 105, h.record_length);
    store_le(p + 107, h.legacy_point_count);
    for (int i = 0; i < 5; ++i) store_le(p + 111 + 4 * i, h.legacy_points_by_return[i]);
    for (int i = 0; i < 3; ++i) {
        store_le(p + 131 + 8 * i, h.scale[i]);
        store_le(p + 155 + 8 * i, h.offset[i]);
        store_le(p + 179 + 16 * i, h.max[i]);
        store_le(p + 187 + 16 * i, h.min[i]);
    }
    if (h.at_least(1, 3)) store_le(p + 227, h.waveform_data_start);
    if (h.at_least(1, 4)) {
        store_le(p + 235, h.evlr_offset);
        store_le(p + 243, h.evlr_count);
        store_le(p + 247, h.point_count_64);
        for (int i = 0; i < 15; ++i) store_le(p + 255 + 8 * i, h.points_by_return_64[i]);
    }
    out.insert(out.end(), h.extra_header_bytes.begin(), h.extra_header_bytes.end());
    return out;
}

}  // namespace lidarmill::las
