// RGB12: three 16-bit colour channels, coded byte by byte. Version 2 predicts green and
// blue from the change seen in red, and flags grey (r == g == b) pixels; its triple
// coding is shared with RGB14 (rgb_coder.hpp).
#include <array>

#include "laz/item_codec.hpp"
#include "laz/rgb_coder.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using Rgb = std::array<std::uint16_t, 3>;

Rgb load_rgb(const std::uint8_t* p) {
    return {util::load_le<std::uint16_t>(p), util::load_le<std::uint16_t>(p + 2),
            util::load_le<std::uint16_t>(p + 4)};
}

void store_rgb(std::uint8_t* p, const Rgb& rgb) {
    for (int i = 0; i < 3; ++i) util::store_le(p + 2 * i, rgb[i]);
}

using detail::high_byte;
using detail::low_byte;

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
            std::uint32_t value = (sym & (1u << low_ctx))
                                      ? static_cast<std::uint32_t>(
                                            ic_.decompress(dec_, low_byte(last_[c]), low_ctx)) &
                                            0xFFFF
                                      : static_cast<std::uint32_t>(low_byte(last_[c]));
            if (sym & (1u << high_ctx)) {
                value |=
                    (static_cast<std::uint32_t>(ic_.decompress(dec_, high_byte(last_[c]), high_ctx))
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

// The models and last colour the v2 encoder and decoder must evolve identically.
struct Rgb12V2State {
    explicit Rgb12V2State(bool compress) : models(compress) {}
    void init(const std::uint8_t* first) {
        models.init();
        last = load_rgb(first);
    }

    detail::RgbModels models;
    Rgb last{};
};

class Rgb12V2Decoder final : public ItemDecoder {
  public:
    explicit Rgb12V2Decoder(ArithmeticDecoder& dec) : dec_(dec), s_(false) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void decode(std::uint8_t* item) override {
        Rgb rgb;
        detail::decode_rgb(dec_, s_.models, s_.last.data(), rgb.data());
        store_rgb(item, rgb);
        s_.last = rgb;
    }

  private:
    ArithmeticDecoder& dec_;
    Rgb12V2State s_;
};

class Rgb12V2Encoder final : public ItemEncoder {
  public:
    explicit Rgb12V2Encoder(ArithmeticEncoder& enc) : enc_(enc), s_(true) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void encode(const std::uint8_t* item) override {
        const Rgb rgb = load_rgb(item);
        detail::encode_rgb(enc_, s_.models, s_.last.data(), rgb.data());
        s_.last = rgb;
    }

  private:
    ArithmeticEncoder& enc_;
    Rgb12V2State s_;
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
