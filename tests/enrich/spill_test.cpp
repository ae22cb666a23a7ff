// Scratch readers of the out-of-core enrich: records come back whole across buffer
// refills while the bytes already read are given back to the file system.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "enrich/spill.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::enrich {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> random_bytes() {
    std::mt19937 engine(3);
    std::vector<std::uint8_t> bytes(300007);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(engine());
    return bytes;
}

TEST(SequentialReader, ReadsRecordsAcrossBufferRefillsWhileDiscarding) {
    const fs::path folder =
        fs::temp_directory_path() / ("lidarmill-spill-test-" + std::to_string(getpid()));
    fs::create_directories(folder);
    const auto bytes = random_bytes();
    {
        util::File file(folder / "records.bin", util::File::Mode::write);
        file.write(bytes);
        file.close();
    }
    // A buffer that is not a multiple of the record size nor of the page size.
    SequentialReader reader(folder / "records.bin", 10000);
    std::vector<std::uint8_t> got;
    for (std::size_t at = 0; at + 13 <= bytes.size(); at += 13) {
        const std::uint8_t* record = reader.next(13);
        got.insert(got.end(), record, record + 13);
    }
    EXPECT_TRUE(std::equal(got.begin(), got.end(), bytes.begin()));
    EXPECT_THROW(reader.next(4096), util::InputError);
    fs::remove_all(folder);
}

}  // namespace
}  // namespace lidarmill::enrich
