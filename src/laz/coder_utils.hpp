#pragma once
// The small integer arithmetic every LAZ item codec shares. LASzip computes its
// predictions with plain 32-bit ints and bytes that silently wrap; reproducing those
// wraps bit for bit (without C++'s signed-overflow UB) is what keeps the codec
// LASzip-compatible, so each of them is written once, here, and inlined everywhere.
#include <cstdint>
#include <limits>

namespace lidarmill::laz::detail {

// Byte arithmetic that wraps like LASzip's U8_FOLD: differences and corrections of byte
// fields travel as bytes modulo 256.
constexpr std::uint8_t fold_u8(std::int32_t value) {
    return static_cast<std::uint8_t>(value);
}

// LASzip's U8_CLAMP: a predicted byte kept inside 0..255.
constexpr std::int32_t clamp_u8(std::int32_t value) {
    return value <= 0 ? 0 : (value >= 255 ? 255 : value);
}

constexpr std::int32_t low_byte(std::uint16_t value) {
    return value & 0xFF;
}
constexpr std::int32_t high_byte(std::uint16_t value) {
    return value >> 8;
}

// Two's complement wrap-around without signed-overflow UB.
constexpr std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
constexpr std::int32_t wrap_sub(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b));
}
constexpr std::int32_t wrap_mul(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

constexpr std::int64_t wrap_add64(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

// True when a 64-bit difference can be coded as a 32-bit one.
constexpr bool fits_i32(std::int64_t value) {
    return value == static_cast<std::int32_t>(value);
}

// LASzip's I32_QUANTIZE of a float ratio (rounded half away from zero through double).
// Out-of-range results take the value x86's conversion instruction gives (INT32_MIN),
// which is what LASzip binaries produce and what their output depends on.
inline std::int32_t quantize_ratio(float ratio) {
    const double rounded =
        ratio >= 0 ? static_cast<double>(ratio) + 0.5 : static_cast<double>(ratio) - 0.5;
    if (!(rounded > -2147483649.0 && rounded < 2147483648.0))
        return std::numeric_limits<std::int32_t>::min();
    return static_cast<std::int32_t>(rounded);
}

}  // namespace lidarmill::laz::detail
