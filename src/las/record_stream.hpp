#pragma once
// The seam between the LAS container and the point data encodings. Uncompressed LAS
// and LAZ both implement these; everything above reads and writes raw point records
// (record_length bytes each, exactly as in an uncompressed LAS file).
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "las/vlr.hpp"

namespace lidarmill::las {

// Reads raw point records in file order.
class RecordReader {
  public:
    virtual ~RecordReader() = default;
    // Fills `out` with up to out.size() / record_length whole records and returns how
    // many it wrote; 0 means the end of the point data. Throws util::InputError on
    // damaged data.
    virtual std::size_t read(std::span<std::uint8_t> out) = 0;
    // Points not yet returned by read().
    virtual std::uint64_t remaining() const = 0;
};

// Writes raw point records into the point data region of an output file.
class RecordWriter {
  public:
    virtual ~RecordWriter() = default;
    // Called once, before the VLRs are written: a VLR this encoding needs (LASzip).
    virtual std::optional<Vlr> encoding_vlr() const { return std::nullopt; }
    // Appends whole records (records.size() is a multiple of record_length).
    virtual void write(std::span<const std::uint8_t> records) = 0;
    // Ends the current chunk here (LAZ variable chunks; no-op for LAS).
    virtual void end_chunk() {}
    // Appends one chunk of `points` records whose encoded bytes `encode` produces (it may
    // run on another thread): for callers that reuse compressed data instead of encoding
    // records again. Only chunked encodings support it.
    virtual void write_encoded(std::uint64_t points,
                               std::function<std::vector<std::uint8_t>()> encode) {
        (void)points;
        (void)encode;
        throw std::logic_error("this output encoding cannot take pre-encoded chunks");
    }
    // Flushes everything; the file position afterwards is the end of the point data.
    virtual void finish() = 0;
};

}  // namespace lidarmill::las
