#include "las/convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "las/point_format.hpp"
#include "util/bytes.hpp"

namespace lidarmill::las {

using util::load_le;
using util::store_le;

namespace {
// Extended formats store the scan angle in units of 0.006 degrees.
constexpr double kExtendedAngleUnit = 0.006;
}  // namespace

std::uint16_t RecordLayout::extra_size() const {
    return static_cast<std::uint16_t>(record_length - base_record_length(point_format));
}

bool ConversionLosses::any() const {
    return returns_clamped || classes_clamped || scan_angles_clamped || overlap_flags_dropped ||
           scanner_channels_dropped;
}

RecordConverter::RecordConverter(RecordLayout from, RecordLayout to,
                                 std::vector<std::pair<std::size_t, std::size_t>> extra_ranges)
    : from_(from), to_(to), extra_ranges_(std::move(extra_ranges)) {}

RecordConverter::RecordConverter(RecordLayout from, RecordLayout to, bool copy_all_extra)
    : from_(from), to_(to) {
    const std::size_t n = std::min(from.extra_size(), to.extra_size());
    if (copy_all_extra && n > 0) extra_ranges_.push_back({0, n});
}

bool RecordConverter::is_identity() const {
    return from_.point_format == to_.point_format && from_.record_length == to_.record_length &&
           extra_ranges_.size() == 1 && extra_ranges_[0].first == 0 &&
           extra_ranges_[0].second == from_.extra_size();
}

void RecordConverter::convert(std::span<const std::uint8_t> in, std::size_t count,
                              std::span<std::uint8_t> out) {
    if (from_.extra_size() == 0 && to_.extra_size() == 0 &&
        from_.point_format == to_.point_format) {
        std::memcpy(out.data(), in.data(), count * from_.record_length);
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        convert_one(in.data() + i * from_.record_length, out.data() + i * to_.record_length);
    }
}

void RecordConverter::convert_one(const std::uint8_t* in, std::uint8_t* out) {
    const std::uint8_t f = from_.point_format;
    const std::uint8_t t = to_.point_format;
    std::memset(out, 0, to_.record_length);
    std::memcpy(out, in, 14);  // X, Y, Z, intensity

    // Return bits, classification, flags, scan angle, user data, point source id.
    unsigned return_number, number_of_returns, class_flags, scanner_channel, scan_dir, edge;
    unsigned classification, user_data, point_source;
    double angle_degrees;
    if (is_extended_format(f)) {
        return_number = in[14] & 0x0F;
        number_of_returns = in[14] >> 4;
        class_flags = in[15] & 0x0F;
        scanner_channel = (in[15] >> 4) & 0x03;
        scan_dir = (in[15] >> 6) & 1;
        edge = in[15] >> 7;
        classification = in[16];
        user_data = in[17];
        angle_degrees = load_le<std::int16_t>(in + 18) * kExtendedAngleUnit;
        point_source = load_le<std::uint16_t>(in + 20);
    } else {
        return_number = in[14] & 0x07;
        number_of_returns = (in[14] >> 3) & 0x07;
        scan_dir = (in[14] >> 6) & 1;
        edge = in[14] >> 7;
        classification = in[15] & 0x1F;
        class_flags = in[15] >> 5;  // synthetic, key-point, withheld
        scanner_channel = 0;
        angle_degrees = static_cast<std::int8_t>(in[16]);
        user_data = in[17];
        point_source = load_le<std::uint16_t>(in + 18);
    }

    if (is_extended_format(t)) {
        out[14] = static_cast<std::uint8_t>(return_number | (number_of_returns << 4));
        out[15] = static_cast<std::uint8_t>(class_flags | (scanner_channel << 4) | (scan_dir << 6) |
                                            (edge << 7));
        out[16] = static_cast<std::uint8_t>(classification);
        out[17] = static_cast<std::uint8_t>(user_data);
        const bool same_family = is_extended_format(f);
        const auto angle = same_family
                               ? load_le<std::int16_t>(in + 18)
                               : static_cast<std::int16_t>(std::lround(std::clamp(
                                     angle_degrees / kExtendedAngleUnit, -30000.0, 30000.0)));
        store_le(out + 18, angle);
        store_le(out + 20, static_cast<std::uint16_t>(point_source));
    } else {
        if (return_number > 7 || number_of_returns > 7) ++losses_.returns_clamped;
        if (classification > 31) ++losses_.classes_clamped;
        if (class_flags & 0x08) ++losses_.overlap_flags_dropped;
        if (scanner_channel) ++losses_.scanner_channels_dropped;
        out[14] = static_cast<std::uint8_t>(std::min(return_number, 7u) |
                                            (std::min(number_of_returns, 7u) << 3) |
                                            (scan_dir << 6) | (edge << 7));
        out[15] =
            static_cast<std::uint8_t>(std::min(classification, 31u) | ((class_flags & 0x07) << 5));
        const double rounded = std::round(angle_degrees);
        if (rounded < -128 || rounded > 127) ++losses_.scan_angles_clamped;
        out[16] =
            static_cast<std::uint8_t>(static_cast<std::int8_t>(std::clamp(rounded, -128.0, 127.0)));
        out[17] = static_cast<std::uint8_t>(user_data);
        store_le(out + 18, static_cast<std::uint16_t>(point_source));
    }

    const RecordOffsets fo = record_offsets(f);
    const RecordOffsets to = record_offsets(t);
    if (has_gps_time(f) && has_gps_time(t)) std::memcpy(out + to.gps_time, in + fo.gps_time, 8);
    if (has_rgb(f) && has_rgb(t)) std::memcpy(out + to.rgb, in + fo.rgb, 6);
    if (has_nir(f) && has_nir(t)) std::memcpy(out + to.nir, in + fo.nir, 2);
    if (has_wave_packet(f) && has_wave_packet(t))
        std::memcpy(out + to.wave_packet, in + fo.wave_packet, 29);

    const std::uint8_t* in_extra = in + base_record_length(f);
    std::uint8_t* out_extra = out + base_record_length(t);
    for (const auto& [offset, size] : extra_ranges_) {
        std::memcpy(out_extra, in_extra + offset, size);
        out_extra += size;
    }
}

}  // namespace lidarmill::las
