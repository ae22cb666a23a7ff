#pragma once
// Temporary storage of the converter: a per-run folder and an append-only block file in
// which records are grouped by bucket. One file holds every bucket, so huge inputs never
// exhaust inodes, and the disk used is about one copy of the records.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "util/scratch_dir.hpp"

namespace lidarmill::copc {

// "<parent>/lidarmill-copc-<pid>-<n>", created on construction, removed with its content on
// destruction. Folders of earlier runs whose process is gone are removed first, so the
// leftovers of a killed run are never read.
class TempRunDir {
  public:
    explicit TempRunDir(const std::filesystem::path& parent);
    const std::filesystem::path& path() const { return dir_.path(); }

    static constexpr const char* kPrefix = "lidarmill-copc-";

  private:
    util::ScratchDir dir_;
};

// Removes "<parent>/lidarmill-copc-<pid>-*" folders whose pid is not a running process.
// Returns how many it removed.
int remove_stale_run_dirs(const std::filesystem::path& parent);

// Fixed-size records appended to buckets. Each bucket buffers in memory; when the buffers
// together exceed the pool size they are all written out as blocks (one pwrite each).
// add() and flush() are for one thread at a time; read() may run concurrently with itself
// (and with add() when the bucket read is not the one written).
class BlockStore {
  public:
    BlockStore(const std::filesystem::path& file, std::size_t record_size, std::size_t pool_bytes);
    ~BlockStore();
    BlockStore(const BlockStore&) = delete;
    BlockStore& operator=(const BlockStore&) = delete;

    void add(std::uint64_t bucket, std::span<const std::uint8_t> record);
    void add_many(std::uint64_t bucket, std::span<const std::uint8_t> records);
    void flush();
    // Appends every record of `bucket` to `out`, in the order they were added.
    void read(std::uint64_t bucket, std::vector<std::uint8_t>& out) const;
    // Frees the disk blocks of a bucket that is no longer needed (hole punching).
    void release(std::uint64_t bucket);

    std::map<std::uint64_t, std::uint64_t> counts() const;  // bucket -> records
    std::uint64_t count(std::uint64_t bucket) const;
    std::size_t record_size() const { return record_size_; }
    std::uint64_t bytes_written() const { return file_end_; }
    std::uint64_t peak_bytes_on_disk() const { return peak_on_disk_; }

  private:
    struct Block {
        std::uint64_t offset = 0;
        std::uint64_t bytes = 0;
    };
    struct Bucket {
        std::vector<std::uint8_t> buffer;
        std::vector<Block> blocks;
        std::uint64_t count = 0;
    };
    void write_block(Bucket& bucket);
    void account(std::size_t capacity_before, const Bucket& bucket);

    std::string path_;
    int fd_ = -1;
    std::size_t record_size_;
    std::size_t pool_bytes_;
    std::size_t pooled_ = 0;  // sum of buffer capacities
    std::uint64_t file_end_ = 0;
    std::uint64_t on_disk_ = 0;
    std::uint64_t peak_on_disk_ = 0;
    std::map<std::uint64_t, Bucket> buckets_;
    mutable std::mutex mutex_;  // guards buckets_ structure for concurrent read()/add()
};

}  // namespace lidarmill::copc
