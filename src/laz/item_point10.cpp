// POINT10: the 20-byte core of point formats 0-5 (x, y, z, intensity, return bits,
// classification, scan angle, user data, point source id).
#include <array>
#include <cstring>

#include "laz/item_codec.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using detail::wrap_add;
using detail::wrap_sub;
using util::load_le;
using util::store_le;

// Field offsets inside the 20-byte record.
constexpr int kX = 0, kY = 4, kZ = 8, kIntensity = 12, kReturnByte = 14, kClass = 15,
              kScanAngle = 16, kUserData = 17, kSourceId = 18;

std::uint32_t return_number(const std::uint8_t* p) {
    return p[kReturnByte] & 7u;
}
std::uint32_t number_of_returns(const std::uint8_t* p) {
    return (p[kReturnByte] >> 3) & 7u;
}
std::uint32_t scan_direction(const std::uint8_t* p) {
    return (p[kReturnByte] >> 6) & 1u;
}

// The v2 prediction slots a record's return byte selects; encoder and decoder must pick
// the same ones.
struct ReturnSlots {
    explicit ReturnSlots(const std::uint8_t* record)
        : n(number_of_returns(record)),
          m(detail::kNumberReturnMap[n][return_number(record)]),
          l(detail::kNumberReturnLevel[n][return_number(record)]) {}

    std::uint32_t n;  // number of returns
    std::uint32_t m;  // of the XY medians and last intensities
    std::uint32_t l;  // of the last heights
};

// ---------------------------------------------------------------- version 1 (decode only)

class Point10V1Decoder final : public ItemDecoder {
  public:
    explicit Point10V1Decoder(ArithmeticDecoder& dec) : dec_(dec) {}

    void init(const std::uint8_t* first) override {
        last_x_diff_ = {0, 0, 0};
        last_y_diff_ = {0, 0, 0};
        last_incr_ = 0;
        dx_.init_decompressor();
        dy_.init_decompressor();
        z_.init_decompressor();
        intensity_.init_decompressor();
        scan_angle_.init_decompressor();
        source_id_.init_decompressor();
        changed_values_.init();
        bit_byte_.init();
        classification_.init();
        user_data_.init();
        std::memcpy(last_.data(), first, 20);
    }

    void decode(std::uint8_t* item) override {
        std::uint8_t* last = last_.data();
        const std::int32_t x_diff = dx_.decompress(dec_, median3(last_x_diff_));
        store_le(last + kX, wrap_add(load_le<std::int32_t>(last + kX), x_diff));
        std::uint32_t k_bits = dx_.k();
        const std::int32_t y_diff =
            dy_.decompress(dec_, median3(last_y_diff_), std::min(k_bits, 19u));
        store_le(last + kY, wrap_add(load_le<std::int32_t>(last + kY), y_diff));
        k_bits = (k_bits + dy_.k()) / 2;
        store_le(last + kZ,
                 z_.decompress(dec_, load_le<std::int32_t>(last + kZ), std::min(k_bits, 19u)));

        const std::uint32_t changed = dec_.decode_symbol(changed_values_);
        if (changed & 32) {
            store_le(last + kIntensity, static_cast<std::uint16_t>(intensity_.decompress(
                                            dec_, load_le<std::uint16_t>(last + kIntensity))));
        }
        if (changed & 16) {
            last[kReturnByte] =
                static_cast<std::uint8_t>(dec_.decode_symbol(bit_byte_[last[kReturnByte]]));
        }
        if (changed & 8) {
            last[kClass] =
                static_cast<std::uint8_t>(dec_.decode_symbol(classification_[last[kClass]]));
        }
        if (changed & 4) {
            last[kScanAngle] = static_cast<std::uint8_t>(
                scan_angle_.decompress(dec_, last[kScanAngle], k_bits < 3 ? 1 : 0));
        }
        if (changed & 2) {
            last[kUserData] =
                static_cast<std::uint8_t>(dec_.decode_symbol(user_data_[last[kUserData]]));
        }
        if (changed & 1) {
            store_le(last + kSourceId, static_cast<std::uint16_t>(source_id_.decompress(
                                           dec_, load_le<std::uint16_t>(last + kSourceId))));
        }
        last_x_diff_[last_incr_] = x_diff;
        last_y_diff_[last_incr_] = y_diff;
        last_incr_ = last_incr_ == 2 ? 0 : last_incr_ + 1;
        std::memcpy(item, last, 20);
    }

  private:
    static std::int32_t median3(const std::array<std::int32_t, 3>& d) {
        if (d[0] < d[1]) {
            if (d[1] < d[2]) return d[1];
            if (d[0] < d[2]) return d[2];
            return d[0];
        }
        if (d[0] < d[2]) return d[0];
        if (d[1] < d[2]) return d[2];
        return d[1];
    }

    ArithmeticDecoder& dec_;
    IntegerCompressor dx_{32, 1};
    IntegerCompressor dy_{32, 20};
    IntegerCompressor z_{32, 20};
    IntegerCompressor intensity_{16};
    IntegerCompressor scan_angle_{8, 2};
    IntegerCompressor source_id_{16};
    ArithmeticModel changed_values_{64};
    detail::LazyByteModels bit_byte_{false};
    detail::LazyByteModels classification_{false};
    detail::LazyByteModels user_data_{false};
    std::array<std::int32_t, 3> last_x_diff_{};
    std::array<std::int32_t, 3> last_y_diff_{};
    int last_incr_ = 0;
    std::array<std::uint8_t, 20> last_{};
};

// ---------------------------------------------------------------- version 2

// Models and prediction state shared by the v2 encoder and decoder, which must evolve
// them identically.
struct Point10V2State {
    explicit Point10V2State(bool compress)
        : changed_values(64, compress),
          scan_angle{ArithmeticModel(256, compress), ArithmeticModel(256, compress)},
          bit_byte(compress),
          classification(compress),
          user_data(compress) {}

    void init(const std::uint8_t* first, bool compress) {
        for (auto& m : x_median) m.init();
        for (auto& m : y_median) m.init();
        last_intensity.fill(0);
        last_height.fill(0);
        changed_values.init();
        scan_angle[0].init();
        scan_angle[1].init();
        bit_byte.init();
        classification.init();
        user_data.init();
        for (IntegerCompressor* ic : {&intensity, &source_id, &dx, &dy, &z}) ic->init(compress);
        std::memcpy(last.data(), first, 20);
    }

    ArithmeticModel changed_values;
    IntegerCompressor intensity{16, 4};
    std::array<ArithmeticModel, 2> scan_angle;
    IntegerCompressor source_id{16};
    detail::LazyByteModels bit_byte;
    detail::LazyByteModels classification;
    detail::LazyByteModels user_data;
    IntegerCompressor dx{32, 2};
    IntegerCompressor dy{32, 22};
    IntegerCompressor z{32, 20};
    std::array<detail::StreamingMedian5, 16> x_median;
    std::array<detail::StreamingMedian5, 16> y_median;
    std::array<std::uint16_t, 16> last_intensity{};
    std::array<std::int32_t, 8> last_height{};
    std::array<std::uint8_t, 20> last{};
};

class Point10V2Decoder final : public ItemDecoder {
  public:
    explicit Point10V2Decoder(ArithmeticDecoder& dec) : dec_(dec), s_(false) {}

    void init(const std::uint8_t* first) override {
        s_.init(first, false);
        // LASzip starts the decoder's copy with intensity zero; it is never predicted from.
        s_.last[kIntensity] = 0;
        s_.last[kIntensity + 1] = 0;
    }

    void decode(std::uint8_t* item) override {
        std::uint8_t* last = s_.last.data();
        const std::uint32_t changed = dec_.decode_symbol(s_.changed_values);
        if (changed & 32) {
            last[kReturnByte] =
                static_cast<std::uint8_t>(dec_.decode_symbol(s_.bit_byte[last[kReturnByte]]));
        }
        const ReturnSlots slots(last);
        const std::uint32_t n = slots.n;
        const std::uint32_t m = slots.m;
        const std::uint32_t l = slots.l;
        // Unlike the other fields, intensity is reset to the slot's last value whenever
        // anything changed.
        if (changed != 0) {
            if (changed & 16) {
                const auto intensity = static_cast<std::uint16_t>(
                    s_.intensity.decompress(dec_, s_.last_intensity[m], m < 3 ? m : 3));
                s_.last_intensity[m] = intensity;
                store_le(last + kIntensity, intensity);
            } else {
                store_le(last + kIntensity, s_.last_intensity[m]);
            }
            if (changed & 8) {
                last[kClass] =
                    static_cast<std::uint8_t>(dec_.decode_symbol(s_.classification[last[kClass]]));
            }
            if (changed & 4) {
                const auto delta = dec_.decode_symbol(s_.scan_angle[scan_direction(last)]);
                last[kScanAngle] =
                    detail::fold_u8(static_cast<std::int32_t>(delta + last[kScanAngle]));
            }
            if (changed & 2) {
                last[kUserData] =
                    static_cast<std::uint8_t>(dec_.decode_symbol(s_.user_data[last[kUserData]]));
            }
            if (changed & 1) {
                store_le(last + kSourceId, static_cast<std::uint16_t>(s_.source_id.decompress(
                                               dec_, load_le<std::uint16_t>(last + kSourceId))));
            }
        }

        std::int32_t diff = s_.dx.decompress(dec_, s_.x_median[m].get(), n == 1 ? 1 : 0);
        store_le(last + kX, wrap_add(load_le<std::int32_t>(last + kX), diff));
        s_.x_median[m].add(diff);

        diff = s_.dy.decompress(dec_, s_.y_median[m].get(), detail::y_context(n, s_.dx.k()));
        store_le(last + kY, wrap_add(load_le<std::int32_t>(last + kY), diff));
        s_.y_median[m].add(diff);

        const std::uint32_t k_xy = (s_.dx.k() + s_.dy.k()) / 2;
        const std::int32_t z = s_.z.decompress(dec_, s_.last_height[l], detail::z_context(n, k_xy));
        store_le(last + kZ, z);
        s_.last_height[l] = z;
        std::memcpy(item, last, 20);
    }

  private:
    ArithmeticDecoder& dec_;
    Point10V2State s_;
};

class Point10V2Encoder final : public ItemEncoder {
  public:
    explicit Point10V2Encoder(ArithmeticEncoder& enc) : enc_(enc), s_(true) {}

    void init(const std::uint8_t* first) override { s_.init(first, true); }

    void encode(const std::uint8_t* item) override {
        const std::uint8_t* last = s_.last.data();
        const ReturnSlots slots(item);
        const std::uint32_t n = slots.n;
        const std::uint32_t m = slots.m;
        const std::uint32_t l = slots.l;
        const auto intensity = load_le<std::uint16_t>(item + kIntensity);
        const auto source_id = load_le<std::uint16_t>(item + kSourceId);
        const auto last_source_id = load_le<std::uint16_t>(last + kSourceId);

        const std::uint32_t changed = (last[kReturnByte] != item[kReturnByte] ? 32u : 0u) |
                                      (s_.last_intensity[m] != intensity ? 16u : 0u) |
                                      (last[kClass] != item[kClass] ? 8u : 0u) |
                                      (last[kScanAngle] != item[kScanAngle] ? 4u : 0u) |
                                      (last[kUserData] != item[kUserData] ? 2u : 0u) |
                                      (last_source_id != source_id ? 1u : 0u);
        enc_.encode_symbol(s_.changed_values, changed);
        if (changed & 32) enc_.encode_symbol(s_.bit_byte[last[kReturnByte]], item[kReturnByte]);
        if (changed & 16) {
            s_.intensity.compress(enc_, s_.last_intensity[m], intensity, m < 3 ? m : 3);
            s_.last_intensity[m] = intensity;
        }
        if (changed & 8) enc_.encode_symbol(s_.classification[last[kClass]], item[kClass]);
        if (changed & 4) {
            enc_.encode_symbol(s_.scan_angle[scan_direction(item)],
                               detail::fold_u8(item[kScanAngle] - last[kScanAngle]));
        }
        if (changed & 2) enc_.encode_symbol(s_.user_data[last[kUserData]], item[kUserData]);
        if (changed & 1) s_.source_id.compress(enc_, last_source_id, source_id);

        std::int32_t diff =
            wrap_sub(load_le<std::int32_t>(item + kX), load_le<std::int32_t>(last + kX));
        s_.dx.compress(enc_, s_.x_median[m].get(), diff, n == 1 ? 1 : 0);
        s_.x_median[m].add(diff);

        diff = wrap_sub(load_le<std::int32_t>(item + kY), load_le<std::int32_t>(last + kY));
        s_.dy.compress(enc_, s_.y_median[m].get(), diff, detail::y_context(n, s_.dx.k()));
        s_.y_median[m].add(diff);

        const std::uint32_t k_xy = (s_.dx.k() + s_.dy.k()) / 2;
        const auto z = load_le<std::int32_t>(item + kZ);
        s_.z.compress(enc_, s_.last_height[l], z, detail::z_context(n, k_xy));
        s_.last_height[l] = z;
        std::memcpy(s_.last.data(), item, 20);
    }

  private:
    ArithmeticEncoder& enc_;
    Point10V2State s_;
};

}  // namespace

std::unique_ptr<ItemDecoder> make_point10_decoder(std::uint16_t version, ArithmeticDecoder& dec) {
    if (version == 1) return std::make_unique<Point10V1Decoder>(dec);
    return std::make_unique<Point10V2Decoder>(dec);
}

std::unique_ptr<ItemEncoder> make_point10_encoder(ArithmeticEncoder& enc) {
    return std::make_unique<Point10V2Encoder>(enc);
}

}  // namespace lidarmill::laz
