#pragma once
// Out-of-core storage for `enrich` (in a util::ScratchDir): bucket files written through
// per-bucket buffers, and buffered sequential readers over them.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/file.hpp"

namespace lidarmill::features {

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

}  // namespace lidarmill::features
