#include "util/memory.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace lidarmill::util {

namespace {

namespace fs = std::filesystem;

// cgroup v1 reports "no limit" as a page-rounded 2^63 - 1; anything this large is no limit.
constexpr std::uint64_t kUnlimitedThreshold = std::uint64_t{1} << 60;
constexpr std::uint64_t kMinimumBudget = std::uint64_t{64} << 20;
constexpr std::uint64_t kFallbackBudget = std::uint64_t{1} << 30;

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<std::string> read_text(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// Finds "<key>: <n> kB" in a /proc key-value file and returns n * 1024.
std::optional<std::uint64_t> read_kib_field(const fs::path& path, std::string_view key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 ||
            line[key.size()] != ':') {
            continue;
        }
        std::istringstream fields(line.substr(key.size() + 1));
        std::uint64_t kib = 0;
        if (fields >> kib) return kib * 1024;
    }
    return std::nullopt;
}

void read_meminfo(const fs::path& root, MemoryInfo& info) {
    const fs::path meminfo = root / "proc/meminfo";
    info.mem_total = read_kib_field(meminfo, "MemTotal").value_or(0);
    if (auto available = read_kib_field(meminfo, "MemAvailable")) {
        info.mem_available = *available;
        return;
    }
    // Kernels before 3.14 lack MemAvailable; free + reclaimable cache approximates it.
    info.mem_available = read_kib_field(meminfo, "MemFree").value_or(0) +
                         read_kib_field(meminfo, "Buffers").value_or(0) +
                         read_kib_field(meminfo, "Cached").value_or(0);
}

struct CgroupPaths {
    std::optional<std::string> v2;  // path from the "0::" line
    std::optional<std::string> v1;  // path from the line whose controllers include "memory"
};

bool names_memory_controller(std::string_view controllers) {
    while (!controllers.empty()) {
        const auto comma = controllers.find(',');
        if (controllers.substr(0, comma) == "memory") return true;
        if (comma == std::string_view::npos) break;
        controllers.remove_prefix(comma + 1);
    }
    return false;
}

CgroupPaths read_cgroup_paths(const fs::path& root) {
    CgroupPaths paths;
    std::ifstream in(root / "proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find(':');
        const auto second = line.find(':', first == std::string::npos ? first : first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string_view hierarchy = std::string_view(line).substr(0, first);
        const std::string_view controllers =
            std::string_view(line).substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (hierarchy == "0" && controllers.empty()) paths.v2 = path;
        if (names_memory_controller(controllers)) paths.v1 = path;
    }
    return paths;
}

struct CgroupLevel {
    std::uint64_t limit = 0;
    std::optional<std::uint64_t> usage;
    std::uint64_t headroom() const { return limit - std::min(limit, usage.value_or(0)); }
};

// A limit file holding "max" (v2) or a huge number (v1) means no limit at that level.
std::optional<CgroupLevel> read_level(const fs::path& dir, const char* limit_file,
                                      const char* usage_file) {
    const auto limit_text = read_text(dir / limit_file);
    if (!limit_text) return std::nullopt;
    const auto limit = parse_u64(*limit_text);
    if (!limit || *limit >= kUnlimitedThreshold) return std::nullopt;
    CgroupLevel level{*limit, std::nullopt};
    if (const auto usage_text = read_text(dir / usage_file)) level.usage = parse_u64(*usage_text);
    return level;
}

// Collects the limited levels from mount/<path> up to the mount itself. Containers without
// a cgroup namespace show a path that is not under their mount; the walk then still finds
// the mount's own files.
void collect_levels(const fs::path& mount, std::string_view cgroup_path, const char* limit_file,
                    const char* usage_file, std::vector<CgroupLevel>& levels) {
    if (!fs::is_directory(mount)) return;
    fs::path relative = fs::path(cgroup_path).relative_path().lexically_normal();
    // A path outside our cgroup namespace ("/../x") cannot be followed; use the mount.
    if (!relative.empty() && *relative.begin() == "..") relative.clear();
    while (true) {
        if (auto level = read_level(mount / relative, limit_file, usage_file)) {
            levels.push_back(*level);
        }
        if (relative.empty() || relative == ".") break;
        const fs::path parent = relative.parent_path();
        relative = parent == relative ? fs::path() : parent;
    }
}

void read_cgroups(const fs::path& root, MemoryInfo& info) {
    const CgroupPaths paths = read_cgroup_paths(root);
    const fs::path cgroup_root = root / "sys/fs/cgroup";
    std::vector<CgroupLevel> levels;
    if (paths.v2) {
        collect_levels(cgroup_root, *paths.v2, "memory.max", "memory.current", levels);
        collect_levels(cgroup_root / "unified", *paths.v2, "memory.max", "memory.current", levels);
    }
    if (paths.v1) {
        collect_levels(cgroup_root / "memory", *paths.v1, "memory.limit_in_bytes",
                       "memory.usage_in_bytes", levels);
    }
    if (levels.empty()) return;
    const auto tightest = std::min_element(
        levels.begin(), levels.end(),
        [](const CgroupLevel& a, const CgroupLevel& b) { return a.headroom() < b.headroom(); });
    info.cgroup_limit = tightest->limit;
    info.cgroup_usage = tightest->usage;
}

}  // namespace

std::uint64_t MemoryInfo::effective_available() const {
    if (!cgroup_limit) return mem_available;
    const std::uint64_t used = std::min(*cgroup_limit, cgroup_usage.value_or(0));
    const std::uint64_t headroom = *cgroup_limit - used;
    if (mem_total == 0) return headroom;
    return std::min(mem_available, headroom);
}

MemoryInfo probe_memory(const std::filesystem::path& root) {
    MemoryInfo info;
    try {
        read_meminfo(root, info);
        read_cgroups(root, info);
    } catch (const std::exception&) {
        // A filesystem error (permissions, races with cgroup removal) leaves what was read.
    }
    return info;
}

std::uint64_t peak_rss_bytes() {
    return read_kib_field("/proc/self/status", "VmHWM").value_or(0);
}

std::uint64_t current_rss_bytes() {
    return read_kib_field("/proc/self/status", "VmRSS").value_or(0);
}

std::uint64_t memory_budget_for(const MemoryInfo& info) {
    const std::uint64_t available = info.effective_available();
    if (available == 0 && info.mem_total == 0 && !info.cgroup_limit) return kFallbackBudget;
    return std::max(available / 5 * 4, kMinimumBudget);
}

std::uint64_t auto_memory_budget() {
    return memory_budget_for(probe_memory());
}

}  // namespace lidarmill::util
