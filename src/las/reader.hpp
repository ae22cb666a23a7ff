#pragma once
// Reading LAS files: metadata (header, VLRs, EVLRs, CRS, extra bytes) and raw point
// records in streaming batches. Compressed point data is decoded by a RecordReader the
// caller supplies (the laz module does; use io::open_reader from above this module).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "las/crs.hpp"
#include "las/extra_bytes.hpp"
#include "las/header.hpp"
#include "las/record_stream.hpp"
#include "las/vlr.hpp"
#include "util/byte_source.hpp"
#include "util/file.hpp"

namespace lidarmill::las {

struct FileMetadata {
    std::string path;
    std::uint64_t file_size = 0;
    Header header;
    std::vector<Vlr> vlrs;
    // Bytes between the end of the VLRs and the start of the point data, kept so a
    // rewrite can reproduce them.
    std::vector<std::uint8_t> bytes_after_vlrs;
    std::vector<Vlr> evlrs;
    std::vector<std::uint64_t> evlr_data_offsets;  // where each EVLR's payload starts
    std::uint64_t point_data_end = 0;              // EVLR / waveform start, or the file size
    std::uint64_t readable_points = 0;             // what read() will deliver
    ExtraBytesSchema extra_bytes;
    Crs crs;
    std::vector<std::string> warnings;  // quirks found, one line each, without the file name

    std::uint16_t extra_bytes_per_record() const;
};

// Reads header, VLRs and EVLRs. Throws util::InputError for unreadable files; records
// quirks it can live with in `warnings`.
FileMetadata read_metadata(util::File& file);
// The same from any byte source (a file, a remote object); errors name source.name().
FileMetadata read_metadata(const util::ByteSource& source);

using RecordReaderFactory = std::function<std::unique_ptr<RecordReader>(
    std::shared_ptr<util::File> file, const FileMetadata& metadata)>;

// Raw records straight from an uncompressed file.
std::unique_ptr<RecordReader> make_uncompressed_reader(std::shared_ptr<util::File> file,
                                                       const FileMetadata& metadata);

class Reader {
  public:
    // `decompressor` is used when the header flags compressed point data.
    explicit Reader(const std::filesystem::path& path,
                    const RecordReaderFactory& decompressor = {});

    const FileMetadata& metadata() const { return metadata_; }
    const Header& header() const { return metadata_.header; }
    const std::string& path() const { return metadata_.path; }
    std::uint64_t point_count() const { return metadata_.readable_points; }
    std::uint16_t record_length() const { return metadata_.header.record_length; }

    // Reads up to out.size() / record_length() records; returns how many. 0 = end.
    std::size_t read(std::span<std::uint8_t> out);
    std::uint64_t remaining() const { return records_->remaining(); }

  private:
    FileMetadata metadata_;
    std::shared_ptr<util::File> file_;
    std::unique_ptr<RecordReader> records_;
};

}  // namespace lidarmill::las
