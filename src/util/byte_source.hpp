#pragma once
// Where a reader gets its bytes from, so that readers of indexed formats (COPC) do not
// assume a local file: a file today, ranged HTTP requests tomorrow. Every read names its
// offset and size, so a remote source pays one request per call: callers read whole
// headers, pages and chunks at once rather than field by field.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "util/file.hpp"

namespace lidarmill::util {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    // Fills `out` with the bytes at `offset`; throws InputError naming the source
    // ("unexpected end of file reading <what> (...)") when fewer are available. Safe to call
    // from several threads.
    virtual void read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                         const char* what = "data") const = 0;
    // What errors call the source: the path of a file, the URL of a remote object.
    virtual std::string name() const = 0;
};

// A local file read with pread: no shared position, so concurrent reads need no lock.
class FileByteSource final : public ByteSource {
  public:
    // Throws InputError ("cannot open: ...") naming the file.
    explicit FileByteSource(const std::filesystem::path& path);

    std::uint64_t size() const override { return size_; }
    void read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                 const char* what = "data") const override;
    std::string name() const override { return path_; }

  private:
    std::string path_;
    File file_;  // read with pread only: its stream position is never used
    std::uint64_t size_ = 0;
};

// A ByteSource over a util::File the caller keeps open, for code that already holds one.
class FileViewSource final : public ByteSource {
  public:
    explicit FileViewSource(const File& file) : file_(file) {}
    std::uint64_t size() const override;
    void read_at(std::uint64_t offset, std::span<std::uint8_t> out,
                 const char* what = "data") const override;
    std::string name() const override;

  private:
    const File& file_;
};

}  // namespace lidarmill::util
