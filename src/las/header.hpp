#pragma once
// The LAS public header block, versions 1.0 to 1.4.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lidarmill::las {

inline constexpr std::size_t kHeaderSize12 = 227;  // LAS 1.0 - 1.2
inline constexpr std::size_t kHeaderSize13 = 235;
inline constexpr std::size_t kHeaderSize14 = 375;

// Global encoding bits.
inline constexpr std::uint16_t kGpsStandardTime = 1u << 0;
inline constexpr std::uint16_t kWaveformInternal = 1u << 1;
inline constexpr std::uint16_t kWaveformExternal = 1u << 2;
inline constexpr std::uint16_t kSyntheticReturnNumbers = 1u << 3;
inline constexpr std::uint16_t kWktCrs = 1u << 4;

struct Header {
    std::uint16_t file_source_id = 0;
    std::uint16_t global_encoding = 0;
    std::array<std::uint8_t, 16> guid{};
    std::uint8_t version_major = 1;
    std::uint8_t version_minor = 4;
    std::array<std::uint8_t, 32> system_identifier{};
    std::array<std::uint8_t, 32> generating_software{};
    std::uint16_t creation_day = 0;
    std::uint16_t creation_year = 0;
    std::uint16_t header_size = kHeaderSize14;
    std::uint32_t offset_to_point_data = kHeaderSize14;
    std::uint32_t number_of_vlrs = 0;
    std::uint8_t point_format = 6;      // 0-10, compression bits removed
    std::uint8_t point_format_raw = 6;  // as on disk: bit 7 (and 6) flag LAZ
    std::uint16_t record_length = 30;
    std::uint32_t legacy_point_count = 0;
    std::array<std::uint32_t, 5> legacy_points_by_return{};
    std::array<double, 3> scale{0.01, 0.01, 0.01};
    std::array<double, 3> offset{};
    std::array<double, 3> max{};
    std::array<double, 3> min{};
    std::uint64_t waveform_data_start = 0;                // 1.3+
    std::uint64_t evlr_offset = 0;                        // 1.4
    std::uint32_t evlr_count = 0;                         // 1.4
    std::uint64_t point_count_64 = 0;                     // 1.4
    std::array<std::uint64_t, 15> points_by_return_64{};  // 1.4
    // Bytes between the standard header and header_size ("user-defined" header data).
    std::vector<std::uint8_t> extra_header_bytes;

    bool is_compressed() const { return (point_format_raw & 0xC0) != 0; }
    bool at_least(int major, int minor) const {
        return version_major > major || (version_major == major && version_minor >= minor);
    }
    // The point count a reader should trust: the 64-bit count for LAS 1.4 (falling back to the
    // legacy one when a writer left it zero), else the legacy count.
    std::uint64_t point_count() const;
    std::uint64_t points_by_return(int index) const;  // index 0..14
    std::string version_string() const;
    std::string system_identifier_text() const;
    std::string generating_software_text() const;
    std::size_t standard_size() const;  // 227, 235 or 375 for this version
};

// Parses the header from the first bytes of a file. `bytes` must hold at least
// min(file size, 375) bytes. Throws util::InputError naming `file` for anything that
// makes the file unreadable (not LASF, unsupported version, impossible sizes).
Header parse_header(std::span<const std::uint8_t> bytes, const std::string& file);

// Serializes the header to header.header_size bytes (standard part + extra_header_bytes).
std::vector<std::uint8_t> serialize_header(const Header& header);

void set_text(std::array<std::uint8_t, 32>& field, std::string_view text);

}  // namespace lidarmill::las
