#include "copc/format.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "util/bytes.hpp"

namespace lidarmill::copc {

using util::load_le;
using util::store_le;

bool VoxelKey::valid() const {
    if (d < 0 || d > 30) return false;
    const std::int64_t span = std::int64_t{1} << d;
    return x >= 0 && y >= 0 && z >= 0 && x < span && y < span && z < span;
}

std::string VoxelKey::to_string() const {
    return fmt::format("{}-{}-{}-{}", d, x, y, z);
}

std::uint64_t VoxelKey::packed() const {
    return (static_cast<std::uint64_t>(d) << 60) | (static_cast<std::uint64_t>(x) << 40) |
           (static_cast<std::uint64_t>(y) << 20) | static_cast<std::uint64_t>(z);
}

VoxelKey VoxelKey::unpack(std::uint64_t p) {
    constexpr std::uint64_t mask = (1u << 20) - 1;
    return {static_cast<std::int32_t>(p >> 60), static_cast<std::int32_t>((p >> 40) & mask),
            static_cast<std::int32_t>((p >> 20) & mask), static_cast<std::int32_t>(p & mask)};
}

std::array<std::uint8_t, kInfoSize> CopcInfo::serialize() const {
    std::array<std::uint8_t, kInfoSize> out{};
    std::uint8_t* p = out.data();
    for (double v : {center_x, center_y, center_z, halfsize, spacing}) {
        store_le(p, v);
        p += 8;
    }
    store_le(p, root_hier_offset);
    store_le(p + 8, root_hier_size);
    store_le(p + 16, gpstime_minimum);
    store_le(p + 24, gpstime_maximum);
    p += 32;
    for (std::uint64_t r : reserved) {
        store_le(p, r);
        p += 8;
    }
    return out;
}

CopcInfo CopcInfo::parse(std::span<const std::uint8_t> bytes) {
    CopcInfo info;
    const std::uint8_t* p = bytes.data();
    info.center_x = load_le<double>(p);
    info.center_y = load_le<double>(p + 8);
    info.center_z = load_le<double>(p + 16);
    info.halfsize = load_le<double>(p + 24);
    info.spacing = load_le<double>(p + 32);
    info.root_hier_offset = load_le<std::uint64_t>(p + 40);
    info.root_hier_size = load_le<std::uint64_t>(p + 48);
    info.gpstime_minimum = load_le<double>(p + 56);
    info.gpstime_maximum = load_le<double>(p + 64);
    for (std::size_t i = 0; i < info.reserved.size(); ++i)
        info.reserved[i] = load_le<std::uint64_t>(p + 72 + 8 * i);
    return info;
}

void Entry::serialize(std::uint8_t* out) const {
    store_le(out, key.d);
    store_le(out + 4, key.x);
    store_le(out + 8, key.y);
    store_le(out + 12, key.z);
    store_le(out + 16, offset);
    store_le(out + 24, byte_size);
    store_le(out + 28, point_count);
}

Entry Entry::parse(const std::uint8_t* in) {
    Entry e;
    e.key = {load_le<std::int32_t>(in), load_le<std::int32_t>(in + 4),
             load_le<std::int32_t>(in + 8), load_le<std::int32_t>(in + 12)};
    e.offset = load_le<std::uint64_t>(in + 16);
    e.byte_size = load_le<std::int32_t>(in + 24);
    e.point_count = load_le<std::int32_t>(in + 28);
    return e;
}

namespace {
void put_vlr_texts(std::uint8_t* p, const las::Vlr& vlr) {
    store_le(p, vlr.reserved);
    util::store_fixed_string(p + 2, 16, vlr.user_id);
    store_le(p + 18, vlr.record_id);
}
}  // namespace

std::vector<std::uint8_t> serialize_vlr(const las::Vlr& vlr) {
    std::vector<std::uint8_t> out(las::kVlrHeaderSize + vlr.data.size());
    put_vlr_texts(out.data(), vlr);
    store_le(out.data() + 20, static_cast<std::uint16_t>(vlr.data.size()));
    util::store_fixed_string(out.data() + 22, 32, vlr.description);
    std::copy(vlr.data.begin(), vlr.data.end(), out.begin() + las::kVlrHeaderSize);
    return out;
}

std::vector<std::uint8_t> serialize_evlr(const las::Vlr& vlr) {
    std::vector<std::uint8_t> out(las::kEvlrHeaderSize + vlr.data.size());
    put_vlr_texts(out.data(), vlr);
    store_le(out.data() + 20, static_cast<std::uint64_t>(vlr.data.size()));
    util::store_fixed_string(out.data() + 28, 32, vlr.description);
    std::copy(vlr.data.begin(), vlr.data.end(), out.begin() + las::kEvlrHeaderSize);
    return out;
}

std::uint64_t ordered_bits(double value) {
    const auto bits = std::bit_cast<std::uint64_t>(value);
    // Negative numbers order reversed in IEEE bits: flip all of them; positives flip the sign.
    return (bits >> 63) ? ~bits : bits | (std::uint64_t{1} << 63);
}

std::uint8_t copc_point_format(std::uint8_t f) {
    switch (f) {
        case 2:
        case 3:
        case 5:
        case 7:
            return 7;
        case 8:
        case 10:
            return 8;
        default:
            return 6;
    }
}

}  // namespace lidarmill::copc
