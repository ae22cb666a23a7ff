// WAVEPACKET14 (versions 3 and 4): the wave packet block of formats 9 and 10 in one layer.
// laz-perf does not implement it; this follows LASzip's *_WAVEPACKET14_v3/v4.
// Layout: descriptor index (1), byte offset to waveform data (8), packet size (4),
// return point location (4, float), x(t), y(t), z(t) (4 each, float).
#include <cstring>

#include "laz/layered_items.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz::layered {
namespace {

// The float fields are coded through their bit patterns.
struct WavePacket {
    std::uint64_t offset = 0;
    std::uint32_t packet_size = 0;
    std::int32_t return_point = 0;
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 0;
};

WavePacket unpack(const std::uint8_t* item) {
    return {util::load_le<std::uint64_t>(item + 1), util::load_le<std::uint32_t>(item + 9),
            util::load_le<std::int32_t>(item + 13), util::load_le<std::int32_t>(item + 17),
            util::load_le<std::int32_t>(item + 21), util::load_le<std::int32_t>(item + 25)};
}

void pack(std::uint8_t* item, const WavePacket& w) {
    util::store_le(item + 1, w.offset);
    util::store_le(item + 9, w.packet_size);
    util::store_le(item + 13, w.return_point);
    util::store_le(item + 17, w.x);
    util::store_le(item + 21, w.y);
    util::store_le(item + 25, w.z);
}

// How the offset is coded: same as last, last + last packet size, 32-bit difference to
// last, or the full 64-bit value.
enum OffsetKind : std::uint32_t { kSameOffset, kNextPacket, kOffsetDiff, kFullOffset };

}  // namespace

WavePacket14Context::WavePacket14Context(bool compress_models)
    : compress(compress_models),
      packet_index(256, compress_models),
      ic_offset_diff(32),
      ic_packet_size(32),
      ic_return_point(32),
      ic_xyz(32, 3) {
    offset_kind.reserve(4);
    for (int i = 0; i < 4; ++i) offset_kind.emplace_back(4, compress_models);
}

void WavePacket14Context::init(const std::uint8_t* seed) {
    packet_index.init();
    for (auto& m : offset_kind) m.init();
    for (auto* ic : {&ic_offset_diff, &ic_packet_size, &ic_return_point, &ic_xyz}) {
        if (compress) {
            ic->init_compressor();
        } else {
            ic->init_decompressor();
        }
    }
    last_offset_diff = 0;
    last_offset_kind = 0;
    std::memcpy(last.data(), seed, last.size());
    unused = false;
}

// ------------------------------------------------------------------------ decoder

WavePacket14Context& WavePacket14Decoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<WavePacket14Context>(false);
    return *slot;
}

void WavePacket14Decoder::init(LayerBytes layers, const std::uint8_t* first,
                               std::uint32_t context_index) {
    has_layer_ = !layers[0].empty();
    if (has_layer_) dec_.init(layers[0]);
    for (auto& c : contexts_)
        if (c) c->unused = true;
    current_ = context_index;
    context(current_).init(first);
}

void WavePacket14Decoder::decode(std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_[current_]->last.data();
    if (current_ != context_index) {
        current_ = context_index;
        WavePacket14Context& next = context(context_index);
        if (next.unused) {
            next.init(last);
            last = next.last.data();
        } else if (revision_ == Revision::v4) {
            last = next.last.data();
        }
    }
    if (!has_layer_) {
        std::memcpy(item, last, kSize);
        return;
    }
    WavePacket14Context& c = *contexts_[current_];

    item[0] = static_cast<std::uint8_t>(dec_.decode_symbol(c.packet_index));
    const WavePacket before = unpack(last);
    WavePacket now;
    c.last_offset_kind = dec_.decode_symbol(c.offset_kind[c.last_offset_kind]);
    switch (c.last_offset_kind) {
        case kSameOffset:
            now.offset = before.offset;
            break;
        case kNextPacket:
            now.offset = before.offset + before.packet_size;
            break;
        case kOffsetDiff:
            c.last_offset_diff = c.ic_offset_diff.decompress(dec_, c.last_offset_diff);
            now.offset = before.offset +
                         static_cast<std::uint64_t>(static_cast<std::int64_t>(c.last_offset_diff));
            break;
        default:
            now.offset = dec_.read_int64();
            break;
    }
    now.packet_size = static_cast<std::uint32_t>(
        c.ic_packet_size.decompress(dec_, static_cast<std::int32_t>(before.packet_size)));
    now.return_point = c.ic_return_point.decompress(dec_, before.return_point);
    now.x = c.ic_xyz.decompress(dec_, before.x, 0);
    now.y = c.ic_xyz.decompress(dec_, before.y, 1);
    now.z = c.ic_xyz.decompress(dec_, before.z, 2);
    pack(item, now);
    std::memcpy(last, item, kSize);
}

// ------------------------------------------------------------------------ encoder

WavePacket14Context& WavePacket14Encoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<WavePacket14Context>(true);
    return *slot;
}

void WavePacket14Encoder::init(const std::uint8_t* first, std::uint32_t context_index) {
    enc_.reset();
    changed_ = false;
    for (auto& c : contexts_)
        if (c) c->unused = true;
    current_ = context_index;
    context(current_).init(first);
}

void WavePacket14Encoder::encode(const std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_[current_]->last.data();
    if (current_ != context_index) {
        current_ = context_index;
        WavePacket14Context& next = context(context_index);
        if (next.unused) {
            next.init(last);
            last = next.last.data();
        } else if (revision_ == Revision::v4) {
            last = next.last.data();
        }
    }
    WavePacket14Context& c = *contexts_[current_];
    if (std::memcmp(item, last, kSize) != 0) changed_ = true;

    enc_.encode_symbol(c.packet_index, item[0]);
    const WavePacket before = unpack(last);
    const WavePacket now = unpack(item);

    const auto diff_64 = static_cast<std::int64_t>(now.offset - before.offset);
    const auto diff_32 = static_cast<std::int32_t>(diff_64);
    std::uint32_t kind = kFullOffset;
    if (diff_64 == diff_32) {
        if (diff_32 == 0) {
            kind = kSameOffset;
        } else if (now.offset == before.offset + before.packet_size) {
            // LASzip compares the 32-bit difference with the size cast to int, which
            // differs only for sizes >= 2^31 (where its decoder would go wrong).
            kind = kNextPacket;
        } else {
            kind = kOffsetDiff;
        }
    }
    enc_.encode_symbol(c.offset_kind[c.last_offset_kind], kind);
    c.last_offset_kind = kind;
    if (kind == kOffsetDiff) {
        c.ic_offset_diff.compress(enc_, c.last_offset_diff, diff_32);
        c.last_offset_diff = diff_32;
    } else if (kind == kFullOffset) {
        enc_.write_int64(now.offset);
    }

    c.ic_packet_size.compress(enc_, static_cast<std::int32_t>(before.packet_size),
                              static_cast<std::int32_t>(now.packet_size));
    c.ic_return_point.compress(enc_, before.return_point, now.return_point);
    c.ic_xyz.compress(enc_, before.x, now.x, 0);
    c.ic_xyz.compress(enc_, before.y, now.y, 1);
    c.ic_xyz.compress(enc_, before.z, now.z, 2);
    std::memcpy(last, item, kSize);
}

void WavePacket14Encoder::done() {
    enc_.done();
}

std::span<const std::uint8_t> WavePacket14Encoder::layer(std::size_t) const {
    if (!changed_) return {};
    return enc_.bytes();
}

}  // namespace lidarmill::laz::layered
