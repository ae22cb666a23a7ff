#pragma once
// One LAZ chunk at a time: the unit that can be decoded or encoded independently (and so
// in parallel). Records are always the on-disk LAS record layout.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "laz/laszip_vlr.hpp"

namespace lidarmill::laz {

class ChunkDecoder {
  public:
    virtual ~ChunkDecoder() = default;
    // `chunk` is exactly the compressed bytes of one chunk; writes point_count records of
    // record_length bytes into `out`. Throws util::InputError("", "...") describing the problem.
    virtual void decode(std::span<const std::uint8_t> chunk, std::size_t point_count,
                        std::span<std::uint8_t> out) = 0;
    // Bytes of `chunk` the last decode() used, when the format tells (pointwise chunks end
    // where the arithmetic decoder stops); lets a reader find chunk ends without a table.
    virtual std::optional<std::size_t> consumed_bytes() const { return std::nullopt; }
};

class ChunkEncoder {
  public:
    virtual ~ChunkEncoder() = default;
    virtual std::vector<std::uint8_t> encode(std::span<const std::uint8_t> records,
                                             std::size_t point_count) = 0;
};

// What a decoder must restore. `positions`: coordinates, return number and count, scanner
// channel and classification; the other fields may hold any value. Layered chunks
// (compressor 3) then skip the other layers, which roughly halves the decoding work;
// pointwise chunks interleave all fields and are decoded whole.
enum class DecodeScope { all, positions };

// Compressor 1 and 2 (point formats 0-5) are handled here; compressor 3 is delegated to
// the layered codec. Throw util::InputError("", ...) for what cannot be handled.
std::unique_ptr<ChunkDecoder> make_chunk_decoder(const LaszipVlr& vlr, std::uint8_t point_format,
                                                 std::uint16_t record_length,
                                                 DecodeScope scope = DecodeScope::all);
std::unique_ptr<ChunkEncoder> make_chunk_encoder(const LaszipVlr& vlr, std::uint8_t point_format,
                                                 std::uint16_t record_length);

}  // namespace lidarmill::laz
