// FileByteSource: reads at any offset from several threads, and errors that name the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>
#include <vector>

#include "util/byte_source.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::util {
namespace {

namespace fs = std::filesystem;

class ByteSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = fs::temp_directory_path() /
                ("lidarmill_byte_source_" + std::to_string(::getpid()) + ".bin");
        std::vector<std::uint8_t> bytes(1000);
        std::iota(bytes.begin(), bytes.end(), 0);
        std::ofstream(path_, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    void TearDown() override { fs::remove(path_); }
    fs::path path_;
};

TEST_F(ByteSourceTest, ReadsAtOffsetsFromSeveralThreads) {
    const FileByteSource source(path_);
    EXPECT_EQ(source.size(), 1000u);
    EXPECT_EQ(source.name(), path_.string());
    std::vector<std::thread> threads;
    std::vector<int> wrong(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint64_t offset = t; offset + 10 <= 1000; offset += 37) {
                std::uint8_t out[10];
                source.read_at(offset, out);
                for (int i = 0; i < 10; ++i)
                    wrong[t] += out[i] != static_cast<std::uint8_t>(offset + i);
            }
        });
    }
    for (auto& t : threads) t.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0);
}

TEST_F(ByteSourceTest, ShortReadNamesTheFileAsUtilFileDoes) {
    const FileByteSource source(path_);
    const File file(path_, File::Mode::read);
    std::vector<std::uint8_t> out(20);
    std::string from_source, from_file;
    try {
        source.read_at(990, out, "node data");
    } catch (const InputError& e) {
        from_source = e.what();
    }
    try {
        file.pread_exact(990, out, "node data");
    } catch (const InputError& e) {
        from_file = e.what();
    }
    EXPECT_EQ(from_source, from_file);
    EXPECT_NE(from_source.find(path_.string()), std::string::npos);
    EXPECT_EQ(FileViewSource(file).size(), 1000u);
}

TEST(ByteSource, MissingFileNamesIt) {
    try {
        FileByteSource source("/nonexistent/lidarmill.copc.laz");
        FAIL() << "opened a missing file";
    } catch (const InputError& e) {
        EXPECT_EQ(e.file(), "/nonexistent/lidarmill.copc.laz");
        EXPECT_NE(e.problem().find("cannot open"), std::string::npos);
    }
}

}  // namespace
}  // namespace lidarmill::util
