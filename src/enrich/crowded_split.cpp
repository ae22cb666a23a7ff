#include "enrich/crowded_split.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <system_error>

#include "enrich/spill.hpp"
#include "util/bytes.hpp"
#include "util/file.hpp"

namespace lidarmill::enrich {
namespace fs = std::filesystem;

CrowdedSplitter::CrowdedSplitter(const std::string& path, const Frame& frame, double halo,
                                 std::uint64_t limit, std::size_t feature_bytes,
                                 BucketCompute compute)
    : path_(path),
      frame_(frame),
      halo_(halo),
      limit_(std::max<std::uint64_t>(limit, 1)),
      feature_bytes_(feature_bytes),
      compute_(std::move(compute)) {}

std::uint64_t CrowdedSplitter::compute(const fs::path& folder, const fs::path& bucket,
                                       const ChunkSquare& square, const fs::path& out,
                                       const std::string& stem) {
    const std::uint64_t entries = fs::file_size(bucket) / kHaloEntrySize;
    // Sub-chunks no narrower than two halos (their halos then reach their neighbours only).
    const auto most = static_cast<std::size_t>(std::floor(square.side / (2 * halo_)));
    // At most 16 x 16 at a time (open files); a sub-chunk still crowded is split again.
    const std::size_t k =
        std::min({most, std::size_t{16},
                  static_cast<std::size_t>(std::ceil(std::sqrt(1.5 * entries / limit_)))});
    if (k < 2) return compute_to_file(bucket, out);  // as crowded as a chunk can be
    spdlog::debug("{}: {} points with halo split into {} x {} chunks of {:.0f} m ({})", path_,
                  entries, k, k, square.side / static_cast<double>(k), stem);
    ChunkGrid sub;
    sub.x0 = square.x0;
    sub.y0 = square.y0;
    sub.side = square.side / static_cast<double>(k);
    sub.columns = sub.rows = static_cast<std::uint32_t>(k);
    const SplitBucket parts = split(bucket, entries, sub, folder, stem);
    std::uint64_t scratch_bytes = parts.bytes;
    for (std::uint32_t c = 0; c < sub.count(); ++c) {
        const fs::path sub_bucket = bucket_file_name(folder, stem + "bucket", c);
        const fs::path sub_out = bucket_file_name(folder, stem + "out", c);
        scratch_bytes +=
            fs::file_size(sub_bucket) / kHaloEntrySize > limit_
                ? compute(folder, sub_bucket, sub.square(c), sub_out, fmt::format("{}{}-", stem, c))
                : compute_to_file(sub_bucket, sub_out);
    }
    merge_in_bucket_order(folder, stem, sub.count(), parts.own, out);
    return scratch_bytes + parts.own * feature_bytes_;
}

// Streams a bucket into the sub-buckets `<stem>bucket-*` of `sub` (own points to their
// sub-chunk, and every point to the halos of the sub-chunks it is near) and, per own point
// in bucket order, its sub-chunk into `<stem>route-0`. Deletes the bucket.
CrowdedSplitter::SplitBucket CrowdedSplitter::split(const fs::path& bucket, std::uint64_t entries,
                                                    const ChunkGrid& sub, const fs::path& folder,
                                                    const std::string& stem) const {
    SplitBucket parts;
    {
        SequentialReader in(bucket, 1 << 20);
        BucketWriter subs(folder, stem + "bucket", sub.count(), 64 << 10);
        BucketWriter route(folder, stem + "route", 1, 1 << 20);
        BucketEntry entry{};
        for (std::uint64_t e = 0; e < entries; ++e) {
            std::memcpy(entry.data(), in.next(kHaloEntrySize), kHaloEntrySize);
            const auto id = util::load_le<std::uint64_t>(entry.data());
            const RawXyz p = raw_xyz(entry.data() + 8);
            const double x = frame_.x(p.x), y = frame_.y(p.y);
            const std::uint32_t at = sub.chunk_of(x, y);
            if ((id & kHaloFlag) == 0) {
                std::array<std::uint8_t, 2> to{};
                util::store_le<std::uint16_t>(to.data(), static_cast<std::uint16_t>(at));
                route.append(0, to);
                ++parts.own;
            }
            append_with_halo(sub, halo_, subs, at, entry, x, y);
        }
        subs.finish();
        route.finish();
        for (std::uint32_t c = 0; c < sub.count(); ++c) parts.bytes += subs.bytes_written(c);
    }
    std::error_code ignored;
    fs::remove(bucket, ignored);
    return parts;
}

// Writes the sub-chunks' features (`<stem>out-*`) to `out` in the split bucket's order
// (`<stem>route-0`), and deletes them.
void CrowdedSplitter::merge_in_bucket_order(const fs::path& folder, const std::string& stem,
                                            std::uint32_t sub_chunks, std::uint64_t own,
                                            const fs::path& out) const {
    {
        SequentialReader route(bucket_file_name(folder, stem + "route", 0), 1 << 20);
        std::vector<std::unique_ptr<SequentialReader>> features_of;
        for (std::uint32_t c = 0; c < sub_chunks; ++c) {
            features_of.push_back(std::make_unique<SequentialReader>(
                bucket_file_name(folder, stem + "out", c), 64 << 10));
        }
        util::File file(out, util::File::Mode::write);
        std::vector<std::uint8_t> block;
        block.reserve(1 << 20);
        for (std::uint64_t i = 0; i < own; ++i) {
            const auto at = util::load_le<std::uint16_t>(route.next(2));
            const std::uint8_t* features = features_of[at]->next(feature_bytes_);
            block.insert(block.end(), features, features + feature_bytes_);
            if (block.size() >= (1 << 20)) {
                file.write(block);
                block.clear();
            }
        }
        file.write(block);
        file.close();
    }
    std::error_code ignored;
    fs::remove(bucket_file_name(folder, stem + "route", 0), ignored);
    for (std::uint32_t c = 0; c < sub_chunks; ++c)
        fs::remove(bucket_file_name(folder, stem + "out", c), ignored);
}

// Computes a bucket's chunk into `out`; returns the bytes written.
std::uint64_t CrowdedSplitter::compute_to_file(const fs::path& bucket, const fs::path& out) {
    const std::vector<std::uint8_t> features = compute_(read_bucket(bucket));
    write_scratch(out, features);
    return features.size();
}

}  // namespace lidarmill::enrich
