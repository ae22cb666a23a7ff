#pragma once
// Thin RAII wrappers over stdio files with errors that name the file, and an output
// file that appears under its final name only when complete.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace lidarmill::util {

class File {
  public:
    // consume: read a scratch file whose bytes may be given back with discard().
    enum class Mode { read, write, consume };
    File() = default;
    File(const std::filesystem::path& path, Mode mode);

    const std::string& path() const { return path_; }
    std::uint64_t size() const;  // current size on disk
    std::uint64_t tell() const;
    void seek(std::uint64_t offset);
    // Reads exactly out.size() bytes at the current position; throws InputError
    // ("unexpected end of file ...") when the file is shorter.
    void read_exact(std::span<std::uint8_t> out, const char* what = "data");
    // Reads up to out.size() bytes; returns the count read.
    std::size_t read_some(std::span<std::uint8_t> out);
    // Reads exactly out.size() bytes at `offset` without moving the position of
    // other readers (pread); safe from several threads.
    void pread_exact(std::uint64_t offset, std::span<std::uint8_t> out,
                     const char* what = "data") const;
    void write(std::span<const std::uint8_t> bytes);
    // From now on, every `bytes` written start being written back to the disk (without
    // waiting for it), so that a final fsync finds little left to do. 0: off.
    void start_writeback_every(std::uint64_t bytes) { writeback_interval_ = bytes; }
    void flush();
    // Frees the whole pages of [offset, offset + length) (a hole, read back as zeros), for
    // scratch files read once: the page cache they held is reused at once by the writes
    // that follow, instead of the kernel having to write back or evict other pages first
    // (strace -T shows the output's write() calls of an out-of-core enrich shrink when its
    // scratch features are discarded as they are merged). Best effort (Mode::consume or write):
    // nothing happens where holes are not supported. Returns the end of the whole pages
    // freed (`offset` if none): where the next discard of the bytes that follow can start.
    std::uint64_t discard(std::uint64_t offset, std::uint64_t length);
    std::FILE* get() const { return handle_.get(); }
    bool is_open() const { return static_cast<bool>(handle_); }
    void close();

  private:
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> handle_;
    std::string path_;
    std::uint64_t writeback_interval_ = 0, unsynced_bytes_ = 0;
};

// Writes to "<dir>/.<name>.tmp-<pid>-<n>" and renames to the final path on commit().
// Destroyed without commit(), it removes the temporary file: no half-written output.
class AtomicOutputFile {
  public:
    explicit AtomicOutputFile(const std::filesystem::path& final_path);
    ~AtomicOutputFile();
    AtomicOutputFile(const AtomicOutputFile&) = delete;
    AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

    File& file() { return file_; }
    const std::filesystem::path& final_path() const { return final_path_; }
    const std::filesystem::path& temp_path() const { return temp_path_; }
    void commit();

  private:
    std::filesystem::path final_path_;
    std::filesystem::path temp_path_;
    File file_;
    bool committed_ = false;
};

}  // namespace lidarmill::util
