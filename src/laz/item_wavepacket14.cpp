// WAVEPACKET14 (versions 3 and 4): the wave packet block of formats 9 and 10 in one layer,
// per scanner channel. laz-perf does not implement it; this follows LASzip's
// *_WAVEPACKET14_v3/v4, whose descriptor coding is WAVEPACKET13's (wave_packet_coder.hpp).
#include <cstring>

#include "laz/layered_items.hpp"

namespace lidarmill::laz::layered {

using detail::WavePacket;

WavePacket14Context::WavePacket14Context(bool compress) : models(compress) {}

void WavePacket14Context::init(const std::uint8_t* seed) {
    models.init();
    std::memcpy(last.data(), seed, last.size());
    unused = false;
}

// ------------------------------------------------------------------------ decoder

void WavePacket14Decoder::init(LayerBytes layers, const std::uint8_t* first,
                               std::uint32_t context_index) {
    has_layer_ = !layers[0].empty();
    if (has_layer_) dec_.init(layers[0]);
    contexts_.start(context_index).init(first);
}

void WavePacket14Decoder::decode(std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_.follow(context_index, revision_);
    if (!has_layer_) {
        std::memcpy(item, last, kSize);
        return;
    }
    detail::decode_wave_packet(dec_, contexts_.current().models, WavePacket::load(last), item);
    std::memcpy(last, item, kSize);
}

// ------------------------------------------------------------------------ encoder

void WavePacket14Encoder::init(const std::uint8_t* first, std::uint32_t context_index) {
    enc_.reset();
    changed_ = false;
    contexts_.start(context_index).init(first);
}

void WavePacket14Encoder::encode(const std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_.follow(context_index, revision_);
    if (std::memcmp(item, last, kSize) != 0) changed_ = true;
    detail::encode_wave_packet<detail::NextPacketTest::offsets>(enc_, contexts_.current().models,
                                                                WavePacket::load(last), item);
    std::memcpy(last, item, kSize);
}

void WavePacket14Encoder::done() {
    enc_.done();
}

std::span<const std::uint8_t> WavePacket14Encoder::layer(std::size_t) const {
    return layer_bytes(enc_, changed_);
}

}  // namespace lidarmill::laz::layered
