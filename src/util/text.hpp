#pragma once
// Small text helpers shared by the modules that match file names.
#include <algorithm>
#include <cctype>
#include <string>

namespace lidarmill::util {

// ASCII lower case: file extensions are compared without regard to case (".LAZ").
inline std::string ascii_lower(std::string text) {
    std::ranges::transform(text, text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

}  // namespace lidarmill::util
