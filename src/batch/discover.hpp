#pragma once
// Which files a batch processes and where their outputs go: the input trees are mirrored
// under the output folder, with each tile's `<name>.json` sidecar and the `.json`/`.txt`
// files at each input root copied alongside.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace lidarmill::batch {

enum class OutputFormat { laz, las };

// "laz" | "las"; throws util::UsageError otherwise.
OutputFormat parse_output_format(std::string_view text);

struct CopyItem {
    std::filesystem::path from, to;
};

struct Job {
    std::filesystem::path input;
    std::filesystem::path relative;  // under its input root (the file name for a FILE input)
    std::filesystem::path output;
    std::uint64_t file_size = 0;
    std::vector<CopyItem> sidecars;
};

// The output name of a tile: same folders and stem, the format's extension; a ".copc"
// before the extension is dropped (the output is not a COPC file).
std::filesystem::path output_relative_path(const std::filesystem::path& relative,
                                           OutputFormat format);

// Every point file under the inputs (folders recursively, in name order; files as given),
// skipping anything inside `output_dir`. Throws util::UsageError when an input does not
// exist or two inputs map to the same output.
std::vector<Job> discover_jobs(std::span<const std::filesystem::path> inputs,
                               const std::filesystem::path& output_dir, OutputFormat format);

// The `.json` and `.txt` files directly inside each input folder.
std::vector<CopyItem> root_metadata(std::span<const std::filesystem::path> inputs,
                                    const std::filesystem::path& output_dir);

// Copies through a temporary name in the destination folder, then renames.
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to);

// Removes what killed runs left under `folder` (recursively): scratch folders and
// temporary output files whose process is gone. Returns how many entries it removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& folder);

}  // namespace lidarmill::batch
