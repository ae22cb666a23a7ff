#pragma once
// A columnar (struct of arrays) view of a batch of point records, decoded from the raw
// records, which are kept alongside so a rewrite stays bit-exact.
#include <cstdint>
#include <span>
#include <vector>

#include "las/extra_bytes.hpp"
#include "las/header.hpp"

namespace lidarmill::las {

class PointBuffer {
  public:
    PointBuffer() = default;
    PointBuffer(std::uint8_t point_format, std::uint16_t record_length);

    // Replaces the contents with `count` records decoded from `raw`.
    void assign(std::span<const std::uint8_t> raw, std::size_t count);
    void clear();
    std::size_t size() const { return size_; }
    std::uint8_t point_format() const { return point_format_; }
    std::uint16_t record_length() const { return record_length_; }
    std::uint16_t extra_size() const { return extra_size_; }

    // Raw records exactly as read.
    std::span<const std::uint8_t> raw() const { return raw_; }
    std::span<const std::uint8_t> raw_record(std::size_t i) const;
    std::span<const std::uint8_t> extra_bytes(std::size_t i) const;

    // Scaled coordinates in double precision.
    double x(std::size_t i, const Header& h) const { return X[i] * h.scale[0] + h.offset[0]; }
    double y(std::size_t i, const Header& h) const { return Y[i] * h.scale[1] + h.offset[1]; }
    double z(std::size_t i, const Header& h) const { return Z[i] * h.scale[2] + h.offset[2]; }
    double scan_angle_degrees(std::size_t i) const;

    std::vector<std::int32_t> X, Y, Z;
    std::vector<std::uint16_t> intensity;
    std::vector<std::uint8_t> return_number, number_of_returns;
    std::vector<std::uint8_t> classification;
    // Bits 0-3: synthetic, key-point, withheld, overlap (overlap only in formats 6-10).
    std::vector<std::uint8_t> classification_flags;
    std::vector<std::uint8_t> scanner_channel, scan_direction, edge_of_flight_line;
    // Formats 0-5: the int8 scan angle rank in degrees; 6-10: int16 in 0.006 degrees.
    std::vector<std::int16_t> scan_angle;
    std::vector<std::uint8_t> user_data;
    std::vector<std::uint16_t> point_source_id;
    std::vector<double> gps_time;
    std::vector<std::uint16_t> red, green, blue, nir;
    std::vector<std::uint8_t> wave_descriptor_index;
    std::vector<std::uint64_t> wave_byte_offset;
    std::vector<std::uint32_t> wave_packet_size;
    std::vector<float> wave_return_location, wave_dx, wave_dy, wave_dz;

  private:
    void resize_columns(std::size_t n);
    void decode_one(std::size_t i, const std::uint8_t* p);

    std::uint8_t point_format_ = 0;
    std::uint16_t record_length_ = 20;
    std::uint16_t extra_size_ = 0;
    std::size_t size_ = 0;
    std::vector<std::uint8_t> raw_;
};

}  // namespace lidarmill::las
