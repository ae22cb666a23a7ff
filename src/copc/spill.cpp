#include "copc/spill.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/error.hpp"

namespace lidarmill::copc {

namespace fs = std::filesystem;

int remove_stale_run_dirs(const fs::path& parent) {
    return util::remove_stale_scratch_dirs(parent, TempRunDir::kPrefix);
}

// Earlier runs' leftovers go first, so that they are never read.
TempRunDir::TempRunDir(const fs::path& parent)
    : dir_((remove_stale_run_dirs(parent), util::ScratchDir::numbered(parent, kPrefix))) {}

BlockStore::BlockStore(const fs::path& file, std::size_t record_size, std::size_t pool_bytes)
    : path_(file.string()), record_size_(record_size), pool_bytes_(pool_bytes) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0)
        throw util::InputError(
            path_, std::string("cannot create temporary file: ") + std::strerror(errno));
}

BlockStore::~BlockStore() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    fs::remove(path_, ec);
}

void BlockStore::account(std::size_t capacity_before, const Bucket& bucket) {
    pooled_ += bucket.buffer.capacity() - capacity_before;
    if (pooled_ > pool_bytes_) flush();
}

void BlockStore::add(std::uint64_t key, std::span<const std::uint8_t> record) {
    Bucket* bucket;
    {
        std::lock_guard lock(mutex_);
        bucket = &buckets_[key];
    }
    const std::size_t before = bucket->buffer.capacity();
    bucket->buffer.insert(bucket->buffer.end(), record.begin(), record.end());
    ++bucket->count;
    if (bucket->buffer.capacity() != before) account(before, *bucket);
}

void BlockStore::add_many(std::uint64_t key, std::span<const std::uint8_t> records) {
    Bucket* bucket;
    {
        std::lock_guard lock(mutex_);
        bucket = &buckets_[key];
    }
    const std::size_t before = bucket->buffer.capacity();
    bucket->buffer.insert(bucket->buffer.end(), records.begin(), records.end());
    bucket->count += records.size() / record_size_;
    account(before, *bucket);
}

void BlockStore::write_block(Bucket& bucket) {
    if (bucket.buffer.empty()) return;
    const std::uint64_t offset = file_end_;
    std::size_t done = 0;
    while (done < bucket.buffer.size()) {
        const ssize_t n = ::pwrite(fd_, bucket.buffer.data() + done, bucket.buffer.size() - done,
                                   static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw util::InputError(
                path_, std::string("cannot write temporary data: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    file_end_ += done;
    {
        std::lock_guard lock(mutex_);
        on_disk_ += done;
        peak_on_disk_ = std::max(peak_on_disk_, on_disk_);
        bucket.blocks.push_back({offset, done});
    }
    // Give the memory back: the pool must stay within its budget between flushes.
    std::vector<std::uint8_t>().swap(bucket.buffer);
}

void BlockStore::flush() {
    for (auto& [key, bucket] : buckets_) write_block(bucket);
    pooled_ = 0;
}

void BlockStore::read(std::uint64_t key, std::vector<std::uint8_t>& out) const {
    std::vector<Block> blocks;
    const Bucket* bucket = nullptr;
    {
        std::lock_guard lock(mutex_);
        const auto it = buckets_.find(key);
        if (it == buckets_.end()) return;
        bucket = &it->second;
        blocks = bucket->blocks;
    }
    for (const Block& block : blocks) {
        const std::size_t start = out.size();
        out.resize(start + block.bytes);
        std::size_t done = 0;
        while (done < block.bytes) {
            const ssize_t n = ::pread(fd_, out.data() + start + done, block.bytes - done,
                                      static_cast<off_t>(block.offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw util::InputError(path_, "cannot read temporary data back");
            done += static_cast<std::size_t>(n);
        }
    }
    // Records still buffered (not yet flushed) come last, as they were added last.
    out.insert(out.end(), bucket->buffer.begin(), bucket->buffer.end());
}

void BlockStore::release(std::uint64_t key) {
    std::vector<Block> blocks;
    {
        std::lock_guard lock(mutex_);
        const auto it = buckets_.find(key);
        if (it == buckets_.end()) return;
        blocks.swap(it->second.blocks);
        std::vector<std::uint8_t>().swap(it->second.buffer);
    }
    for (const Block& block : blocks) {
#ifdef FALLOC_FL_PUNCH_HOLE
        if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(block.offset), static_cast<off_t>(block.bytes)) == 0) {
            std::lock_guard lock(mutex_);
            on_disk_ -= block.bytes;
        }
#endif
    }
}

std::map<std::uint64_t, std::uint64_t> BlockStore::counts() const {
    std::lock_guard lock(mutex_);
    std::map<std::uint64_t, std::uint64_t> out;
    for (const auto& [key, bucket] : buckets_) out[key] = bucket.count;
    return out;
}

std::uint64_t BlockStore::count(std::uint64_t key) const {
    std::lock_guard lock(mutex_);
    const auto it = buckets_.find(key);
    return it == buckets_.end() ? 0 : it->second.count;
}

}  // namespace lidarmill::copc
