#include "util/byte_source.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

namespace lidarmill::util {

FileByteSource::FileByteSource(const std::filesystem::path& path)
    : path_(path.string()), file_(path, File::Mode::read), size_(file_.size()) {}

void FileByteSource::read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                             const char* what) const {
    file_.pread_exact(offset, out, what);
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
