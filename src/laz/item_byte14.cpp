// BYTE14 (versions 2-4): the extra bytes of formats 6-10, one layer per byte, each byte
// coded as its difference (mod 256) to the channel's last value. Bit-compatible with
// LASzip's *_BYTE14_v3/v4.
#include <algorithm>
#include <cstring>

#include "laz/layered_items.hpp"

namespace lidarmill::laz::layered {

Byte14Context::Byte14Context(std::size_t count, bool compress)
    : last(count, 0), models(detail::make_models(count, 256, compress)) {}

void Byte14Context::init(const std::uint8_t* seed) {
    for (auto& m : models) m.init();
    std::memcpy(last.data(), seed, last.size());
    unused = false;
}

// ------------------------------------------------------------------------ decoder

Byte14Decoder::Byte14Decoder(std::size_t count, Revision revision)
    : Byte14Item(count, revision, false), dec_(count), has_layer_(count, 0) {}

void Byte14Decoder::init(LayerBytes layers, const std::uint8_t* first,
                         std::uint32_t context_index) {
    for (std::size_t i = 0; i < count_; ++i) {
        has_layer_[i] = layers[i].empty() ? 0 : 1;
        if (has_layer_[i]) dec_[i].init(layers[i]);
    }
    contexts_.start(context_index).init(first);
}

void Byte14Decoder::decode(std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_.follow(context_index, revision_);
    Byte14Context& c = contexts_.current();
    for (std::size_t i = 0; i < count_; ++i) {
        if (has_layer_[i])
            last[i] = static_cast<std::uint8_t>(last[i] + dec_[i].decode_symbol(c.models[i]));
        item[i] = last[i];
    }
}

// ------------------------------------------------------------------------ encoder

Byte14Encoder::Byte14Encoder(std::size_t count, Revision revision)
    : Byte14Item(count, revision, true), enc_(count), changed_(count, 0) {}

void Byte14Encoder::init(const std::uint8_t* first, std::uint32_t context_index) {
    for (auto& e : enc_) e.reset();
    std::fill(changed_.begin(), changed_.end(), 0);
    contexts_.start(context_index).init(first);
}

void Byte14Encoder::encode(const std::uint8_t* item, std::uint32_t context_index) {
    std::uint8_t* last = contexts_.follow(context_index, revision_);
    // Three passes over the bytes rather than one: with the bookkeeping stores out of the
    // coding loop, the 48 or so independent coders overlap far better (bench
    // BM_Byte14Encode). Plain pointers in locals, because every byte the coders store could alias
    // the vectors' bookkeeping, which the compiler would otherwise reload per byte.
    ArithmeticModel* models = contexts_.current().models.data();
    ArithmeticEncoder* enc = enc_.data();
    const std::size_t count = count_;
    for (std::size_t i = 0; i < count; ++i)
        enc[i].encode_symbol(models[i], static_cast<std::uint8_t>(item[i] - last[i]));
    std::uint8_t* changed = changed_.data();
    for (std::size_t i = 0; i < count; ++i)
        changed[i] |= static_cast<std::uint8_t>(item[i] != last[i]);
    std::memcpy(last, item, count);
}

void Byte14Encoder::done() {
    for (auto& e : enc_) e.done();
}

std::span<const std::uint8_t> Byte14Encoder::layer(std::size_t i) const {
    return layer_bytes(enc_[i], changed_[i] != 0);
}

}  // namespace lidarmill::laz::layered
