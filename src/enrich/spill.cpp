#include "enrich/spill.hpp"

#include <cstring>
#include <system_error>

#include "util/error.hpp"

namespace lidarmill::enrich {
namespace fs = std::filesystem;

fs::path bucket_file_name(const fs::path& folder, std::string_view stem, std::size_t index) {
    return folder / (std::string(stem) + "-" + std::to_string(index) + ".bin");
}

BucketWriter::BucketWriter(const fs::path& folder, std::string_view stem, std::size_t count,
                           std::size_t buffer_bytes)
    : folder_(folder), stem_(stem), buffer_bytes_(buffer_bytes), buffers_(count), sizes_(count, 0) {
    files_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        files_.emplace_back(path(i), util::File::Mode::write);
    }
}

fs::path BucketWriter::path(std::size_t bucket) const {
    return bucket_file_name(folder_, stem_, bucket);
}

void BucketWriter::append(std::size_t bucket, std::span<const std::uint8_t> bytes) {
    auto& buffer = buffers_[bucket];
    if (buffer.capacity() == 0) buffer.reserve(buffer_bytes_);
    if (buffer.size() + bytes.size() > buffer_bytes_) flush(bucket);
    buffer.insert(buffer.end(), bytes.begin(), bytes.end());
    sizes_[bucket] += bytes.size();
}

void BucketWriter::flush(std::size_t bucket) {
    auto& buffer = buffers_[bucket];
    if (!buffer.empty()) files_[bucket].write(buffer);
    buffer.clear();
}

void BucketWriter::finish() {
    for (std::size_t i = 0; i < files_.size(); ++i) {
        flush(i);
        std::vector<std::uint8_t>().swap(buffers_[i]);
        files_[i].close();
    }
}

SequentialReader::SequentialReader(const fs::path& path, std::size_t buffer_bytes)
    : file_(path, util::File::Mode::consume), buffer_(buffer_bytes) {}

const std::uint8_t* SequentialReader::next(std::size_t size) {
    if (end_ - position_ < size) {
        // Keep the unread tail, then top the buffer up.
        std::memmove(buffer_.data(), buffer_.data() + position_, end_ - position_);
        end_ -= position_;
        position_ = 0;
        if (buffer_.size() < size) buffer_.resize(size);
        const std::size_t read = file_.read_some(std::span(buffer_).subspan(end_));
        consumed_ += read;
        // In the buffer now: never read from the file again.
        discarded_ = file_.discard(discarded_, consumed_ - discarded_);
        end_ += read;
        if (end_ < size) throw util::InputError(file_.path(), "scratch file ended early");
    }
    const std::uint8_t* record = buffer_.data() + position_;
    position_ += size;
    return record;
}

std::vector<std::uint8_t> read_bucket(const fs::path& path) {
    std::vector<std::uint8_t> bytes;
    {
        util::File file(path, util::File::Mode::read);
        bytes.resize(file.size());
        file.read_exact(bytes, "scratch bucket");
    }
    std::error_code ignored;
    fs::remove(path, ignored);
    if (bytes.size() % kHaloEntrySize != 0) {
        throw util::InputError(path.string(), "scratch bucket has a partial entry");
    }
    return bytes;
}

void write_scratch(const fs::path& path, std::span<const std::uint8_t> bytes) {
    util::File file(path, util::File::Mode::write);
    file.write(bytes);
    file.close();
}

}  // namespace lidarmill::enrich
