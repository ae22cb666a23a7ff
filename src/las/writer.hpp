#pragma once
// Writing LAS files: header statistics recomputed from the records, VLR/EVLR
// pass-through, output under a temporary name until finish(). Compressed point data is
// encoded by a RecordWriter the caller supplies (io::create_writer does).
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "las/bounds.hpp"
#include "las/extra_bytes.hpp"
#include "las/header.hpp"
#include "las/reader.hpp"
#include "las/record_stream.hpp"
#include "las/vlr.hpp"
#include "util/file.hpp"

namespace lidarmill::las {

struct WriterConfig {
    // Template: version, point format, record length, scale, offset, ids, GUID, global
    // encoding, system identifier, software, dates. Counts, bounds, offsets and sizes
    // are recomputed.
    Header header;
    // LASzip VLRs are dropped (the encoder adds its own), and so are COPC's info VLR and
    // hierarchy EVLR (with a warning): what this writer makes is never a COPC file.
    std::vector<Vlr> vlrs;
    std::vector<std::uint8_t> bytes_after_vlrs;
    std::vector<Vlr> evlrs;  // LAS 1.4; earlier versions get them as VLRs when they fit
};

using RecordWriterFactory =
    std::function<std::unique_ptr<RecordWriter>(util::File& out, const Header& header)>;

// Running statistics of written records: bounds and counts by return.
struct PointStats {
    std::uint64_t count = 0;
    RawBounds bounds;
    std::array<std::uint64_t, 15> by_return{};

    void add(std::span<const std::uint8_t> records, std::uint16_t record_length, bool extended);
    void merge(const PointStats& other);
};

// Fills counts, bounds and the LAS 1.4 legacy fields of `header` from `stats`.
void apply_stats(Header& header, const PointStats& stats);

class Writer {
  public:
    Writer(const std::filesystem::path& path, WriterConfig config,
           const RecordWriterFactory& encoder = {});
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    const Header& header() const { return header_; }
    void write(std::span<const std::uint8_t> records);
    void end_chunk();
    // Pre-encoded chunks (see RecordWriter::write_encoded). The header statistics of
    // their points come from add_stats(), which must cover every such point by finish().
    void write_encoded(std::uint64_t points, std::function<std::vector<std::uint8_t>()> encode);
    void add_stats(const PointStats& stats);
    // Completes the file and renames it to its final path. Without finish() nothing
    // appears under the final path.
    void finish();
    std::uint64_t points_written() const { return stats_.count; }
    std::vector<std::string> warnings;

  private:
    void write_vlrs();

    WriterConfig config_;
    Header header_;
    util::AtomicOutputFile output_;
    std::unique_ptr<RecordWriter> records_;
    PointStats stats_;
    std::uint64_t encoded_points_ = 0;  // written by write_encoded()
    std::uint64_t encoded_stats_ = 0;   // covered by add_stats()
    bool finished_ = false;
};

// Deep-copies the parts of a header that describe a dataset (ids, GUID, encoding,
// texts, dates, scale, offset) into a fresh header of the given version and format.
Header derive_header(const Header& source, std::uint8_t version_minor, std::uint8_t point_format,
                     std::uint16_t record_length);

// What a command writes from an input file: its version, format and record length, and
// the extra-bytes schema when it changes.
struct DerivedOutput {
    std::uint8_t version_minor = 2;
    std::uint8_t point_format = 0;
    std::uint16_t record_length = 0;
    // Replaces the input's extra-bytes VLR where it stood (appended when it had none,
    // removed when the schema has no dimension); nullopt keeps the input's VLR.
    std::optional<ExtraBytesSchema> extra_bytes;
    // The input's records with columns appended (enrich) keep the input's global-encoding
    // bits when the version is unchanged, a missing WKT bit included; a conversion
    // (translate) sets them as its version and format require.
    bool keep_global_encoding = false;
};

// The one place where an output's header template, VLRs and EVLRs are derived from an
// input's: every VLR, EVLR and the bytes after the VLRs are carried over.
WriterConfig writer_config_from(const FileMetadata& input, const DerivedOutput& output);

}  // namespace lidarmill::las
