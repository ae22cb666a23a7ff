#include "io/discover.hpp"

#include <algorithm>
#include <string>
#include <system_error>

#include "util/error.hpp"
#include "util/text.hpp"

namespace lidarmill::io {
namespace fs = std::filesystem;

namespace {

// `folder` already canonical.
bool is_inside(const fs::path& path, const fs::path& folder) {
    const auto p = fs::weakly_canonical(path);
    return std::mismatch(folder.begin(), folder.end(), p.begin(), p.end()).first == folder.end();
}

std::vector<fs::path> point_files_under(const fs::path& folder, const DiscoverOptions& options) {
    std::vector<fs::path> found;
    const fs::path skip =
        options.skip_folder.empty() ? fs::path() : fs::weakly_canonical(options.skip_folder);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(
             folder, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto& entry = *it;
        if (!skip.empty() && entry.is_directory() && is_inside(entry.path(), skip)) {
            it.disable_recursion_pending();
            continue;
        }
        if (entry.is_regular_file() && is_point_file(entry.path()) &&
            !entry.path().filename().string().starts_with(".")) {
            found.push_back(entry.path());
        }
    }
    if (ec) throw util::UsageError(folder.string() + ": cannot list folder: " + ec.message());
    if (found.empty() && options.folders_must_hold_files) {
        throw util::UsageError(folder.string() + ": no .las or .laz file in this folder");
    }
    std::ranges::sort(found);
    return found;
}

}  // namespace

bool is_point_file(const fs::path& path) {
    const auto ext = util::ascii_lower(path.extension().string());
    return ext == ".las" || ext == ".laz";
}

std::vector<PointFile> find_point_files(std::span<const fs::path> inputs,
                                        const DiscoverOptions& options) {
    std::vector<PointFile> files;
    for (const auto& input : inputs) {
        std::error_code ec;
        if (fs::is_directory(input, ec)) {
            for (auto& path : point_files_under(input, options)) {
                auto relative = path.lexically_relative(input);
                files.push_back({std::move(path), std::move(relative)});
            }
        } else if (fs::exists(input, ec)) {
            files.push_back({input, input.filename()});
        } else {
            throw util::UsageError(input.string() + ": no such file or folder");
        }
    }
    return files;
}

}  // namespace lidarmill::io
