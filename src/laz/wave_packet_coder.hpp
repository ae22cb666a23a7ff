#pragma once
// The coding of a 29-byte wave packet descriptor, shared by WAVEPACKET13 (pointwise,
// formats 4 and 5) and the layered WAVEPACKET14 (formats 9 and 10): LASzip codes both
// the same way, only the framing around them differs. Layout: descriptor index (1), byte
// offset to the waveform data (8), packet size (4), return point location (4, float),
// x(t), y(t), z(t) (4 each, float); the floats are coded through their bit patterns.
#include <array>
#include <cstdint>

#include "laz/arithmetic.hpp"
#include "laz/coder_utils.hpp"
#include "laz/integer_compressor.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz::detail {

// The fields after the descriptor index.
struct WavePacket {
    std::uint64_t offset = 0;
    std::uint32_t packet_size = 0;
    std::int32_t return_point = 0;
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 0;

    // `item` is the whole 29-byte descriptor.
    static WavePacket load(const std::uint8_t* item) {
        return {util::load_le<std::uint64_t>(item + 1), util::load_le<std::uint32_t>(item + 9),
                util::load_le<std::int32_t>(item + 13), util::load_le<std::int32_t>(item + 17),
                util::load_le<std::int32_t>(item + 21), util::load_le<std::int32_t>(item + 25)};
    }
    void store(std::uint8_t* item) const {
        util::store_le(item + 1, offset);
        util::store_le(item + 9, packet_size);
        util::store_le(item + 13, return_point);
        util::store_le(item + 17, x);
        util::store_le(item + 21, y);
        util::store_le(item + 25, z);
    }
};

// How the offset is coded: same as last, last + last packet size, 32-bit difference to
// last, or the full 64-bit value.
enum WaveOffsetKind : std::uint32_t { kSameOffset, kNextPacket, kOffsetDiff, kFullOffset };

// How an encoder recognises a packet that starts where the last one ended. LASzip (and
// WAVEPACKET13, which follows it) compares the 32-bit offset difference with the size
// cast to int; WAVEPACKET14 compares the offsets. They differ only for sizes >= 2^31,
// where LASzip's decoder would go wrong.
enum class NextPacketTest { signed_size, offsets };

// The models and offset predictions an item's encoder and decoder share.
struct WavePacketModels {
    explicit WavePacketModels(bool compress)
        : compress(compress),
          packet_index(256, compress),
          offset_kind{ArithmeticModel(4, compress), ArithmeticModel(4, compress),
                      ArithmeticModel(4, compress), ArithmeticModel(4, compress)} {}

    void init() {
        packet_index.init();
        for (auto& m : offset_kind) m.init();
        for (IntegerCompressor* ic : {&ic_offset_diff, &ic_packet_size, &ic_return_point, &ic_xyz})
            ic->init(compress);
        last_offset_diff = 0;
        last_offset_kind = 0;
    }

    bool compress;
    ArithmeticModel packet_index;
    std::array<ArithmeticModel, 4> offset_kind;  // context: the previous offset kind
    IntegerCompressor ic_offset_diff{32};
    IntegerCompressor ic_packet_size{32};
    IntegerCompressor ic_return_point{32};
    IntegerCompressor ic_xyz{32, 3};
    std::int32_t last_offset_diff = 0;
    std::uint32_t last_offset_kind = 0;
};

// Decodes the next descriptor into `item` (all 29 bytes); returns its fields.
inline WavePacket decode_wave_packet(ArithmeticDecoder& dec, WavePacketModels& m,
                                     const WavePacket& last, std::uint8_t* item) {
    item[0] = static_cast<std::uint8_t>(dec.decode_symbol(m.packet_index));
    WavePacket now;
    m.last_offset_kind = dec.decode_symbol(m.offset_kind[m.last_offset_kind]);
    switch (m.last_offset_kind) {
        case kSameOffset:
            now.offset = last.offset;
            break;
        case kNextPacket:
            now.offset = last.offset + last.packet_size;
            break;
        case kOffsetDiff:
            m.last_offset_diff = m.ic_offset_diff.decompress(dec, m.last_offset_diff);
            now.offset = last.offset +
                         static_cast<std::uint64_t>(static_cast<std::int64_t>(m.last_offset_diff));
            break;
        default:
            now.offset = dec.read_int64();
            break;
    }
    now.packet_size = static_cast<std::uint32_t>(
        m.ic_packet_size.decompress(dec, static_cast<std::int32_t>(last.packet_size)));
    now.return_point = m.ic_return_point.decompress(dec, last.return_point);
    now.x = m.ic_xyz.decompress(dec, last.x, 0);
    now.y = m.ic_xyz.decompress(dec, last.y, 1);
    now.z = m.ic_xyz.decompress(dec, last.z, 2);
    now.store(item);
    return now;
}

// Encodes the descriptor `item` (all 29 bytes); returns its fields.
template <NextPacketTest kNextPacketTest>
WavePacket encode_wave_packet(ArithmeticEncoder& enc, WavePacketModels& m, const WavePacket& last,
                              const std::uint8_t* item) {
    enc.encode_symbol(m.packet_index, item[0]);
    const WavePacket now = WavePacket::load(item);

    const auto diff_64 = static_cast<std::int64_t>(now.offset - last.offset);
    const auto diff_32 = static_cast<std::int32_t>(diff_64);
    std::uint32_t kind = kFullOffset;
    if (fits_i32(diff_64)) {
        const bool next_packet = kNextPacketTest == NextPacketTest::signed_size
                                     ? diff_32 == static_cast<std::int32_t>(last.packet_size)
                                     : now.offset == last.offset + last.packet_size;
        if (diff_32 == 0) {
            kind = kSameOffset;
        } else if (next_packet) {
            kind = kNextPacket;
        } else {
            kind = kOffsetDiff;
        }
    }
    enc.encode_symbol(m.offset_kind[m.last_offset_kind], kind);
    m.last_offset_kind = kind;
    if (kind == kOffsetDiff) {
        m.ic_offset_diff.compress(enc, m.last_offset_diff, diff_32);
        m.last_offset_diff = diff_32;
    } else if (kind == kFullOffset) {
        enc.write_int64(now.offset);
    }

    m.ic_packet_size.compress(enc, static_cast<std::int32_t>(last.packet_size),
                              static_cast<std::int32_t>(now.packet_size));
    m.ic_return_point.compress(enc, last.return_point, now.return_point);
    m.ic_xyz.compress(enc, last.x, now.x, 0);
    m.ic_xyz.compress(enc, last.y, now.y, 1);
    m.ic_xyz.compress(enc, last.z, now.z, 2);
    return now;
}

}  // namespace lidarmill::laz::detail
