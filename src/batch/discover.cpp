#include "batch/discover.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <system_error>

#include "io/discover.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/scratch_dir.hpp"
#include "util/text.hpp"

namespace lidarmill::batch {
namespace fs = std::filesystem;

namespace {

std::vector<CopyItem> sidecars_of(const fs::path& input, const fs::path& output) {
    // "tile.laz" -> "tile.json"; "tile.copc.laz" -> "tile.copc.json" or "tile.json".
    std::vector<CopyItem> items;
    fs::path stem = input.stem();
    for (int round = 0; round < 2; ++round) {
        const fs::path candidate = input.parent_path() / (stem.string() + ".json");
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) {
            items.push_back({candidate, output.parent_path() / candidate.filename()});
        }
        if (util::ascii_lower(stem.extension().string()) != ".copc") break;
        stem = stem.stem();
    }
    return items;
}

Job make_job(const fs::path& input, const fs::path& relative, const fs::path& output_dir,
             OutputFormat format) {
    Job job;
    job.input = input;
    job.relative = relative;
    job.output = output_dir / output_relative_path(relative, format);
    std::error_code ec;
    job.file_size = fs::file_size(input, ec);
    job.sidecars = sidecars_of(input, job.output);
    return job;
}

}  // namespace

OutputFormat parse_output_format(std::string_view text) {
    if (text == "laz") return OutputFormat::laz;
    if (text == "las") return OutputFormat::las;
    throw util::UsageError("--output-format must be laz or las, not '" + std::string(text) + "'");
}

fs::path output_relative_path(const fs::path& relative, OutputFormat format) {
    fs::path stem = relative.stem();
    if (util::ascii_lower(stem.extension().string()) == ".copc") stem = stem.stem();
    return relative.parent_path() /
           (stem.string() + (format == OutputFormat::laz ? ".laz" : ".las"));
}

std::vector<Job> discover_jobs(std::span<const fs::path> inputs, const fs::path& output_dir,
                               OutputFormat format) {
    std::vector<Job> jobs;
    for (const auto& file : io::find_point_files(inputs, {.skip_folder = output_dir})) {
        jobs.push_back(make_job(file.path, file.relative, output_dir, format));
    }
    std::map<fs::path, fs::path> outputs;
    for (const auto& job : jobs) {
        const auto [it, fresh] = outputs.emplace(job.output.lexically_normal(), job.input);
        if (!fresh) {
            throw util::UsageError(job.input.string() + " and " + it->second.string() +
                                   " would both be written to " + job.output.string());
        }
    }
    return jobs;
}

std::vector<CopyItem> root_metadata(std::span<const fs::path> inputs, const fs::path& output_dir) {
    std::vector<CopyItem> items;
    for (const auto& input : inputs) {
        std::error_code ec;
        if (!fs::is_directory(input, ec)) continue;
        std::vector<fs::path> found;
        for (const auto& entry : fs::directory_iterator(input, ec)) {
            const auto ext = util::ascii_lower(entry.path().extension().string());
            if (entry.is_regular_file() && (ext == ".json" || ext == ".txt")) {
                found.push_back(entry.path());
            }
        }
        std::ranges::sort(found);
        for (const auto& path : found) items.push_back({path, output_dir / path.filename()});
    }
    return items;
}

void copy_file_atomically(const fs::path& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    util::File source(from, util::File::Mode::read);
    util::AtomicOutputFile destination(to);
    std::vector<std::uint8_t> buffer(1 << 20);
    while (const std::size_t n = source.read_some(buffer)) {
        destination.file().write(std::span(buffer).first(n));
    }
    destination.commit();
}

std::size_t remove_stale_temporaries(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return 0;
    std::vector<fs::path> stale;
    for (auto it = fs::recursive_directory_iterator(
             folder, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (util::is_stale_scratch_name(it->path().filename().string())) {
            stale.push_back(it->path());
            if (it->is_directory()) it.disable_recursion_pending();
        }
    }
    std::size_t removed = 0;
    for (const auto& path : stale) {
        std::error_code ignored;
        removed += fs::remove_all(path, ignored) > 0;
    }
    return removed;
}

}  // namespace lidarmill::batch
