#pragma once
// Point data record formats 0-10 of the ASPRS LAS specification 1.4 R15.
#include <cstdint>
#include <optional>

namespace lidarmill::las {

inline constexpr std::uint8_t kMaxPointFormat = 10;

// Size in bytes of the standard part of a record; anything beyond it in
// record_length is extra bytes.
constexpr std::uint16_t base_record_length(std::uint8_t format) {
    constexpr std::uint16_t sizes[] = {20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67};
    return format <= kMaxPointFormat ? sizes[format] : 0;
}

constexpr bool is_extended_format(std::uint8_t f) {
    return f >= 6;
}
constexpr bool has_gps_time(std::uint8_t f) {
    return f != 0 && f != 2;
}
constexpr bool has_rgb(std::uint8_t f) {
    return f == 2 || f == 3 || f == 5 || f == 7 || f == 8 || f == 10;
}
constexpr bool has_nir(std::uint8_t f) {
    return f == 8 || f == 10;
}
constexpr bool has_wave_packet(std::uint8_t f) {
    return f == 4 || f == 5 || f == 9 || f == 10;
}

// Fields of a raw record that passes over points read without a decoded buffer.
constexpr std::uint8_t classification_of(const std::uint8_t* record, std::uint8_t f) {
    return is_extended_format(f) ? record[16] : (record[15] & 0x1F);
}
constexpr std::uint8_t scanner_channel(const std::uint8_t* record, std::uint8_t f) {
    return is_extended_format(f) ? (record[15] >> 4) & 3 : 0;
}

// Byte offsets of the optional blocks inside a record of the given format.
struct RecordOffsets {
    std::uint16_t gps_time = 0;     // valid when has_gps_time
    std::uint16_t rgb = 0;          // valid when has_rgb
    std::uint16_t nir = 0;          // valid when has_nir
    std::uint16_t wave_packet = 0;  // valid when has_wave_packet
};

constexpr RecordOffsets record_offsets(std::uint8_t f) {
    RecordOffsets o;
    if (f >= 6) {
        o.gps_time = 22;
        o.rgb = 30;
        o.nir = 36;
        o.wave_packet = (f == 9) ? 30 : 38;
    } else {
        o.gps_time = 20;
        o.rgb = (f == 2) ? 20 : 28;
        o.wave_packet = (f == 4) ? 28 : 34;
    }
    return o;
}

}  // namespace lidarmill::las
