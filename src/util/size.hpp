#pragma once
// Human-readable byte sizes for command-line options (--memory 4G) and messages.
#include <cstdint>
#include <string>
#include <string_view>

namespace lidarmill::util {

// Parses a byte count: a non-negative decimal number ("1024", "1.5") followed by an optional
// unit K, M, G, T, P or E, optionally suffixed with "B" or "iB" ("64k", "512M", "256MB",
// "2GiB"), case-insensitive, surrounding blanks allowed. Every unit is a binary multiple
// (K = 1024): memory budgets are compared with RAM, which is counted in binary units.
// Fractions are truncated to whole bytes ("1.5K" = 1536). A plain "B" suffix means bytes.
// Throws UsageError with a one-line message on malformed text or a value above 2^64 - 1.
std::uint64_t parse_size(std::string_view text);

// Formats a byte count with the largest binary unit not above it: "900 B", "512 MiB",
// "1.50 GiB". Exact multiples print without decimals; other values with two decimals.
std::string format_size(std::uint64_t bytes);

}  // namespace lidarmill::util
