#pragma once
// Out-of-core storage for `enrich` (in a util::ScratchDir): bucket files written through
// per-bucket buffers, and buffered sequential readers over them.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/chunk_grid.hpp"
#include "util/bytes.hpp"
#include "util/file.hpp"

namespace lidarmill::enrich {

// A bucket entry: the point's index in the file (kHaloFlag set for a halo point), then its
// raw X, Y, Z.
inline constexpr std::size_t kHaloEntrySize = 8 + 12;
inline constexpr std::uint64_t kHaloFlag = std::uint64_t{1} << 63;
using BucketEntry = std::array<std::uint8_t, kHaloEntrySize>;

struct RawXyz {
    std::int32_t x, y, z;
};

inline RawXyz raw_xyz(const std::uint8_t* record) {
    return {util::load_le<std::int32_t>(record), util::load_le<std::int32_t>(record + 4),
            util::load_le<std::int32_t>(record + 8)};
}

// Appends byte strings to `count` numbered files; each file has its own buffer of
// `buffer_bytes` so that writes reach the disk in large blocks.
class BucketWriter {
  public:
    BucketWriter(const std::filesystem::path& folder, std::string_view stem, std::size_t count,
                 std::size_t buffer_bytes);

    void append(std::size_t bucket, std::span<const std::uint8_t> bytes);
    // Flushes and closes every file.
    void finish();
    std::filesystem::path path(std::size_t bucket) const;
    std::uint64_t bytes_written(std::size_t bucket) const { return sizes_[bucket]; }

  private:
    void flush(std::size_t bucket);

    std::filesystem::path folder_;
    std::string stem_;
    std::size_t buffer_bytes_;
    std::vector<util::File> files_;
    std::vector<std::vector<std::uint8_t>> buffers_;
    std::vector<std::uint64_t> sizes_;
};

// Reads a scratch file front to back in fixed-size records through a buffer, giving
// the bytes it has read back to the file system (File::discard) as it goes.
class SequentialReader {
  public:
    SequentialReader(const std::filesystem::path& path, std::size_t buffer_bytes);
    // The next `size` bytes (valid until the next call); throws util::InputError when the
    // file ends first.
    const std::uint8_t* next(std::size_t size);

  private:
    util::File file_;
    std::vector<std::uint8_t> buffer_;
    std::size_t position_ = 0, end_ = 0;
    std::uint64_t consumed_ = 0;   // bytes read from the file so far
    std::uint64_t discarded_ = 0;  // given back before this (see File::discard)
};

std::filesystem::path bucket_file_name(const std::filesystem::path& folder, std::string_view stem,
                                       std::size_t index);

// Appends `entry` to the bucket of `chunk` as it is, and flagged as halo to the bucket of
// every other chunk of `grid` whose halo holds (x, y).
inline void append_with_halo(const ChunkGrid& grid, double halo, BucketWriter& buckets,
                             std::uint32_t chunk, BucketEntry entry, double x, double y) {
    buckets.append(chunk, entry);
    if (grid.count() == 1) return;
    util::store_le<std::uint64_t>(entry.data(),
                                  util::load_le<std::uint64_t>(entry.data()) | kHaloFlag);
    grid.for_each_halo_chunk(x, y, halo, [&](std::uint32_t h) { buckets.append(h, entry); });
}

// A bucket's entries (deleted from the disk once read).
std::vector<std::uint8_t> read_bucket(const std::filesystem::path& path);

// Writes `bytes` to a new scratch file.
void write_scratch(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace lidarmill::enrich
