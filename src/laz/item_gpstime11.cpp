// GPSTIME11: the 8-byte GPS time double, coded through its bit pattern as a 64-bit
// integer. Version 2 predicts the difference as a multiple of the previous difference
// and keeps four time sequences so interleaved flight lines stay cheap.
#include <array>
#include <cstring>

#include "laz/item_codec.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using detail::wrap_mul;
using util::load_le;
using util::store_le;

// True when the 64-bit difference fits a 32-bit integer.
bool fits_i32(std::int64_t v) {
    return v == static_cast<std::int64_t>(static_cast<std::int32_t>(v));
}

std::int64_t wrap_add64(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrap_sub64(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

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

constexpr std::int32_t kMulti = 500;
constexpr std::int32_t kMultiMinus = -10;
constexpr std::int32_t kMultiUnchanged = kMulti - kMultiMinus + 1;
constexpr std::int32_t kMultiCodeFull = kMulti - kMultiMinus + 2;
constexpr std::int32_t kMultiTotal = kMulti - kMultiMinus + 6;

struct GpsTime11V2State {
    explicit GpsTime11V2State(bool compress)
        : multi(kMultiTotal, compress), zero_diff(6, compress) {}

    void init(const std::uint8_t* first, bool compress) {
        last = 0;
        next = 0;
        last_diff.fill(0);
        multi_extreme_counter.fill(0);
        multi.init();
        zero_diff.init();
        compress ? ic.init_compressor() : ic.init_decompressor();
        last_time = {load_le<std::int64_t>(first), 0, 0, 0};
    }

    void count_extreme(std::int32_t diff) {
        if (++multi_extreme_counter[last] > 3) {
            last_diff[last] = diff;
            multi_extreme_counter[last] = 0;
        }
    }

    // A new sequence starts in the next of the four slots.
    void start_sequence(std::int64_t time) {
        next = (next + 1) & 3;
        last = next;
        last_time[last] = time;
        last_diff[last] = 0;
        multi_extreme_counter[last] = 0;
    }

    ArithmeticModel multi;
    ArithmeticModel zero_diff;
    IntegerCompressor ic{32, 9};
    std::uint32_t last = 0;
    std::uint32_t next = 0;
    std::array<std::int64_t, 4> last_time{};
    std::array<std::int32_t, 4> last_diff{};
    std::array<std::int32_t, 4> multi_extreme_counter{};
};

class GpsTime11V2Decoder final : public ItemDecoder {
  public:
    explicit GpsTime11V2Decoder(ArithmeticDecoder& dec) : dec_(dec), s_(false) {}

    void init(const std::uint8_t* first) override { s_.init(first, false); }

    void decode(std::uint8_t* item) override {
        // A "switch sequence" code is followed by the real code for that sequence.
        while (!decode_once()) {
        }
        store_le(item, s_.last_time[s_.last]);
    }

  private:
    // Returns false when the code only switched to another sequence.
    bool decode_once() {
        const std::uint32_t cur = s_.last;
        if (s_.last_diff[cur] == 0) {
            const std::int32_t multi = static_cast<std::int32_t>(dec_.decode_symbol(s_.zero_diff));
            if (multi == 1) {
                s_.last_diff[cur] = s_.ic.decompress(dec_, 0, 0);
                s_.last_time[cur] = wrap_add64(s_.last_time[cur], s_.last_diff[cur]);
                s_.multi_extreme_counter[cur] = 0;
            } else if (multi == 2) {
                read_full_time();
            } else if (multi > 2) {
                s_.last = (cur + static_cast<std::uint32_t>(multi) - 2) & 3;
                return false;
            }
            return true;
        }
        std::int32_t multi = static_cast<std::int32_t>(dec_.decode_symbol(s_.multi));
        if (multi == 1) {
            s_.last_time[cur] =
                wrap_add64(s_.last_time[cur], s_.ic.decompress(dec_, s_.last_diff[cur], 1));
            s_.multi_extreme_counter[cur] = 0;
        } else if (multi < kMultiUnchanged) {
            std::int32_t diff;
            const std::int32_t last_diff = s_.last_diff[cur];
            if (multi == 0) {
                diff = s_.ic.decompress(dec_, 0, 7);
                s_.count_extreme(diff);
            } else if (multi < kMulti) {
                diff = s_.ic.decompress(dec_, wrap_mul(multi, last_diff), multi < 10 ? 2 : 3);
            } else if (multi == kMulti) {
                diff = s_.ic.decompress(dec_, wrap_mul(kMulti, last_diff), 4);
                s_.count_extreme(diff);
            } else {
                multi = kMulti - multi;
                if (multi > kMultiMinus) {
                    diff = s_.ic.decompress(dec_, wrap_mul(multi, last_diff), 5);
                } else {
                    diff = s_.ic.decompress(dec_, wrap_mul(kMultiMinus, last_diff), 6);
                    s_.count_extreme(diff);
                }
            }
            s_.last_time[cur] = wrap_add64(s_.last_time[cur], diff);
        } else if (multi == kMultiCodeFull) {
            read_full_time();
        } else if (multi > kMultiCodeFull) {
            s_.last = (cur + static_cast<std::uint32_t>(multi - kMultiCodeFull)) & 3;
            return false;
        }
        return true;
    }

    // A time far from the current sequence: high half predicted, low half raw.
    void read_full_time() {
        const auto high_pred =
            static_cast<std::int32_t>(static_cast<std::uint64_t>(s_.last_time[s_.last]) >> 32);
        const auto high = static_cast<std::uint32_t>(s_.ic.decompress(dec_, high_pred, 8));
        const std::uint64_t time = (std::uint64_t{high} << 32) | dec_.read_int();
        s_.start_sequence(static_cast<std::int64_t>(time));
    }

    ArithmeticDecoder& dec_;
    GpsTime11V2State s_;
};

// LASzip rounds float(curr) / float(last) half away from zero through double; out-of-range
// conversions give INT_MIN on x86, which LASzip's output depends on.
std::int32_t quantize_multiplier(std::int32_t curr, std::int32_t last) {
    const float ratio = static_cast<float>(curr) / static_cast<float>(last);
    const double rounded =
        ratio >= 0 ? static_cast<double>(ratio) + 0.5 : static_cast<double>(ratio) - 0.5;
    if (!(rounded > -2147483649.0 && rounded < 2147483648.0)) return INT32_MIN;
    return static_cast<std::int32_t>(rounded);
}

class GpsTime11V2Encoder final : public ItemEncoder {
  public:
    explicit GpsTime11V2Encoder(ArithmeticEncoder& enc) : enc_(enc), s_(true) {}

    void init(const std::uint8_t* first) override { s_.init(first, true); }

    void encode(const std::uint8_t* item) override {
        const auto time = load_le<std::int64_t>(item);
        // At most one sequence switch precedes the real code.
        while (!encode_once(time)) {
        }
    }

  private:
    // Returns false after only emitting a switch to another sequence.
    bool encode_once(std::int64_t time) {
        const std::uint32_t cur = s_.last;
        const bool zero_context = s_.last_diff[cur] == 0;
        ArithmeticModel& model = zero_context ? s_.zero_diff : s_.multi;
        if (time == s_.last_time[cur]) {
            enc_.encode_symbol(model,
                               zero_context ? 0u : static_cast<std::uint32_t>(kMultiUnchanged));
            return true;
        }
        const std::int64_t diff64 = wrap_sub64(time, s_.last_time[cur]);
        if (!fits_i32(diff64)) {
            for (std::uint32_t i = 1; i < 4; ++i) {
                if (fits_i32(wrap_sub64(time, s_.last_time[(cur + i) & 3]))) {
                    enc_.encode_symbol(model, zero_context ? i + 2 : kMultiCodeFull + i);
                    s_.last = (cur + i) & 3;
                    return false;
                }
            }
            enc_.encode_symbol(model,
                               zero_context ? 2u : static_cast<std::uint32_t>(kMultiCodeFull));
            const auto high_pred =
                static_cast<std::int32_t>(static_cast<std::uint64_t>(s_.last_time[cur]) >> 32);
            s_.ic.compress(enc_, high_pred,
                           static_cast<std::int32_t>(static_cast<std::uint64_t>(time) >> 32), 8);
            enc_.write_int(static_cast<std::uint32_t>(time));
            s_.start_sequence(time);
            return true;
        }
        const auto diff = static_cast<std::int32_t>(diff64);
        if (zero_context) {
            enc_.encode_symbol(model, 1);
            s_.ic.compress(enc_, 0, diff, 0);
            s_.last_diff[cur] = diff;
            s_.multi_extreme_counter[cur] = 0;
        } else {
            encode_multiplied(diff);
        }
        s_.last_time[cur] = time;
        return true;
    }

    void encode_multiplied(std::int32_t diff) {
        const std::uint32_t cur = s_.last;
        const std::int32_t last_diff = s_.last_diff[cur];
        const std::int32_t multi = quantize_multiplier(diff, last_diff);
        if (multi == 1) {
            enc_.encode_symbol(s_.multi, 1);
            s_.ic.compress(enc_, last_diff, diff, 1);
            s_.multi_extreme_counter[cur] = 0;
        } else if (multi > 0) {
            if (multi < kMulti) {
                enc_.encode_symbol(s_.multi, static_cast<std::uint32_t>(multi));
                s_.ic.compress(enc_, wrap_mul(multi, last_diff), diff, multi < 10 ? 2 : 3);
            } else {
                enc_.encode_symbol(s_.multi, kMulti);
                s_.ic.compress(enc_, wrap_mul(kMulti, last_diff), diff, 4);
                s_.count_extreme(diff);
            }
        } else if (multi < 0) {
            if (multi > kMultiMinus) {
                enc_.encode_symbol(s_.multi, static_cast<std::uint32_t>(kMulti - multi));
                s_.ic.compress(enc_, wrap_mul(multi, last_diff), diff, 5);
            } else {
                enc_.encode_symbol(s_.multi, kMulti - kMultiMinus);
                s_.ic.compress(enc_, wrap_mul(kMultiMinus, last_diff), diff, 6);
                s_.count_extreme(diff);
            }
        } else {
            enc_.encode_symbol(s_.multi, 0);
            s_.ic.compress(enc_, 0, diff, 7);
            s_.count_extreme(diff);
        }
    }

    ArithmeticEncoder& enc_;
    GpsTime11V2State s_;
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
