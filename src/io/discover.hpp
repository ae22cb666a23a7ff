#pragma once
// Which point files a command line names. Every command that takes "files or folders"
// (enrich batches, copc, and the collection commands to come) finds its inputs here, so
// that they agree on what counts as a point file and on the order they are processed in.
#include <filesystem>
#include <span>
#include <vector>

namespace lidarmill::io {

// True for .las / .laz names (any case; "x.copc.laz" included).
bool is_point_file(const std::filesystem::path& path);

struct PointFile {
    std::filesystem::path path;
    // Under the folder it was found in; the file name for a file named directly.
    std::filesystem::path relative;
};

struct DiscoverOptions {
    // Not searched (an output folder inside an input folder).
    std::filesystem::path skip_folder;
    // A folder without any point file is an error rather than nothing.
    bool folders_must_hold_files = false;
};

// Files as given; folders searched recursively, each folder's files in name order. Hidden
// names are skipped: the temporaries of runs in progress or killed are hidden. Throws
// util::UsageError naming an input that does not exist or a folder that cannot be listed.
std::vector<PointFile> find_point_files(std::span<const std::filesystem::path> inputs,
                                        const DiscoverOptions& options = {});

}  // namespace lidarmill::io
