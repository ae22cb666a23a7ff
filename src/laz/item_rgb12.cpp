// RGB12: three 16-bit colour channels, coded byte by byte. Version 2 predicts green and
// blue from the change seen in red, and flags grey (r == g == b) pixels.
#include <array>
#include <cstring>

#include "laz/item_codec.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using detail::clamp_u8;
using detail::fold_u8;

using Rgb = std::array<std::uint16_t, 3>;

Rgb load_rgb(const std::uint8_t* p) {
    return {util::load_le<std::uint16_t>(p), util::load_le<std::uint16_t>(p + 2),
            util::load_le<std::uint16_t>(p + 4)};
}

void store_rgb(std::uint8_t* p, const Rgb& rgb) {
    for (int i = 0; i < 3; ++i) util::store_le(p + 2 * i, rgb[i]);
}

std::int32_t lo(std::uint16_t v) {
    return v & 0xFF;
}
std::int32_t hi(std::uint16_t v) {
    return v >> 8;
}

// ---------------------------------------------------------------- version 1 (decode only)

class Rgb12V1Decoder final : public ItemDecoder {
  public:
    explicit Rgb12V1Decoder(ArithmeticDecoder& dec) : dec_(dec) {}

    void init(const std::uint8_t* first) override {
        byte_used_.init();
        ic_.init_decompressor();
        last_ = load_rgb(first);
    }

    void decode(std::uint8_t* item) override {
        const std::uint32_t sym = dec_.decode_symbol(byte_used_);
        Rgb rgb;
        for (std::uint32_t c = 0; c < 3; ++c) {
            const std::uint32_t low_ctx = 2 * c;
            const std::uint32_t high_ctx = 2 * c + 1;
            std::uint32_t value =
                (sym & (1u << low_ctx))
                    ? static_cast<std::uint32_t>(ic_.decompress(dec_, lo(last_[c]), low_ctx)) &
                          0xFFFF
                    : static_cast<std::uint32_t>(lo(last_[c]));
            if (sym & (1u << high_ctx)) {
                value |= (static_cast<std::uint32_t>(ic_.decompress(dec_, hi(last_[c]), high_ctx))
                          << 8) &
                         0xFFFF;
            } else {
                value |= last_[c] & 0xFF00u;
            }
            rgb[c] = static_cast<std::uint16_t>(value);
        }
        store_rgb(item, rgb);
        last_ = rgb;
    }

  private:
    ArithmeticDecoder& dec_;
    ArithmeticModel byte_used_{64};
    IntegerCompressor ic_{8, 6};
    Rgb last_{};
};

// ---------------------------------------------------------------- version 2

struct Rgb12V2Models {
    explicit Rgb12V2Models(bool compress)
        : byte_used(128, compress), diff{ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress),
                                         ArithmeticModel(256, compress)} {}
    void init() {
        byte_used.init();
        for (auto& m : diff) m.init();
    }
    ArithmeticModel byte_used;
    std::array<ArithmeticModel, 6> diff;  // [2c] low byte, [2c+1] high byte of channel c
};

class Rgb12V2Decoder final : public ItemDecoder {
  public:
    explicit Rgb12V2Decoder(ArithmeticDecoder& dec) : dec_(dec), m_(false) {}

    void init(const std::uint8_t* first) override {
        m_.init();
        last_ = load_rgb(first);
    }

    void decode(std::uint8_t* item) override {
        const std::uint32_t sym = dec_.decode_symbol(m_.byte_used);
        Rgb rgb{};
        std::int32_t red_lo =
            (sym & 1)
                ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[0])) + lo(last_[0]))
                : lo(last_[0]);
        std::int32_t red_hi =
            (sym & 2)
                ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[1])) + hi(last_[0]))
                : hi(last_[0]);
        rgb[0] = static_cast<std::uint16_t>(red_lo | (red_hi << 8));
        if (sym & 64) {
            // Green and blue follow red's change; blue also follows green's.
            std::int32_t diff = red_lo - lo(last_[0]);
            const std::int32_t green_lo =
                (sym & 4) ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[2])) +
                                    clamp_u8(diff + lo(last_[1])))
                          : lo(last_[1]);
            diff = (diff + (green_lo - lo(last_[1]))) / 2;
            const std::int32_t blue_lo =
                (sym & 16) ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[4])) +
                                     clamp_u8(diff + lo(last_[2])))
                           : lo(last_[2]);
            diff = red_hi - hi(last_[0]);
            const std::int32_t green_hi =
                (sym & 8) ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[3])) +
                                    clamp_u8(diff + hi(last_[1])))
                          : hi(last_[1]);
            diff = (diff + (green_hi - hi(last_[1]))) / 2;
            const std::int32_t blue_hi =
                (sym & 32) ? fold_u8(static_cast<std::int32_t>(dec_.decode_symbol(m_.diff[5])) +
                                     clamp_u8(diff + hi(last_[2])))
                           : hi(last_[2]);
            rgb[1] = static_cast<std::uint16_t>(green_lo | (green_hi << 8));
            rgb[2] = static_cast<std::uint16_t>(blue_lo | (blue_hi << 8));
        } else {
            rgb[1] = rgb[0];
            rgb[2] = rgb[0];
        }
        store_rgb(item, rgb);
        last_ = rgb;
    }

  private:
    ArithmeticDecoder& dec_;
    Rgb12V2Models m_;
    Rgb last_{};
};

class Rgb12V2Encoder final : public ItemEncoder {
  public:
    explicit Rgb12V2Encoder(ArithmeticEncoder& enc) : enc_(enc), m_(true) {}

    void init(const std::uint8_t* first) override {
        m_.init();
        last_ = load_rgb(first);
    }

    void encode(const std::uint8_t* item) override {
        const Rgb rgb = load_rgb(item);
        std::uint32_t sym = 0;
        for (std::uint32_t c = 0; c < 3; ++c) {
            if (lo(last_[c]) != lo(rgb[c])) sym |= 1u << (2 * c);
            if (hi(last_[c]) != hi(rgb[c])) sym |= 1u << (2 * c + 1);
        }
        if (rgb[0] != rgb[1] || rgb[0] != rgb[2]) sym |= 64;
        enc_.encode_symbol(m_.byte_used, sym);

        std::int32_t diff_lo = 0;
        std::int32_t diff_hi = 0;
        if (sym & 1) {
            diff_lo = lo(rgb[0]) - lo(last_[0]);
            enc_.encode_symbol(m_.diff[0], fold_u8(diff_lo));
        }
        if (sym & 2) {
            diff_hi = hi(rgb[0]) - hi(last_[0]);
            enc_.encode_symbol(m_.diff[1], fold_u8(diff_hi));
        }
        if (sym & 64) {
            if (sym & 4) {
                encode_corrector(2, lo(rgb[1]), clamp_u8(diff_lo + lo(last_[1])));
            }
            if (sym & 16) {
                diff_lo = (diff_lo + lo(rgb[1]) - lo(last_[1])) / 2;
                encode_corrector(4, lo(rgb[2]), clamp_u8(diff_lo + lo(last_[2])));
            }
            if (sym & 8) {
                encode_corrector(3, hi(rgb[1]), clamp_u8(diff_hi + hi(last_[1])));
            }
            if (sym & 32) {
                diff_hi = (diff_hi + hi(rgb[1]) - hi(last_[1])) / 2;
                encode_corrector(5, hi(rgb[2]), clamp_u8(diff_hi + hi(last_[2])));
            }
        }
        last_ = rgb;
    }

  private:
    void encode_corrector(int model, std::int32_t actual, std::int32_t predicted) {
        enc_.encode_symbol(m_.diff[model], fold_u8(actual - predicted));
    }

    ArithmeticEncoder& enc_;
    Rgb12V2Models m_;
    Rgb last_{};
};

}  // namespace

std::unique_ptr<ItemDecoder> make_rgb12_decoder(std::uint16_t version, ArithmeticDecoder& dec) {
    if (version == 1) return std::make_unique<Rgb12V1Decoder>(dec);
    return std::make_unique<Rgb12V2Decoder>(dec);
}

std::unique_ptr<ItemEncoder> make_rgb12_encoder(ArithmeticEncoder& enc) {
    return std::make_unique<Rgb12V2Encoder>(enc);
}

}  // namespace lidarmill::laz
