#include "util/memory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lidarmill::util {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t MiB = 1024 * 1024;
constexpr std::uint64_t GiB = 1024 * MiB;

// A throw-away directory laid out like "/" with only the files a test writes.
class FakeRoot {
  public:
    FakeRoot() {
        path_ = fs::temp_directory_path() / ("lidarmill-memory-test-" + std::to_string(getpid()) +
                                             "-" + std::to_string(counter_++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~FakeRoot() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    FakeRoot(const FakeRoot&) = delete;
    FakeRoot& operator=(const FakeRoot&) = delete;

    const fs::path& path() const { return path_; }

    void write(const std::string& relative, const std::string& content) const {
        const fs::path file = path_ / relative;
        fs::create_directories(file.parent_path());
        std::ofstream(file) << content;
    }

    void write_meminfo(std::uint64_t total_kib, std::uint64_t available_kib) const {
        write("proc/meminfo", "MemTotal:       " + std::to_string(total_kib) +
                                  " kB\nMemFree:         1000 kB\nMemAvailable:   " +
                                  std::to_string(available_kib) + " kB\nBuffers:  10 kB\n");
    }

  private:
    static inline int counter_ = 0;
    fs::path path_;
};

TEST(ProbeMemory, ReadsMeminfoWithoutCgroups) {
    FakeRoot root;
    root.write_meminfo(16 * 1024 * 1024, 12 * 1024 * 1024);
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_EQ(info.mem_total, 16 * GiB);
    EXPECT_EQ(info.mem_available, 12 * GiB);
    EXPECT_FALSE(info.cgroup_limit);
    EXPECT_FALSE(info.cgroup_usage);
    EXPECT_EQ(info.effective_available(), 12 * GiB);
}

TEST(ProbeMemory, FallsBackToFreePlusCacheWithoutMemAvailable) {
    FakeRoot root;
    root.write("proc/meminfo",
               "MemTotal: 4096 kB\nMemFree: 1000 kB\nBuffers: 24 kB\nCached: 1000 kB\n");
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_EQ(info.mem_total, 4096u * 1024);
    EXPECT_EQ(info.mem_available, 2024u * 1024);
}

TEST(ProbeMemory, CgroupV2LimitCapsAvailableMemory) {
    FakeRoot root;
    root.write_meminfo(16 * 1024 * 1024, 12 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/user.slice/job.scope\n");
    root.write("sys/fs/cgroup/user.slice/job.scope/memory.max", std::to_string(2 * GiB) + "\n");
    root.write("sys/fs/cgroup/user.slice/job.scope/memory.current",
               std::to_string(512 * MiB) + "\n");
    const MemoryInfo info = probe_memory(root.path());
    ASSERT_TRUE(info.cgroup_limit);
    EXPECT_EQ(*info.cgroup_limit, 2 * GiB);
    ASSERT_TRUE(info.cgroup_usage);
    EXPECT_EQ(*info.cgroup_usage, 512 * MiB);
    EXPECT_EQ(info.effective_available(), 2 * GiB - 512 * MiB);
}

TEST(ProbeMemory, CgroupV2MaxMeansUnlimited) {
    FakeRoot root;
    root.write_meminfo(8 * 1024 * 1024, 6 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/a\n");
    root.write("sys/fs/cgroup/a/memory.max", "max\n");
    root.write("sys/fs/cgroup/a/memory.current", "1000\n");
    root.write("sys/fs/cgroup/memory.max", "max\n");
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_FALSE(info.cgroup_limit);
    EXPECT_EQ(info.effective_available(), 6 * GiB);
}

TEST(ProbeMemory, CgroupV2NestedLevelWithLeastHeadroomWins) {
    FakeRoot root;
    root.write_meminfo(64 * 1024 * 1024, 60 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/outer/middle/inner\n");
    root.write("sys/fs/cgroup/outer/memory.max", std::to_string(4 * GiB));
    root.write("sys/fs/cgroup/outer/memory.current", std::to_string(3 * GiB));
    root.write("sys/fs/cgroup/outer/middle/memory.max", "max");
    root.write("sys/fs/cgroup/outer/middle/inner/memory.max", std::to_string(8 * GiB));
    root.write("sys/fs/cgroup/outer/middle/inner/memory.current", std::to_string(1 * GiB));
    const MemoryInfo info = probe_memory(root.path());
    ASSERT_TRUE(info.cgroup_limit);
    EXPECT_EQ(*info.cgroup_limit, 4 * GiB);  // the parent, not the child's looser limit
    EXPECT_EQ(*info.cgroup_usage, 3 * GiB);
    EXPECT_EQ(info.effective_available(), 1 * GiB);
}

TEST(ProbeMemory, CgroupV2UnderHybridUnifiedMount) {
    FakeRoot root;
    root.write_meminfo(8 * 1024 * 1024, 6 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/svc\n");
    root.write("sys/fs/cgroup/unified/svc/memory.max", std::to_string(1 * GiB));
    const MemoryInfo info = probe_memory(root.path());
    ASSERT_TRUE(info.cgroup_limit);
    EXPECT_EQ(*info.cgroup_limit, 1 * GiB);
    EXPECT_FALSE(info.cgroup_usage);  // unreadable usage counts as zero headroom loss
    EXPECT_EQ(info.effective_available(), 1 * GiB);
}

TEST(ProbeMemory, CgroupV2PathOutsideTheMountUsesTheMountItself) {
    // Without a cgroup namespace a container sees its host path, which is not under its mount.
    FakeRoot root;
    root.write_meminfo(8 * 1024 * 1024, 6 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/../../system.slice/docker-1.scope\n");
    root.write("sys/fs/cgroup/memory.max", std::to_string(3 * GiB));
    root.write("sys/fs/cgroup/memory.current", std::to_string(1 * GiB));
    const MemoryInfo info = probe_memory(root.path());
    ASSERT_TRUE(info.cgroup_limit);
    EXPECT_EQ(*info.cgroup_limit, 3 * GiB);
    EXPECT_EQ(info.effective_available(), 2 * GiB);
}

TEST(ProbeMemory, CgroupV1MemoryController) {
    FakeRoot root;
    root.write_meminfo(32 * 1024 * 1024, 30 * 1024 * 1024);
    root.write("proc/self/cgroup",
               "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n"
               "0::/\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
               std::to_string(3 * GiB) + "\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes",
               std::to_string(1 * GiB) + "\n");
    root.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    const MemoryInfo info = probe_memory(root.path());
    ASSERT_TRUE(info.cgroup_limit);
    EXPECT_EQ(*info.cgroup_limit, 3 * GiB);
    EXPECT_EQ(*info.cgroup_usage, 1 * GiB);
    EXPECT_EQ(info.effective_available(), 2 * GiB);
}

TEST(ProbeMemory, CgroupV1ControllerListedWithOthers) {
    FakeRoot root;
    root.write_meminfo(32 * 1024 * 1024, 30 * 1024 * 1024);
    root.write("proc/self/cgroup", "3:cpu,memory:/job\n");
    root.write("sys/fs/cgroup/memory/job/memory.limit_in_bytes", std::to_string(5 * GiB));
    EXPECT_EQ(probe_memory(root.path()).cgroup_limit, 5 * GiB);
}

TEST(ProbeMemory, CgroupV1HugeLimitMeansUnlimited) {
    FakeRoot root;
    root.write_meminfo(32 * 1024 * 1024, 30 * 1024 * 1024);
    root.write("proc/self/cgroup", "4:memory:/docker/abc\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "4096\n");
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_FALSE(info.cgroup_limit);
    EXPECT_EQ(info.effective_available(), 30 * GiB);
}

TEST(ProbeMemory, CgroupV1NestedParentLimitApplies) {
    FakeRoot root;
    root.write_meminfo(32 * 1024 * 1024, 30 * 1024 * 1024);
    root.write("proc/self/cgroup", "4:memory:/batch/worker\n");
    root.write("sys/fs/cgroup/memory/batch/memory.limit_in_bytes", std::to_string(2 * GiB));
    root.write("sys/fs/cgroup/memory/batch/memory.usage_in_bytes", std::to_string(GiB / 2));
    root.write("sys/fs/cgroup/memory/batch/worker/memory.limit_in_bytes", "9223372036854771712");
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_EQ(info.cgroup_limit, 2 * GiB);
    EXPECT_EQ(info.effective_available(), 2 * GiB - GiB / 2);
}

TEST(ProbeMemory, UsageAboveLimitLeavesNothingAvailable) {
    FakeRoot root;
    root.write_meminfo(32 * 1024 * 1024, 30 * 1024 * 1024);
    root.write("proc/self/cgroup", "0::/full\n");
    root.write("sys/fs/cgroup/full/memory.max", std::to_string(GiB));
    root.write("sys/fs/cgroup/full/memory.current", std::to_string(GiB + 4096));
    EXPECT_EQ(probe_memory(root.path()).effective_available(), 0u);
}

TEST(ProbeMemory, EmptyTreeYieldsZerosWithoutThrowing) {
    FakeRoot root;
    const MemoryInfo info = probe_memory(root.path());
    EXPECT_EQ(info.mem_total, 0u);
    EXPECT_EQ(info.mem_available, 0u);
    EXPECT_FALSE(info.cgroup_limit);
}

TEST(MemoryBudget, IsEightyPercentOfEffectiveAvailableWithAFloor) {
    MemoryInfo info;
    info.mem_total = 16 * GiB;
    info.mem_available = 10 * GiB;
    EXPECT_EQ(memory_budget_for(info), 8 * GiB);
    info.cgroup_limit = 2 * GiB;
    info.cgroup_usage = GiB;
    EXPECT_EQ(memory_budget_for(info), GiB / 5 * 4);
    info.cgroup_usage = 2 * GiB;
    EXPECT_EQ(memory_budget_for(info), 64 * MiB);
    EXPECT_EQ(memory_budget_for(MemoryInfo{}), GiB);  // nothing probed
}

TEST(ProbeMemory, RealSystemIsConsistent) {
    const MemoryInfo info = probe_memory();
    ASSERT_GT(info.mem_total, 0u) << "/proc/meminfo unreadable";
    EXPECT_LE(info.mem_available, info.mem_total);
    EXPECT_LE(info.effective_available(), info.mem_available);
    EXPECT_GE(auto_memory_budget(), 64 * MiB);
    EXPECT_LE(auto_memory_budget(), std::max(info.mem_total, 64 * MiB));
}

TEST(ResidentSetSize, GrowsWhenMemoryIsTouchedAndPeakIsNotBelowCurrent) {
    const std::uint64_t before = current_rss_bytes();
    ASSERT_GT(before, 0u) << "/proc/self/status unreadable";
    std::vector<std::uint8_t> block(64 * MiB);
    for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<std::uint8_t>(i);
    const std::uint64_t during = current_rss_bytes();
    EXPECT_GE(during, before + 48 * MiB);
    EXPECT_GE(peak_rss_bytes(), during);
    EXPECT_NE(block[4096], 1);  // keep the writes observable
}

}  // namespace
}  // namespace lidarmill::util
