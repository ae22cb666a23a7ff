#include "util/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::util {

namespace {
std::string errno_text() {
    return std::strerror(errno);
}
}  // namespace

// The messages match util::File's, so that code moving from File to a ByteSource reports
// the same problems in the same words.
FileByteSource::FileByteSource(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw InputError(path_, "cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const std::string problem = "cannot stat: " + errno_text();
        ::close(fd_);
        throw InputError(path_, problem);
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
}

FileByteSource::~FileByteSource() {
    ::close(fd_);
}

void FileByteSource::read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                             const char* what) const {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n =
            ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
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

std::uint64_t FileViewSource::size() const {
    return file_.size();
}

void FileViewSource::read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                             const char* what) const {
    file_.pread_exact(offset, out, what);
}

std::string FileViewSource::name() const {
    return file_.path();
}

}  // namespace lidarmill::util
