#pragma once
// Reads the point data region of a LAZ file: chunk table, chunks decoded in parallel,
// records returned in file order.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "las/record_stream.hpp"
#include "laz/chunk_codec.hpp"
#include "laz/laszip_vlr.hpp"
#include "util/byte_source.hpp"
#include "util/file.hpp"

namespace lidarmill::laz {

struct LazPointData {                 // what the LAS container tells the LAZ layer
    std::uint64_t point_data_offset;  // offset_to_point_data from the header
    std::uint64_t point_data_end;     // start of EVLRs, or file size when none
    std::uint64_t point_count;        // from the header
    std::uint8_t point_format;
    std::uint16_t record_length;
    LaszipVlr vlr;
};

// threads: 0 = all cores, 1 = decode in the calling thread. Errors name the file and, for
// chunk data, the chunk ("chunk 3 of 11: ..."). A missing or damaged chunk table of
// fixed-size chunks is worked around by walking the chunks in order (with a warning).
std::unique_ptr<las::RecordReader> make_laz_record_reader(std::shared_ptr<util::File> file,
                                                          const LazPointData& data,
                                                          unsigned threads,
                                                          DecodeScope scope = DecodeScope::all);

// One compressed chunk as located by the chunk table.
struct ChunkLocation {
    std::uint64_t offset = 0;      // absolute file offset
    std::uint64_t byte_count = 0;  // compressed size
    std::uint64_t point_count = 0;
};

// The chunk list of `data` as the chunk table gives it; `problem` says why it could not
// be used (missing, damaged, inconsistent). Compressor 1 gives one chunk without a table.
// Exposed for tests and tools.
struct ChunkTable {
    std::vector<ChunkLocation> chunks;
    std::string problem;  // empty when the table was read fine
};
ChunkTable read_chunk_table(const util::File& file, const LazPointData& data);
ChunkTable read_chunk_table(const util::ByteSource& source, const LazPointData& data);

}  // namespace lidarmill::laz
