// RGB14 and RGBNIR14 (versions 2-4): colour per scanner channel in one RGB layer (plus
// one NIR layer). The byte-wise difference coding of the triple lives here, the NIR
// value's in item_rgbnir14.cpp. Bit-compatible with LASzip's *_RGB14_v3/v4 and
// *_RGBNIR14_v3/v4.
#include <cstring>

#include "laz/layered_items.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz::layered {
namespace {

// Differences and corrections travel as bytes modulo 256.
std::uint32_t fold(int v) {
    return static_cast<std::uint32_t>(v) & 0xFFu;
}

int clamp_byte(int v) {
    return v <= 0 ? 0 : (v >= 255 ? 255 : v);
}

int low(std::uint16_t v) {
    return v & 0xFF;
}
int high(std::uint16_t v) {
    return v >> 8;
}

void load_color(const std::uint8_t* item, bool with_nir, std::uint16_t* out) {
    for (int i = 0; i < (with_nir ? 4 : 3); ++i)
        out[i] = util::load_le<std::uint16_t>(item + 2 * i);
}

}  // namespace

RgbModels::RgbModels(bool compress) : byte_used(128, compress) {
    diff.reserve(6);
    for (int i = 0; i < 6; ++i) diff.emplace_back(256, compress);
}

void RgbModels::init() {
    byte_used.init();
    for (auto& m : diff) m.init();
}

ColorContext::ColorContext(bool compress, bool with_nir) : rgb(compress) {
    if (with_nir) nir.emplace(compress);
}

void ColorContext::init(const std::uint16_t* seed) {
    rgb.init();
    if (nir) nir->init();
    std::memcpy(last.data(), seed, sizeof(last));
    unused = false;
}

// Symbol bits 0-5: which byte (R low, R high, G low, G high, B low, B high) differs from
// the last value; bit 6: G and B are not simply copies of R. G and B are predicted from
// the last value plus R's change (B from the mean of R's and G's change).
void decode_rgb(ArithmeticDecoder& dec, RgbModels& m, const std::uint16_t* last,
                std::uint16_t* out) {
    const std::uint32_t sym = dec.decode_symbol(m.byte_used);
    int r_low = low(last[0]);
    int r_high = high(last[0]);
    if (sym & (1u << 0))
        r_low = static_cast<int>(fold(static_cast<int>(dec.decode_symbol(m.diff[0])) + r_low));
    if (sym & (1u << 1))
        r_high = static_cast<int>(fold(static_cast<int>(dec.decode_symbol(m.diff[1])) + r_high));
    out[0] = static_cast<std::uint16_t>(r_low | (r_high << 8));
    if (!(sym & (1u << 6))) {
        out[1] = out[2] = out[0];
        return;
    }

    int diff = r_low - low(last[0]);
    int g_low = low(last[1]);
    int b_low = low(last[2]);
    if (sym & (1u << 2)) {
        g_low = static_cast<int>(
            fold(static_cast<int>(dec.decode_symbol(m.diff[2])) + clamp_byte(diff + low(last[1]))));
    }
    if (sym & (1u << 4)) {
        diff = (diff + (g_low - low(last[1]))) / 2;
        b_low = static_cast<int>(
            fold(static_cast<int>(dec.decode_symbol(m.diff[4])) + clamp_byte(diff + low(last[2]))));
    }

    diff = r_high - high(last[0]);
    int g_high = high(last[1]);
    int b_high = high(last[2]);
    if (sym & (1u << 3)) {
        g_high = static_cast<int>(fold(static_cast<int>(dec.decode_symbol(m.diff[3])) +
                                       clamp_byte(diff + high(last[1]))));
    }
    if (sym & (1u << 5)) {
        diff = (diff + (g_high - high(last[1]))) / 2;
        b_high = static_cast<int>(fold(static_cast<int>(dec.decode_symbol(m.diff[5])) +
                                       clamp_byte(diff + high(last[2]))));
    }
    out[1] = static_cast<std::uint16_t>(g_low | (g_high << 8));
    out[2] = static_cast<std::uint16_t>(b_low | (b_high << 8));
}

bool encode_rgb(ArithmeticEncoder& enc, RgbModels& m, const std::uint16_t* last,
                const std::uint16_t* now) {
    std::uint32_t sym = 0;
    for (int i = 0; i < 3; ++i) {
        if (low(last[i]) != low(now[i])) sym |= 1u << (2 * i);
        if (high(last[i]) != high(now[i])) sym |= 1u << (2 * i + 1);
    }
    const bool grey = low(now[0]) == low(now[1]) && low(now[0]) == low(now[2]) &&
                      high(now[0]) == high(now[1]) && high(now[0]) == high(now[2]);
    if (!grey) sym |= 1u << 6;
    enc.encode_symbol(m.byte_used, sym);

    int diff_low = 0;
    int diff_high = 0;
    if (sym & (1u << 0)) {
        diff_low = low(now[0]) - low(last[0]);
        enc.encode_symbol(m.diff[0], fold(diff_low));
    }
    if (sym & (1u << 1)) {
        diff_high = high(now[0]) - high(last[0]);
        enc.encode_symbol(m.diff[1], fold(diff_high));
    }
    if (sym & (1u << 6)) {
        if (sym & (1u << 2)) {
            enc.encode_symbol(m.diff[2], fold(low(now[1]) - clamp_byte(diff_low + low(last[1]))));
        }
        if (sym & (1u << 4)) {
            diff_low = (diff_low + low(now[1]) - low(last[1])) / 2;
            enc.encode_symbol(m.diff[4], fold(low(now[2]) - clamp_byte(diff_low + low(last[2]))));
        }
        if (sym & (1u << 3)) {
            enc.encode_symbol(m.diff[3],
                              fold(high(now[1]) - clamp_byte(diff_high + high(last[1]))));
        }
        if (sym & (1u << 5)) {
            diff_high = (diff_high + high(now[1]) - high(last[1])) / 2;
            enc.encode_symbol(m.diff[5],
                              fold(high(now[2]) - clamp_byte(diff_high + high(last[2]))));
        }
    }
    return sym != 0;
}

// ------------------------------------------------------------------------ decoder

ColorContext& ColorDecoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<ColorContext>(false, with_nir_);
    return *slot;
}

void ColorDecoder::init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context_index) {
    has_rgb_ = !layers[0].empty();
    if (has_rgb_) dec_rgb_.init(layers[0]);
    has_nir_ = with_nir_ && !layers[1].empty();
    if (has_nir_) dec_nir_.init(layers[1]);
    for (auto& c : contexts_)
        if (c) c->unused = true;
    std::uint16_t seed[4] = {0, 0, 0, 0};
    load_color(first, with_nir_, seed);
    current_ = context_index;
    context(current_).init(seed);
}

void ColorDecoder::decode(std::uint8_t* item, std::uint32_t context_index) {
    std::uint16_t* last = contexts_[current_]->last.data();
    if (current_ != context_index) {
        current_ = context_index;
        ColorContext& next = context(context_index);
        if (next.unused) {
            next.init(last);
            last = next.last.data();
        } else if (revision_ == Revision::v4) {
            last = next.last.data();
        }
    }
    ColorContext& c = *contexts_[current_];

    if (has_rgb_) {
        std::uint16_t rgb[3];
        decode_rgb(dec_rgb_, c.rgb, last, rgb);
        std::memcpy(last, rgb, sizeof(rgb));
    }
    for (int i = 0; i < 3; ++i) util::store_le(item + 2 * i, last[i]);

    if (with_nir_) {
        if (has_nir_) last[3] = decode_nir(dec_nir_, *c.nir, last[3]);
        util::store_le(item + 6, last[3]);
    }
}

// ------------------------------------------------------------------------ encoder

ColorContext& ColorEncoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<ColorContext>(true, with_nir_);
    return *slot;
}

void ColorEncoder::init(const std::uint8_t* first, std::uint32_t context_index) {
    enc_rgb_.reset();
    enc_nir_.reset();
    changed_rgb_ = changed_nir_ = false;
    for (auto& c : contexts_)
        if (c) c->unused = true;
    std::uint16_t seed[4] = {0, 0, 0, 0};
    load_color(first, with_nir_, seed);
    current_ = context_index;
    context(current_).init(seed);
}

void ColorEncoder::encode(const std::uint8_t* item, std::uint32_t context_index) {
    std::uint16_t* last = contexts_[current_]->last.data();
    if (current_ != context_index) {
        current_ = context_index;
        ColorContext& next = context(context_index);
        if (next.unused) {
            next.init(last);
            last = next.last.data();
        } else if (revision_ == Revision::v4) {
            last = next.last.data();
        }
    }
    ColorContext& c = *contexts_[current_];

    std::uint16_t now[4] = {0, 0, 0, 0};
    load_color(item, with_nir_, now);
    if (encode_rgb(enc_rgb_, c.rgb, last, now)) changed_rgb_ = true;
    if (with_nir_ && encode_nir(enc_nir_, *c.nir, last[3], now[3])) changed_nir_ = true;
    std::memcpy(last, now, (with_nir_ ? 4 : 3) * sizeof(std::uint16_t));
}

void ColorEncoder::done() {
    enc_rgb_.done();
    if (with_nir_) enc_nir_.done();
}

std::span<const std::uint8_t> ColorEncoder::layer(std::size_t i) const {
    if (i == 0)
        return changed_rgb_ ? std::span<const std::uint8_t>(enc_rgb_.bytes())
                            : std::span<const std::uint8_t>();
    return changed_nir_ ? std::span<const std::uint8_t>(enc_nir_.bytes())
                        : std::span<const std::uint8_t>();
}

}  // namespace lidarmill::laz::layered
