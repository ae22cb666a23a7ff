#pragma once
// The byte-difference coding of an RGB triple that RGB12 version 2 and the layered
// RGB14/RGBNIR14 items share (LASzip's *_RGB12_v2 and *_RGB14_v3/v4 code a triple the
// same way; they differ only in the framing around it). Each channel travels as its low
// and high byte; G and B are predicted from their last value plus R's change, B from the
// mean of R's and G's change.
#include <array>
#include <cstdint>

#include "laz/arithmetic.hpp"
#include "laz/coder_utils.hpp"

namespace lidarmill::laz::detail {

struct RgbModels {
    explicit RgbModels(bool compress)
        : byte_used(128, compress), diff{ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress)} {}
    void init() {
        byte_used.init();
        for (auto& m : diff) m.init();
    }

    ArithmeticModel byte_used;
    std::array<ArithmeticModel, 6> diff;  // [2c] low byte, [2c+1] high byte of channel c
};

// Symbol bits 0-5: which byte (R low, R high, G low, G high, B low, B high) differs from
// the last value; bit 6: G and B are not simply copies of R.
inline constexpr std::uint32_t kRgbNotGrey = 1u << 6;

// A coded byte: the decoded correction added to the prediction, modulo 256.
inline std::int32_t decode_byte(ArithmeticDecoder& dec, ArithmeticModel& m,
                                std::int32_t predicted) {
    return fold_u8(static_cast<std::int32_t>(dec.decode_symbol(m)) + predicted);
}

inline void decode_rgb(ArithmeticDecoder& dec, RgbModels& m, const std::uint16_t* last,
                       std::uint16_t* out) {
    const std::uint32_t sym = dec.decode_symbol(m.byte_used);
    const std::int32_t r_low =
        (sym & (1u << 0)) ? decode_byte(dec, m.diff[0], low_byte(last[0])) : low_byte(last[0]);
    const std::int32_t r_high =
        (sym & (1u << 1)) ? decode_byte(dec, m.diff[1], high_byte(last[0])) : high_byte(last[0]);
    out[0] = static_cast<std::uint16_t>(r_low | (r_high << 8));
    if (!(sym & kRgbNotGrey)) {
        out[1] = out[2] = out[0];
        return;
    }

    std::int32_t diff = r_low - low_byte(last[0]);
    std::int32_t g_low = low_byte(last[1]);
    std::int32_t b_low = low_byte(last[2]);
    if (sym & (1u << 2)) g_low = decode_byte(dec, m.diff[2], clamp_u8(diff + low_byte(last[1])));
    if (sym & (1u << 4)) {
        diff = (diff + (g_low - low_byte(last[1]))) / 2;
        b_low = decode_byte(dec, m.diff[4], clamp_u8(diff + low_byte(last[2])));
    }

    diff = r_high - high_byte(last[0]);
    std::int32_t g_high = high_byte(last[1]);
    std::int32_t b_high = high_byte(last[2]);
    if (sym & (1u << 3)) g_high = decode_byte(dec, m.diff[3], clamp_u8(diff + high_byte(last[1])));
    if (sym & (1u << 5)) {
        diff = (diff + (g_high - high_byte(last[1]))) / 2;
        b_high = decode_byte(dec, m.diff[5], clamp_u8(diff + high_byte(last[2])));
    }
    out[1] = static_cast<std::uint16_t>(g_low | (g_high << 8));
    out[2] = static_cast<std::uint16_t>(b_low | (b_high << 8));
}

// Returns whether anything differed from `last`.
inline bool encode_rgb(ArithmeticEncoder& enc, RgbModels& m, const std::uint16_t* last,
                       const std::uint16_t* now) {
    std::uint32_t sym = 0;
    for (int i = 0; i < 3; ++i) {
        if (low_byte(last[i]) != low_byte(now[i])) sym |= 1u << (2 * i);
        if (high_byte(last[i]) != high_byte(now[i])) sym |= 1u << (2 * i + 1);
    }
    if (now[0] != now[1] || now[0] != now[2]) sym |= kRgbNotGrey;
    enc.encode_symbol(m.byte_used, sym);

    std::int32_t diff_low = 0;
    std::int32_t diff_high = 0;
    if (sym & (1u << 0)) {
        diff_low = low_byte(now[0]) - low_byte(last[0]);
        enc.encode_symbol(m.diff[0], fold_u8(diff_low));
    }
    if (sym & (1u << 1)) {
        diff_high = high_byte(now[0]) - high_byte(last[0]);
        enc.encode_symbol(m.diff[1], fold_u8(diff_high));
    }
    if (sym & kRgbNotGrey) {
        const auto correct = [&](int model, std::int32_t actual, std::int32_t predicted) {
            enc.encode_symbol(m.diff[model], fold_u8(actual - clamp_u8(predicted)));
        };
        if (sym & (1u << 2)) correct(2, low_byte(now[1]), diff_low + low_byte(last[1]));
        if (sym & (1u << 4)) {
            diff_low = (diff_low + low_byte(now[1]) - low_byte(last[1])) / 2;
            correct(4, low_byte(now[2]), diff_low + low_byte(last[2]));
        }
        if (sym & (1u << 3)) correct(3, high_byte(now[1]), diff_high + high_byte(last[1]));
        if (sym & (1u << 5)) {
            diff_high = (diff_high + high_byte(now[1]) - high_byte(last[1])) / 2;
            correct(5, high_byte(now[2]), diff_high + high_byte(last[2]));
        }
    }
    return sym != 0;
}

}  // namespace lidarmill::laz::detail
