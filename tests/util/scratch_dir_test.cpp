// Scratch folders: named after their process, removed with their contents, and told apart
// from the leftovers of killed runs by that process's liveness.
#include "util/scratch_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lidarmill::util {
namespace {

namespace fs = std::filesystem;

fs::path test_parent(const std::string& name) {
    const fs::path parent =
        fs::temp_directory_path() / ("lidarmill-scratch-test-" + std::to_string(::getpid()) + name);
    fs::remove_all(parent);
    return parent;
}

TEST(ScratchDir, IsNamedAfterItsProcessAndRemovedWithItsContents) {
    const fs::path parent = test_parent("-purpose");
    fs::path made;
    {
        const ScratchDir dir(parent, "enrich");
        made = dir.path();
        const std::string name = made.filename().string();
        EXPECT_TRUE(
            name.starts_with(std::string(kScratchPrefix) + std::to_string(::getpid()) + "-"));
        EXPECT_TRUE(name.ends_with("-enrich"));
        EXPECT_FALSE(is_stale_scratch_name(name));
        std::ofstream(made / "bucket-0.bin") << "bytes";
    }
    EXPECT_FALSE(fs::exists(made));
    fs::remove_all(parent);
}

TEST(ScratchDir, NumberedFoldersTakeTheFirstFreeNumberAndStaleOnesGo) {
    const fs::path parent = test_parent("-numbered");
    fs::create_directories(parent / "run-999999999-0");
    const std::string mine = "run-" + std::to_string(::getpid()) + "-77";
    fs::create_directories(parent / mine);
    EXPECT_EQ(remove_stale_scratch_dirs(parent, "run-"), 1);
    EXPECT_FALSE(fs::exists(parent / "run-999999999-0"));
    EXPECT_TRUE(fs::exists(parent / mine));
    {
        const ScratchDir dir = ScratchDir::numbered(parent, "run-");
        EXPECT_TRUE(
            dir.path().filename().string().starts_with("run-" + std::to_string(::getpid()) + "-"));
        EXPECT_TRUE(fs::is_directory(dir.path()));
    }
    fs::remove_all(parent);
}

TEST(ScratchDir, OwnerIsTheNumberAfterThePrefix) {
    EXPECT_EQ(owner_pid("run-123-4", "run-"), 123);
    EXPECT_EQ(owner_pid(".x.tmp-55-0", ".tmp-"), 55);
    EXPECT_FALSE(owner_pid("run-abc-4", "run-"));
    EXPECT_FALSE(owner_pid("other-123-4", "run-"));
    EXPECT_TRUE(process_alive(::getpid()));
    EXPECT_FALSE(process_alive(999999999));
    EXPECT_FALSE(process_alive(0));
}

}  // namespace
}  // namespace lidarmill::util
