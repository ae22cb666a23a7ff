#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace lidarmill::util {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex(bytes_of("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAsInUnevenChunks) {
    const std::string million(1000000, 'a');
    Sha256 hash;
    std::size_t offset = 0;
    for (std::size_t chunk = 1; offset < million.size(); chunk = chunk * 3 + 1) {
        const std::size_t n = std::min(chunk, million.size() - offset);
        hash.update(bytes_of(std::string_view(million).substr(offset, n)));
        offset += n;
    }
    EXPECT_EQ(hash.hex_digest(),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, DigestDoesNotEndTheHash) {
    Sha256 hash;
    hash.update(bytes_of("ab"));
    EXPECT_EQ(hash.hex_digest(), sha256_hex(bytes_of("ab")));
    EXPECT_EQ(hash.hex_digest(), sha256_hex(bytes_of("ab")));  // repeatable
    hash.update(bytes_of("c"));
    EXPECT_EQ(hash.hex_digest(),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const auto raw = hash.digest();
    EXPECT_EQ(raw[0], 0xba);
    EXPECT_EQ(raw[31], 0xad);
}

TEST(Sha256, ToHexIsLowercaseTwoDigitsPerByte) {
    const std::vector<std::uint8_t> bytes = {0x00, 0x0f, 0xa0, 0xff};
    EXPECT_EQ(to_hex(bytes), "000fa0ff");
}

}  // namespace
}  // namespace lidarmill::util
