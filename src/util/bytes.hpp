#pragma once
// Little-endian loads and stores on byte buffers. LAS is little-endian on disk; these
// helpers use memcpy so unaligned access is well defined.
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace lidarmill::util {

static_assert(std::endian::native == std::endian::little, "lidarmill assumes a little-endian host");

template <typename T>
requires std::is_trivially_copyable_v<T>
inline T load_le(const std::uint8_t* p) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return value;
}

template <typename T>
requires std::is_trivially_copyable_v<T>
inline void store_le(std::uint8_t* p, T value) {
    std::memcpy(p, &value, sizeof(T));
}

// A fixed-width, NUL-padded text field as found in LAS headers and VLRs.
inline std::string load_fixed_string(const std::uint8_t* p, std::size_t width) {
    std::size_t n = 0;
    while (n < width && p[n] != 0) ++n;
    return std::string(reinterpret_cast<const char*>(p), n);
}

inline void store_fixed_string(std::uint8_t* p, std::size_t width, std::string_view text) {
    std::memset(p, 0, width);
    std::memcpy(p, text.data(), std::min(width, text.size()));
}

}  // namespace lidarmill::util
