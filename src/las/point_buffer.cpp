#include "las/point_buffer.hpp"

#include <algorithm>

#include "las/point_format.hpp"
#include "util/bytes.hpp"

namespace lidarmill::las {

using util::load_le;

PointBuffer::PointBuffer(std::uint8_t point_format, std::uint16_t record_length)
    : point_format_(point_format),
      record_length_(record_length),
      extra_size_(static_cast<std::uint16_t>(record_length - base_record_length(point_format))) {}

std::span<const std::uint8_t> PointBuffer::raw_record(std::size_t i) const {
    return std::span(raw_).subspan(i * record_length_, record_length_);
}

std::span<const std::uint8_t> PointBuffer::extra_bytes(std::size_t i) const {
    return std::span(raw_).subspan(i * record_length_ + base_record_length(point_format_),
                                   extra_size_);
}

double PointBuffer::scan_angle_degrees(std::size_t i) const {
    return is_extended_format(point_format_) ? scan_angle[i] * 0.006 : scan_angle[i];
}

void PointBuffer::clear() {
    size_ = 0;
    raw_.clear();
    resize_columns(0);
}

void PointBuffer::resize_columns(std::size_t n) {
    const std::uint8_t f = point_format_;
    for (auto* v : {&X, &Y, &Z}) v->resize(n);
    intensity.resize(n);
    for (auto* v : {&return_number, &number_of_returns, &classification, &classification_flags,
                    &scanner_channel, &scan_direction, &edge_of_flight_line, &user_data}) {
        v->resize(n);
    }
    scan_angle.resize(n);
    point_source_id.resize(n);
    gps_time.resize(has_gps_time(f) ? n : 0);
    for (auto* v : {&red, &green, &blue}) v->resize(has_rgb(f) ? n : 0);
    nir.resize(has_nir(f) ? n : 0);
    const std::size_t w = has_wave_packet(f) ? n : 0;
    wave_descriptor_index.resize(w);
    wave_byte_offset.resize(w);
    wave_packet_size.resize(w);
    for (auto* v : {&wave_return_location, &wave_dx, &wave_dy, &wave_dz}) v->resize(w);
}

void PointBuffer::assign(std::span<const std::uint8_t> raw, std::size_t count) {
    size_ = count;
    raw_.assign(raw.begin(), raw.begin() + count * record_length_);
    resize_columns(count);
    for (std::size_t i = 0; i < count; ++i) decode_one(i, raw_.data() + i * record_length_);
}

void PointBuffer::decode_one(std::size_t i, const std::uint8_t* p) {
    const std::uint8_t f = point_format_;
    X[i] = load_le<std::int32_t>(p);
    Y[i] = load_le<std::int32_t>(p + 4);
    Z[i] = load_le<std::int32_t>(p + 8);
    intensity[i] = load_le<std::uint16_t>(p + 12);
    if (is_extended_format(f)) {
        return_number[i] = p[14] & 0x0F;
        number_of_returns[i] = p[14] >> 4;
        classification_flags[i] = p[15] & 0x0F;
        scanner_channel[i] = (p[15] >> 4) & 0x03;
        scan_direction[i] = (p[15] >> 6) & 1;
        edge_of_flight_line[i] = p[15] >> 7;
        classification[i] = p[16];
        user_data[i] = p[17];
        scan_angle[i] = load_le<std::int16_t>(p + 18);
        point_source_id[i] = load_le<std::uint16_t>(p + 20);
    } else {
        return_number[i] = p[14] & 0x07;
        number_of_returns[i] = (p[14] >> 3) & 0x07;
        scan_direction[i] = (p[14] >> 6) & 1;
        edge_of_flight_line[i] = p[14] >> 7;
        classification[i] = p[15] & 0x1F;
        classification_flags[i] = p[15] >> 5;
        scanner_channel[i] = 0;
        scan_angle[i] = static_cast<std::int8_t>(p[16]);
        user_data[i] = p[17];
        point_source_id[i] = load_le<std::uint16_t>(p + 18);
    }
    const RecordOffsets o = record_offsets(f);
    if (has_gps_time(f)) gps_time[i] = load_le<double>(p + o.gps_time);
    if (has_rgb(f)) {
        red[i] = load_le<std::uint16_t>(p + o.rgb);
        green[i] = load_le<std::uint16_t>(p + o.rgb + 2);
        blue[i] = load_le<std::uint16_t>(p + o.rgb + 4);
    }
    if (has_nir(f)) nir[i] = load_le<std::uint16_t>(p + o.nir);
    if (has_wave_packet(f)) {
        const std::uint8_t* w = p + o.wave_packet;
        wave_descriptor_index[i] = w[0];
        wave_byte_offset[i] = load_le<std::uint64_t>(w + 1);
        wave_packet_size[i] = load_le<std::uint32_t>(w + 9);
        wave_return_location[i] = load_le<float>(w + 13);
        wave_dx[i] = load_le<float>(w + 17);
        wave_dy[i] = load_le<float>(w + 21);
        wave_dz[i] = load_le<float>(w + 25);
    }
}

}  // namespace lidarmill::las
