#pragma once
// The LASzip VLR (user id "laszip encoded", record id 22204): how the point data of a
// LAZ file is compressed.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "las/vlr.hpp"

namespace lidarmill::las {
struct FileMetadata;
}

namespace lidarmill::laz {

enum class ItemType : std::uint16_t {
    byte = 0,
    short_ = 1,
    integer = 2,
    long_ = 3,
    float_ = 4,
    double_ = 5,
    point10 = 6,
    gpstime11 = 7,
    rgb12 = 8,
    wavepacket13 = 9,
    point14 = 10,
    rgb14 = 11,
    rgbnir14 = 12,
    wavepacket14 = 13,
    byte14 = 14,
};

// The item's name as LASzip spells it ("POINT14", "BYTE14", ...).
const char* item_type_name(ItemType type);

struct LazItem {
    ItemType type{};
    std::uint16_t size = 0;
    std::uint16_t version = 0;
};

enum class Compressor : std::uint16_t {
    none = 0,
    pointwise = 1,          // LASzip 1.x: one arithmetic stream, no chunks
    pointwise_chunked = 2,  // formats 0-5
    layered_chunked = 3,    // formats 6-10
};

inline constexpr std::uint32_t kVariableChunkSize = 0xFFFFFFFFu;
inline constexpr std::uint32_t kDefaultChunkSize = 50000;

struct LaszipVlr {
    Compressor compressor = Compressor::pointwise_chunked;
    std::uint16_t coder = 0;  // 0 = arithmetic, the only one defined
    std::uint8_t version_major = 3;
    std::uint8_t version_minor = 4;
    std::uint16_t version_revision = 3;
    std::uint32_t options = 0;
    std::uint32_t chunk_size = kDefaultChunkSize;  // kVariableChunkSize = variable
    std::int64_t number_of_special_evlrs = -1;
    std::int64_t offset_to_special_evlrs = -1;
    std::vector<LazItem> items;

    bool variable_chunks() const { return chunk_size == kVariableChunkSize; }

    // Parses the VLR payload; throws util::InputError naming `file` on malformed data
    // (unknown compressor, coder, item type or version, short payload).
    static LaszipVlr parse(std::span<const std::uint8_t> payload, const std::string& file);
    std::vector<std::uint8_t> serialize() const;
    las::Vlr to_vlr() const;
    // What current LASzip (3.4r3) writes for this point format and record length:
    // compressor 2 with v2 items for formats 0-5, compressor 3 with v3 items for 6-10;
    // extra bytes become a BYTE (v2) or BYTE14 (v3) item.
    static LaszipVlr for_point_format(std::uint8_t point_format, std::uint16_t record_length,
                                      std::uint32_t chunk_size = kDefaultChunkSize);
    // Checks that the items add up to the record length and suit the point format;
    // throws util::InputError naming `file` otherwise.
    void check(std::uint8_t point_format, std::uint16_t record_length,
               const std::string& file) const;
};

// The parsed LASzip VLR of a file's metadata, if it has one.
std::optional<LaszipVlr> find_laszip_vlr(const las::FileMetadata& metadata);
// The LASzip VLR of a file whose points are compressed, checked against its point format;
// throws util::InputError naming the file when it is missing or does not fit.
LaszipVlr require_laszip_vlr(const las::FileMetadata& metadata);

}  // namespace lidarmill::laz
