#pragma once
// LASzip's layered chunk compression (compressor 3) for point formats 6-10: items
// POINT14, RGB14, RGBNIR14, WAVEPACKET14 and BYTE14, versions 2-4 (2 codes as 3). The
// encoder codes the versions its VLR names; LASzip 3.4 writes version 3.
//
// A chunk is: the first record raw; uint32 point count; for every item in VLR order the
// uint32 byte count of each of its layers; then the layers' bytes in the same order.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "laz/chunk_codec.hpp"
#include "laz/laszip_vlr.hpp"

namespace lidarmill::laz {

// All three throw util::InputError("", ...) when the item list does not describe a
// layered record of `record_length` bytes (POINT14 first, known items, sizes adding up).

// Layers per chunk of this item list (the length of a chunk's table of layer sizes).
std::size_t layered_layer_count(const LaszipVlr& vlr, std::uint16_t record_length);
std::unique_ptr<ChunkDecoder> make_layered_chunk_decoder(const LaszipVlr& vlr,
                                                         std::uint16_t record_length,
                                                         DecodeScope scope = DecodeScope::all);
std::unique_ptr<ChunkEncoder> make_layered_chunk_encoder(const LaszipVlr& vlr,
                                                         std::uint16_t record_length);

}  // namespace lidarmill::laz
