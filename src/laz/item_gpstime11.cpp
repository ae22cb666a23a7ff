// GPSTIME11: the 8-byte GPS time double, coded through its bit pattern as a 64-bit
// integer. Version 2 predicts the difference as a multiple of the previous difference
// and keeps four time sequences so interleaved flight lines stay cheap.
#include "laz/gps_time_coder.hpp"
#include "laz/item_codec.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using detail::wrap_add64;
using detail::wrap_mul;
using util::load_le;
using util::store_le;

// ---------------------------------------------------------------- version 1 (decode only)

class GpsTime11V1Decoder final : public ItemDecoder {
  public:
    explicit GpsTime11V1Decoder(ArithmeticDecoder& dec) : dec_(dec) {}

    void init(const std::uint8_t* first) override {
        last_diff_ = 0;
        multi_extreme_counter_ = 0;
        multi_.init();
        zero_diff_.init();
        ic_.init_decompressor();
        last_ = load_le<std::int64_t>(first);
    }

    void decode(std::uint8_t* item) override {
        if (last_diff_ == 0) {
            const std::uint32_t multi = dec_.decode_symbol(zero_diff_);
            if (multi == 1) {
                last_diff_ = ic_.decompress(dec_, 0, 0);
                last_ = wrap_add64(last_, last_diff_);
            } else if (multi == 2) {
                last_ = static_cast<std::int64_t>(dec_.read_int64());
            }
        } else {
            const std::int32_t multi = static_cast<std::int32_t>(dec_.decode_symbol(multi_));
            if (multi < kMultiMax - 2) {
                std::int32_t diff;
                if (multi == 1) {
                    diff = ic_.decompress(dec_, last_diff_, 1);
                    last_diff_ = diff;
                    multi_extreme_counter_ = 0;
                } else if (multi == 0) {
                    diff = ic_.decompress(dec_, last_diff_ / 4, 2);
                    count_extreme(diff);
                } else if (multi < 10) {
                    diff = ic_.decompress(dec_, wrap_mul(multi, last_diff_), 3);
                } else if (multi < 50) {
                    diff = ic_.decompress(dec_, wrap_mul(multi, last_diff_), 4);
                } else {
                    diff = ic_.decompress(dec_, wrap_mul(multi, last_diff_), 5);
                    if (multi == kMultiMax - 3) count_extreme(diff);
                }
                last_ = wrap_add64(last_, diff);
            } else if (multi < kMultiMax - 1) {
                last_ = static_cast<std::int64_t>(dec_.read_int64());
            }
        }
        store_le(item, last_);
    }

  private:
    static constexpr std::int32_t kMultiMax = 512;

    // After several outliers in a row the outlier becomes the new reference difference.
    void count_extreme(std::int32_t diff) {
        if (++multi_extreme_counter_ > 3) {
            last_diff_ = diff;
            multi_extreme_counter_ = 0;
        }
    }

    ArithmeticDecoder& dec_;
    ArithmeticModel multi_{kMultiMax};
    ArithmeticModel zero_diff_{3};
    IntegerCompressor ic_{32, 6};
    std::int32_t last_diff_ = 0;
    std::int32_t multi_extreme_counter_ = 0;
    std::int64_t last_ = 0;
};

// ---------------------------------------------------------------- version 2

using GpsTime11V2Coder = detail::GpsTimeCoder<detail::Gpstime11Codes>;

class GpsTime11V2Decoder final : public ItemDecoder {
  public:
    explicit GpsTime11V2Decoder(ArithmeticDecoder& dec) : dec_(dec), coder_(false) {}

    void init(const std::uint8_t* first) override { coder_.init(load_le<std::uint64_t>(first)); }

    void decode(std::uint8_t* item) override {
        coder_.decode(dec_);
        store_le(item, coder_.time());
    }

  private:
    ArithmeticDecoder& dec_;
    GpsTime11V2Coder coder_;
};

class GpsTime11V2Encoder final : public ItemEncoder {
  public:
    explicit GpsTime11V2Encoder(ArithmeticEncoder& enc) : enc_(enc), coder_(true) {}

    void init(const std::uint8_t* first) override { coder_.init(load_le<std::uint64_t>(first)); }

    void encode(const std::uint8_t* item) override {
        coder_.encode(enc_, load_le<std::uint64_t>(item));
    }

  private:
    ArithmeticEncoder& enc_;
    GpsTime11V2Coder coder_;
};

}  // namespace

std::unique_ptr<ItemDecoder> make_gpstime11_decoder(std::uint16_t version, ArithmeticDecoder& dec) {
    if (version == 1) return std::make_unique<GpsTime11V1Decoder>(dec);
    return std::make_unique<GpsTime11V2Decoder>(dec);
}

std::unique_ptr<ItemEncoder> make_gpstime11_encoder(ArithmeticEncoder& enc) {
    return std::make_unique<GpsTime11V2Encoder>(enc);
}

}  // namespace lidarmill::laz
