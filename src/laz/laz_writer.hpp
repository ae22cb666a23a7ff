#pragma once
// Writes the point data region of a LAZ file: chunk-table pointer, chunks (encoded in
// parallel, written in order), then the chunk table.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "las/record_stream.hpp"
#include "laz/laszip_vlr.hpp"
#include "util/file.hpp"

namespace lidarmill::laz {

// chunk_size: points per chunk, or kVariableChunkSize when the caller ends chunks with
// end_chunk(). threads: 0 = all cores. The writer starts writing at the file position of
// its first write() or finish() call (after the caller wrote header and VLRs).
std::unique_ptr<las::RecordWriter> make_laz_record_writer(util::File& out,
                                                          std::uint8_t point_format,
                                                          std::uint16_t record_length,
                                                          std::uint32_t chunk_size,
                                                          unsigned threads);

// Same, encoding with the items and chunk size of `vlr` (checked against the format).
std::unique_ptr<las::RecordWriter> make_laz_record_writer(util::File& out,
                                                          std::uint8_t point_format,
                                                          std::uint16_t record_length,
                                                          const LaszipVlr& vlr, unsigned threads);

// The LASzip chunk table bytes (version, count, compressed entries) for these chunks;
// point counts are stored only for variable chunks.
std::vector<std::uint8_t> encode_chunk_table(std::span<const std::uint64_t> chunk_bytes,
                                             std::span<const std::uint64_t> chunk_points,
                                             bool variable);

}  // namespace lidarmill::laz
