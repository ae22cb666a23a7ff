#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/error.hpp"

namespace lidarmill::util {

namespace {
std::string errno_text() {
    return std::strerror(errno);
}
}  // namespace

File::File(const std::filesystem::path& path, Mode mode) : path_(path.string()) {
    const char* how = mode == Mode::read ? "rb" : mode == Mode::consume ? "r+b" : "wb+";
    handle_.reset(std::fopen(path_.c_str(), how));
    if (!handle_) {
        throw InputError(path_, std::string("cannot open: ") + errno_text());
    }
}

std::uint64_t File::size() const {
    std::fflush(handle_.get());
    struct stat st {};
    if (fstat(fileno(handle_.get()), &st) != 0)
        throw InputError(path_, "cannot stat: " + errno_text());
    return static_cast<std::uint64_t>(st.st_size);
}

std::uint64_t File::tell() const {
    const auto pos = ftello(handle_.get());
    if (pos < 0) throw InputError(path_, "cannot tell position: " + errno_text());
    return static_cast<std::uint64_t>(pos);
}

void File::seek(std::uint64_t offset) {
    if (fseeko(handle_.get(), static_cast<off_t>(offset), SEEK_SET) != 0) {
        throw InputError(path_, "cannot seek to " + std::to_string(offset) + ": " + errno_text());
    }
}

void File::read_exact(std::span<std::uint8_t> out, const char* what) {
    const auto start = tell();
    if (read_some(out) != out.size()) {
        throw InputError(path_, std::string("unexpected end of file reading ") + what + " (" +
                                    std::to_string(out.size()) + " bytes at offset " +
                                    std::to_string(start) + ")");
    }
}

std::size_t File::read_some(std::span<std::uint8_t> out) {
    if (out.empty()) return 0;
    const std::size_t n = std::fread(out.data(), 1, out.size(), handle_.get());
    if (n < out.size() && std::ferror(handle_.get())) {
        throw InputError(path_, "read error: " + errno_text());
    }
    return n;
}

void File::pread_exact(std::uint64_t offset, std::span<std::uint8_t> out, const char* what) const {
    std::size_t done = 0;
    const int fd = fileno(handle_.get());
    while (done < out.size()) {
        const ssize_t n =
            ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw InputError(path_, "read error: " + errno_text());
        if (n == 0) {
            throw InputError(path_, std::string("unexpected end of file reading ") + what + " (" +
                                        std::to_string(out.size()) + " bytes at offset " +
                                        std::to_string(offset) + ")");
        }
        done += static_cast<std::size_t>(n);
    }
}

void File::write(std::span<const std::uint8_t> bytes) {
    // In pieces of at most 1 MiB: strace -T on a large enrich showed single writes of many
    // megabytes into the page cache costing several times what the same bytes cost in
    // pieces of 1 MiB or less.
    constexpr std::size_t piece = std::size_t{1} << 20;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        const std::size_t size = std::min(piece, bytes.size() - at);
        if (std::fwrite(bytes.data() + at, 1, size, handle_.get()) != size) {
            throw InputError(path_, "write failed: " + errno_text());
        }
    }
    unsynced_bytes_ += bytes.size();
    if (writeback_interval_ > 0 && unsynced_bytes_ >= writeback_interval_) {
        flush();
        // Only starts the writeback of what is dirty (whole file: the header may have
        // been rewritten); a failure here is reported by the fsync that follows.
        ::sync_file_range(fileno(handle_.get()), 0, 0, SYNC_FILE_RANGE_WRITE);
        unsynced_bytes_ = 0;
    }
}

std::uint64_t File::discard(std::uint64_t offset, std::uint64_t length) {
    constexpr std::uint64_t page = 4096;
    const std::uint64_t first = (offset + page - 1) / page * page;
    const std::uint64_t last = (offset + length) / page * page;
    if (last <= first) return offset;
    ::fallocate(fileno(handle_.get()), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(first), static_cast<off_t>(last - first));
    return last;
}

void File::flush() {
    if (std::fflush(handle_.get()) != 0) throw InputError(path_, "flush failed: " + errno_text());
}

void File::close() {
    if (!handle_) return;
    std::FILE* f = handle_.release();
    if (std::fclose(f) != 0) throw InputError(path_, "close failed: " + errno_text());
}

namespace {
std::filesystem::path temp_name_for(const std::filesystem::path& final_path) {
    static std::atomic<unsigned> counter{0};
    std::string name(".");
    name.append(final_path.filename().string())
        .append(".tmp-")
        .append(std::to_string(::getpid()))
        .append("-")
        .append(std::to_string(counter++));
    return final_path.parent_path() / name;
}
}  // namespace

AtomicOutputFile::AtomicOutputFile(const std::filesystem::path& final_path)
    : final_path_(final_path), temp_path_(temp_name_for(final_path)) {
    file_ = File(temp_path_, File::Mode::write);
    // Without it, commit() waits for the whole output to reach the disk; written back as
    // it goes, the wait overlaps the work.
    file_.start_writeback_every(std::uint64_t{32} << 20);
}

AtomicOutputFile::~AtomicOutputFile() {
    if (!committed_) {
        file_ = File();
        std::error_code ignored;
        std::filesystem::remove(temp_path_, ignored);
    }
}

void AtomicOutputFile::commit() {
    file_.flush();
    if (::fsync(fileno(file_.get())) != 0) {
        throw InputError(final_path_.string(), "fsync failed: " + errno_text());
    }
    file_.close();
    std::error_code ec;
    std::filesystem::rename(temp_path_, final_path_, ec);
    if (ec) throw InputError(final_path_.string(), "cannot rename temporary file: " + ec.message());
    committed_ = true;
}

}  // namespace lidarmill::util
