#pragma once
// Private scratch folders and the leftovers of killed runs. Every folder lidarmill makes for
// scratch files carries the id of the process that made it, so that a later run can tell
// the leftovers of a killed run (their process is gone) from the folders of a run still
// going, and remove only the former. One liveness check and one name parser serve every
// module that makes such folders (enrich, copc, batch).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lidarmill::util {

// True while a process with this id runs (or exists under another user).
bool process_alive(long pid);

// The process id in `name` right after `prefix` (digits followed by '-'), if any.
std::optional<long> owner_pid(std::string_view name, std::string_view prefix);

// A folder under `parent`, removed with its contents on destruction.
class ScratchDir {
  public:
    // ".lidarmill-scratch-<pid>-<n>-<random>-<purpose>"; `parent` is made if missing.
    ScratchDir(const std::filesystem::path& parent, std::string_view purpose);
    // "<prefix><pid>-<n>" with the first n not taken; throws util::UsageError when `parent`
    // cannot be made or no name is free.
    static ScratchDir numbered(const std::filesystem::path& parent, std::string_view prefix);

    ~ScratchDir();
    ScratchDir(ScratchDir&& other) noexcept;
    ScratchDir& operator=(ScratchDir&&) = delete;
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    explicit ScratchDir(std::filesystem::path made) : path_(std::move(made)) {}
    std::filesystem::path path_;
};

// Prefix of every named-for-purpose scratch folder: ".lidarmill-scratch-<pid>-...".
inline constexpr std::string_view kScratchPrefix = ".lidarmill-scratch-";

// True when `name` is a scratch folder (or AtomicOutputFile temporary) whose owning
// process no longer runs.
bool is_stale_scratch_name(std::string_view name);

// Removes the folders "<parent>/<prefix><pid>-*" whose process no longer runs, logging each;
// returns how many it removed.
int remove_stale_scratch_dirs(const std::filesystem::path& parent, std::string_view prefix);

}  // namespace lidarmill::util
