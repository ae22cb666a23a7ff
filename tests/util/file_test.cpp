// util::File: writes split into pieces arrive whole, and discard() frees whole pages of
// a scratch file without touching the rest.
#include "util/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace lidarmill::util {
namespace {

namespace fs = std::filesystem;

class TempFolder {
  public:
    TempFolder()
        : path_(fs::temp_directory_path() / ("lidarmill-file-test-" + std::to_string(getpid()))) {
        fs::create_directories(path_);
    }
    ~TempFolder() { fs::remove_all(path_); }
    fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::vector<std::uint8_t> bytes(n);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(engine());
    return bytes;
}

std::vector<std::uint8_t> read_all(const fs::path& path) {
    File file(path, File::Mode::read);
    std::vector<std::uint8_t> bytes(file.size());
    file.read_exact(bytes);
    return bytes;
}

TEST(File, LargeWritesArriveWhole) {
    const TempFolder folder;
    const auto bytes = random_bytes(3 * (1 << 20) + 12345, 1);  // several 1 MiB pieces
    {
        File file(folder / "big.bin", File::Mode::write);
        file.write(bytes);
        file.write(std::span(bytes).first(7));
        file.close();
    }
    auto expected = bytes;
    expected.insert(expected.end(), bytes.begin(), bytes.begin() + 7);
    EXPECT_EQ(read_all(folder / "big.bin"), expected);
}

TEST(File, DiscardFreesWholePagesOnlyAndKeepsTheSize) {
    const TempFolder folder;
    const auto bytes = random_bytes(64 * 4096, 2);
    {
        File file(folder / "scratch.bin", File::Mode::write);
        file.write(bytes);
        file.close();
    }
    File file(folder / "scratch.bin", File::Mode::consume);
    file.discard(100, 40 * 4096);  // pages 1..39 whole; pages 0 and 40 only in part
    file.flush();
    EXPECT_EQ(file.size(), bytes.size());
    const auto after = read_all(folder / "scratch.bin");
    ASSERT_EQ(after.size(), bytes.size());
    // Partly covered pages and everything past the range are untouched.
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.begin() + 4096, after.begin()));
    EXPECT_TRUE(std::equal(bytes.begin() + 40 * 4096, bytes.end(), after.begin() + 40 * 4096));
    // Where holes are supported (the usual case), the freed pages read as zeros.
    struct stat st {};
    ASSERT_EQ(::stat((folder / "scratch.bin").c_str(), &st), 0);
    if (static_cast<std::uint64_t>(st.st_blocks) * 512 < bytes.size()) {
        for (std::size_t i = 4096; i < 40 * 4096; ++i) ASSERT_EQ(after[i], 0) << i;
    }
}

}  // namespace
}  // namespace lidarmill::util
