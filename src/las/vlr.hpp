#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lidarmill::las {

// A variable length record (or extended VLR), kept byte for byte.
struct Vlr {
    std::uint16_t reserved = 0;
    std::string user_id;  // <= 16 bytes on disk
    std::uint16_t record_id = 0;
    std::string description;  // <= 32 bytes on disk
    std::vector<std::uint8_t> data;
    // Raw 16 + 32 byte text fields as found on disk, so that bytes after the first NUL
    // survive a rewrite; empty for VLRs we create.
    std::vector<std::uint8_t> raw_user_id;
    std::vector<std::uint8_t> raw_description;

    bool is(std::string_view uid, std::uint16_t rid) const {
        return user_id == uid && record_id == rid;
    }
};

inline constexpr std::size_t kVlrHeaderSize = 54;
inline constexpr std::size_t kEvlrHeaderSize = 60;

}  // namespace lidarmill::las
