#include "util/size.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "util/error.hpp"

namespace lidarmill::util {

namespace {

// GCC's 128-bit integer avoids overflow in whole * multiplier; __extension__ keeps -Wpedantic
// quiet.
__extension__ using Uint128 = unsigned __int128;

constexpr std::array<char, 6> kUnitLetters = {'K', 'M', 'G', 'T', 'P', 'E'};
constexpr std::array<const char*, 7> kUnitNames = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

[[noreturn]] void throw_bad_size(std::string_view text, std::string_view why) {
    throw UsageError("invalid size \"" + std::string(text) + "\": " + std::string(why) +
                     " (expected e.g. 1024, 64K, 512M, 1.5G, 2GiB)");
}

// Returns the multiplier (1 << 10k) for a unit suffix, or nullopt if the suffix is unknown.
std::optional<std::uint64_t> unit_multiplier(std::string_view suffix) {
    std::string upper;
    for (char c : trim(suffix))
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.empty() || upper == "B") return 1;
    for (std::size_t i = 0; i < kUnitLetters.size(); ++i) {
        const std::string letter(1, kUnitLetters[i]);
        if (upper == letter || upper == letter + "B" || upper == letter + "IB") {
            return std::uint64_t{1} << (10 * (i + 1));
        }
    }
    return std::nullopt;
}

struct DecimalNumber {
    std::string_view whole;     // digits before the point
    std::string_view fraction;  // digits after the point
    std::string_view rest;      // everything after the number (the unit)
};

std::optional<DecimalNumber> split_number(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    DecimalNumber number{text.substr(0, pos), {}, {}};
    if (pos < text.size() && text[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
        number.fraction = text.substr(start, pos - start);
    }
    if (number.whole.empty() && number.fraction.empty()) return std::nullopt;
    number.rest = text.substr(pos);
    return number;
}

// whole * multiplier + fraction * multiplier, exactly, in 128-bit arithmetic.
std::optional<std::uint64_t> scale(const DecimalNumber& number, std::uint64_t multiplier) {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    Uint128 whole = 0;
    for (char c : number.whole) {
        whole = whole * 10 + static_cast<unsigned>(c - '0');
        if (whole > kMax) return std::nullopt;
    }
    // Beyond 19 fractional digits nothing changes a whole byte count of a 2^60 multiplier.
    const std::string_view fraction = number.fraction.substr(0, 19);
    Uint128 numerator = 0;
    Uint128 denominator = 1;
    for (char c : fraction) {
        numerator = numerator * 10 + static_cast<unsigned>(c - '0');
        denominator *= 10;
    }
    const Uint128 total = whole * multiplier + numerator * multiplier / denominator;
    if (total > kMax) return std::nullopt;
    return static_cast<std::uint64_t>(total);
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
    const std::string_view trimmed = trim(text);
    if (trimmed.empty()) throw_bad_size(text, "empty");
    const auto number = split_number(trimmed);
    if (!number) throw_bad_size(text, "not a non-negative number");
    const auto multiplier = unit_multiplier(number->rest);
    if (!multiplier)
        throw_bad_size(text, "unknown unit \"" + std::string(trim(number->rest)) + "\"");
    const auto bytes = scale(*number, *multiplier);
    if (!bytes) throw_bad_size(text, "too large");
    return *bytes;
}

std::string format_size(std::uint64_t bytes) {
    std::size_t unit = 0;
    while (unit + 1 < kUnitNames.size() && bytes >= (std::uint64_t{1} << (10 * (unit + 1)))) {
        ++unit;
    }
    const std::uint64_t unit_bytes = std::uint64_t{1} << (10 * unit);
    char buffer[64];
    if (bytes % unit_bytes == 0) {
        std::snprintf(buffer, sizeof buffer, "%llu %s",
                      static_cast<unsigned long long>(bytes / unit_bytes), kUnitNames[unit]);
        return buffer;
    }
    double value = static_cast<double>(bytes) / static_cast<double>(unit_bytes);
    // 1023.999 MiB would print as "1024.00 MiB"; say "1.00 GiB" instead.
    if (std::round(value * 100.0) >= 1024.0 * 100.0 && unit + 1 < kUnitNames.size()) {
        value /= 1024.0;
        ++unit;
    }
    std::snprintf(buffer, sizeof buffer, "%.2f %s", value, kUnitNames[unit]);
    return buffer;
}

}  // namespace lidarmill::util
