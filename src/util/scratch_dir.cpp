#include "util/scratch_dir.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <random>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/error.hpp"

namespace lidarmill::util {
namespace fs = std::filesystem;

bool process_alive(long pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::optional<long> owner_pid(std::string_view name, std::string_view prefix) {
    const auto at = name.find(prefix);
    if (at == std::string_view::npos) return std::nullopt;
    const char* begin = name.data() + at + prefix.size();
    const char* end = name.data() + name.size();
    long pid = 0;
    const auto [stop, error] = std::from_chars(begin, end, pid);
    if (error != std::errc() || stop == begin || stop == end || *stop != '-') return std::nullopt;
    return pid;
}

ScratchDir::ScratchDir(const fs::path& parent, std::string_view purpose) {
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    const std::string name = std::string(kScratchPrefix) + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++) + "-" + std::to_string(entropy() % 1000000) +
                             "-" + std::string(purpose);
    path_ = parent / name;
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) throw InputError(path_.string(), "cannot create scratch folder: " + ec.message());
}

ScratchDir ScratchDir::numbered(const fs::path& parent, std::string_view prefix) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (!fs::is_directory(parent)) {
        throw UsageError(fmt::format("temporary folder {} does not exist and cannot be created",
                                     parent.string()));
    }
    static std::atomic<int> counter{0};
    for (int attempt = 0; attempt < 1000; ++attempt) {
        fs::path candidate = parent / fmt::format("{}{}-{}", prefix, ::getpid(), counter++);
        if (fs::create_directory(candidate, ec)) return ScratchDir(std::move(candidate));
    }
    throw UsageError(fmt::format("cannot create a temporary folder in {}", parent.string()));
}

ScratchDir::ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

ScratchDir::~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

bool is_stale_scratch_name(std::string_view name) {
    if (name.starts_with(kScratchPrefix)) {
        const auto pid = owner_pid(name, kScratchPrefix);
        return pid && !process_alive(*pid);
    }
    // util::AtomicOutputFile temporaries: ".<name>.tmp-<pid>-<n>".
    if (name.starts_with(".") && name.find(".tmp-") != std::string_view::npos) {
        const auto pid = owner_pid(name.substr(name.rfind(".tmp-")), ".tmp-");
        return pid && !process_alive(*pid);
    }
    return false;
}

int remove_stale_scratch_dirs(const fs::path& parent, std::string_view prefix) {
    int removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        const auto pid = owner_pid(name, prefix);
        if (!pid || !entry.is_directory(ec) || process_alive(*pid)) continue;
        if (fs::remove_all(entry.path(), ec) > 0 && !ec) {
            spdlog::info("removed the temporary folder of an interrupted run: {}",
                         entry.path().string());
            ++removed;
        }
    }
    return removed;
}

}  // namespace lidarmill::util
