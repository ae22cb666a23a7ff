#include "laz/item_codec.hpp"

#include <fmt/format.h>

#include "laz/gps_time_coder.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace detail {

const std::uint8_t kNumberReturnMap[8][8] = {
    {15, 14, 13, 12, 11, 10, 9, 8},  {14, 0, 1, 3, 6, 10, 10, 9},
    {13, 1, 2, 4, 7, 11, 11, 10},    {12, 3, 4, 5, 8, 12, 12, 11},
    {11, 6, 7, 8, 9, 13, 13, 12},    {10, 10, 11, 12, 13, 14, 14, 13},
    {9, 10, 11, 12, 13, 14, 15, 14}, {8, 9, 10, 11, 12, 13, 14, 15}};

const std::uint8_t kNumberReturnLevel[8][8] = {{0, 1, 2, 3, 4, 5, 6, 7}, {1, 0, 1, 2, 3, 4, 5, 6},
                                               {2, 1, 0, 1, 2, 3, 4, 5}, {3, 2, 1, 0, 1, 2, 3, 4},
                                               {4, 3, 2, 1, 0, 1, 2, 3}, {5, 4, 3, 2, 1, 0, 1, 2},
                                               {6, 5, 4, 3, 2, 1, 0, 1}, {7, 6, 5, 4, 3, 2, 1, 0}};

void StreamingMedian5::add(std::int32_t v) {
    auto& s = values_;
    // Alternately drops the largest and the smallest value so the middle stays a median.
    if (high_) {
        if (v < s[2]) {
            s[4] = s[3];
            s[3] = s[2];
            if (v < s[0]) {
                s[2] = s[1];
                s[1] = s[0];
                s[0] = v;
            } else if (v < s[1]) {
                s[2] = s[1];
                s[1] = v;
            } else {
                s[2] = v;
            }
        } else {
            if (v < s[3]) {
                s[4] = s[3];
                s[3] = v;
            } else {
                s[4] = v;
            }
            high_ = false;
        }
    } else {
        if (s[2] < v) {
            s[0] = s[1];
            s[1] = s[2];
            if (s[4] < v) {
                s[2] = s[3];
                s[3] = s[4];
                s[4] = v;
            } else if (s[3] < v) {
                s[2] = s[3];
                s[3] = v;
            } else {
                s[2] = v;
            }
        } else {
            if (s[1] < v) {
                s[0] = s[1];
                s[1] = v;
            } else {
                s[0] = v;
            }
            high_ = true;
        }
    }
}

void throw_gps_switch_loop() {
    throw util::InputError("", "corrupt GPS time layer (sequence switch loop)");
}

}  // namespace detail

namespace {
[[noreturn]] void unsupported(const LazItem& item) {
    throw util::InputError("",
                           fmt::format("unsupported LAZ item (type {}, size {}, version {}) "
                                       "for a pointwise compressor",
                                       static_cast<unsigned>(item.type), item.size, item.version));
}
}  // namespace

std::unique_ptr<ItemDecoder> make_item_decoder(const LazItem& item, ArithmeticDecoder& dec) {
    const bool v1_or_v2 = item.version == 1 || item.version == 2;
    switch (item.type) {
        case ItemType::point10:
            if (v1_or_v2 && item.size == 20) return make_point10_decoder(item.version, dec);
            break;
        case ItemType::gpstime11:
            if (v1_or_v2 && item.size == 8) return make_gpstime11_decoder(item.version, dec);
            break;
        case ItemType::rgb12:
            if (v1_or_v2 && item.size == 6) return make_rgb12_decoder(item.version, dec);
            break;
        case ItemType::byte:
            if (v1_or_v2 && item.size > 0) return make_byte_decoder(item.version, item.size, dec);
            break;
        case ItemType::wavepacket13:
            if (item.version == 1 && item.size == 29) return make_wavepacket13_decoder(dec);
            break;
        default:
            break;
    }
    unsupported(item);
}

std::unique_ptr<ItemEncoder> make_item_encoder(const LazItem& item, ArithmeticEncoder& enc) {
    switch (item.type) {
        case ItemType::point10:
            if (item.version == 2 && item.size == 20) return make_point10_encoder(enc);
            break;
        case ItemType::gpstime11:
            if (item.version == 2 && item.size == 8) return make_gpstime11_encoder(enc);
            break;
        case ItemType::rgb12:
            if (item.version == 2 && item.size == 6) return make_rgb12_encoder(enc);
            break;
        case ItemType::byte:
            if (item.version == 2 && item.size > 0) return make_byte_encoder(item.size, enc);
            break;
        case ItemType::wavepacket13:
            if (item.version == 1 && item.size == 29) return make_wavepacket13_encoder(enc);
            break;
        default:
            break;
    }
    unsupported(item);
}

}  // namespace lidarmill::laz
