#pragma once
// The seam between the LAS container and the point data encodings. Uncompressed LAS
// and LAZ both implement these; everything above reads and writes raw point records
// (record_length bytes each, exactly as in an uncompressed LAS file).
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>

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
    // Flushes everything; the file position afterwards is the end of the point data.
    virtual void finish() = 0;
};

}  // namespace lidarmill::las
