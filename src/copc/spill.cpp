#include "copc/spill.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/error.hpp"

namespace lidarmill::copc {

namespace fs = std::filesystem;

namespace {
bool process_alive(long pid) {
    return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// The pid in "lidarmill-copc-<pid>-<n>", or -1.
long pid_of_run_dir(const std::string& name) {
    const std::string prefix = TempRunDir::kPrefix;
    if (name.rfind(prefix, 0) != 0) return -1;
    const std::string rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) return -1;
    try {
        return std::stol(rest.substr(0, dash));
    } catch (const std::exception&) {
        return -1;
    }
}
}  // namespace

int remove_stale_run_dirs(const fs::path& parent) {
    int removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
        const long pid = pid_of_run_dir(entry.path().filename().string());
        if (pid < 0 || !entry.is_directory(ec) || process_alive(pid)) continue;
        if (fs::remove_all(entry.path(), ec) > 0 && !ec) {
            spdlog::info("removed the temporary folder of an interrupted run: {}",
                         entry.path().string());
            ++removed;
        }
    }
    return removed;
}

TempRunDir::TempRunDir(const fs::path& parent) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (!fs::is_directory(parent)) {
        throw util::UsageError(fmt::format(
            "temporary folder {} does not exist and cannot be created", parent.string()));
    }
    remove_stale_run_dirs(parent);
    static std::atomic<int> counter{0};
    for (int attempt = 0; attempt < 1000; ++attempt) {
        fs::path candidate = parent / fmt::format("{}{}-{}", kPrefix, ::getpid(), counter++);
        if (fs::create_directory(candidate, ec)) {
            path_ = std::move(candidate);
            return;
        }
    }
    throw util::UsageError(fmt::format("cannot create a temporary folder in {}", parent.string()));
}

TempRunDir::~TempRunDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

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
