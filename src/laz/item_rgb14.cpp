// RGB14 and RGBNIR14 (versions 2-4): colour per scanner channel in one RGB layer (plus
// one NIR layer). The byte-wise difference coding of the triple is RGB12's
// (rgb_coder.hpp), the NIR value's is in item_rgbnir14.cpp. Bit-compatible with LASzip's
// *_RGB14_v3/v4 and *_RGBNIR14_v3/v4.
#include <cstring>

#include "laz/layered_items.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz::layered {
namespace {

void load_color(const std::uint8_t* item, bool with_nir, std::uint16_t* out) {
    for (int i = 0; i < (with_nir ? 4 : 3); ++i)
        out[i] = util::load_le<std::uint16_t>(item + 2 * i);
}

}  // namespace

ColorContext::ColorContext(bool compress, bool with_nir) : rgb(compress) {
    if (with_nir) nir.emplace(compress);
}

void ColorContext::init(const std::uint16_t* seed) {
    rgb.init();
    if (nir) nir->init();
    std::memcpy(last.data(), seed, sizeof(last));
    unused = false;
}

// ------------------------------------------------------------------------ decoder

void ColorDecoder::init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context_index) {
    has_rgb_ = !layers[0].empty();
    if (has_rgb_) dec_rgb_.init(layers[0]);
    has_nir_ = with_nir_ && !layers[1].empty();
    if (has_nir_) dec_nir_.init(layers[1]);
    std::uint16_t seed[4] = {0, 0, 0, 0};
    load_color(first, with_nir_, seed);
    contexts_.start(context_index).init(seed);
}

void ColorDecoder::decode(std::uint8_t* item, std::uint32_t context_index) {
    std::uint16_t* last = contexts_.follow(context_index, revision_);
    ColorContext& c = contexts_.current();

    if (has_rgb_) {
        std::uint16_t rgb[3];
        detail::decode_rgb(dec_rgb_, c.rgb, last, rgb);
        std::memcpy(last, rgb, sizeof(rgb));
    }
    for (int i = 0; i < 3; ++i) util::store_le(item + 2 * i, last[i]);

    if (with_nir_) {
        if (has_nir_) last[3] = decode_nir(dec_nir_, *c.nir, last[3]);
        util::store_le(item + 6, last[3]);
    }
}

// ------------------------------------------------------------------------ encoder

void ColorEncoder::init(const std::uint8_t* first, std::uint32_t context_index) {
    enc_rgb_.reset();
    enc_nir_.reset();
    changed_rgb_ = changed_nir_ = false;
    std::uint16_t seed[4] = {0, 0, 0, 0};
    load_color(first, with_nir_, seed);
    contexts_.start(context_index).init(seed);
}

void ColorEncoder::encode(const std::uint8_t* item, std::uint32_t context_index) {
    std::uint16_t* last = contexts_.follow(context_index, revision_);
    ColorContext& c = contexts_.current();

    std::uint16_t now[4] = {0, 0, 0, 0};
    load_color(item, with_nir_, now);
    if (detail::encode_rgb(enc_rgb_, c.rgb, last, now)) changed_rgb_ = true;
    if (with_nir_ && encode_nir(enc_nir_, *c.nir, last[3], now[3])) changed_nir_ = true;
    std::memcpy(last, now, (with_nir_ ? 4 : 3) * sizeof(std::uint16_t));
}

void ColorEncoder::done() {
    enc_rgb_.done();
    if (with_nir_) enc_nir_.done();
}

std::span<const std::uint8_t> ColorEncoder::layer(std::size_t i) const {
    return i == 0 ? layer_bytes(enc_rgb_, changed_rgb_) : layer_bytes(enc_nir_, changed_nir_);
}

}  // namespace lidarmill::laz::layered
