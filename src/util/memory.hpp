#pragma once
// How much memory this process may use: RAM from /proc/meminfo, capped by the cgroup
// (container) limit, which /proc/meminfo does not reflect.
#include <cstdint>
#include <filesystem>
#include <optional>

namespace lidarmill::util {

struct MemoryInfo {
    std::uint64_t mem_total = 0;      // MemTotal, bytes; 0 when /proc/meminfo is unreadable
    std::uint64_t mem_available = 0;  // MemAvailable, bytes
    // The cgroup level with the least headroom (limit - usage) among this process's cgroup and
    // its ancestors, v1 and v2 alike; nullopt when every level is unlimited or absent.
    std::optional<std::uint64_t> cgroup_limit;
    std::optional<std::uint64_t> cgroup_usage;  // usage at that same level, when readable

    // min(MemAvailable, cgroup_limit - cgroup_usage), never negative. When /proc/meminfo was
    // unreadable, the cgroup headroom alone (or 0 when that is unknown too).
    std::uint64_t effective_available() const;
};

// Reads <root>/proc/meminfo, <root>/proc/self/cgroup and the cgroup files under
// <root>/sys/fs/cgroup. cgroup v2 ("0::/path"): memory.max ("max" = unlimited) and
// memory.current in <mount>/<path> and each parent up to the mount, where the mount is
// sys/fs/cgroup or, on hybrid hosts, sys/fs/cgroup/unified. cgroup v1 (the line naming the
// "memory" controller): memory.limit_in_bytes and memory.usage_in_bytes under
// sys/fs/cgroup/memory/<path> and its parents; values of 2^60 and above mean unlimited.
// `root` exists so tests can point at a fake tree. Never throws: missing files are skipped.
MemoryInfo probe_memory(const std::filesystem::path& root = "/");

// Peak resident set size of this process (VmHWM in /proc/self/status), bytes; 0 if unknown.
std::uint64_t peak_rss_bytes();

// Current resident set size of this process (VmRSS in /proc/self/status), bytes; 0 if unknown.
std::uint64_t current_rss_bytes();

// A memory budget that leaves room for the OS, page cache and allocator overhead:
// 80% of probe_memory().effective_available(), at least 64 MiB. When nothing could be
// probed it returns 1 GiB so the tool still runs.
std::uint64_t auto_memory_budget();

// The policy behind auto_memory_budget(), separated so it can be tested on fake data.
std::uint64_t memory_budget_for(const MemoryInfo& info);

}  // namespace lidarmill::util
