#pragma once
// The GPS time coding of GPSTIME11 v2, which POINT14's GPS time layer reuses (LASzip's
// *_GPSTIME11_v2 and the time part of *_POINT14_v3). A time is coded through its bit
// pattern as a difference to the last time, predicted as a multiple of the last
// difference. Up to four sequences (interleaved flight lines or scanners) each keep their
// own last time and difference; a code switches to another sequence or starts a new one.
//
// The two items differ only in their code tables: GPSTIME11 codes every point, so it has
// an extra "unchanged" code ahead of the others, while POINT14 codes a time only when it
// changed. One implementation serves both so that encoder, decoder and both items can
// never drift apart.
#include <array>
#include <cstdint>

#include "laz/arithmetic.hpp"
#include "laz/coder_utils.hpp"
#include "laz/integer_compressor.hpp"

namespace lidarmill::laz::detail {

// The code table of GPSTIME11 v2: every point is coded, "unchanged" included. Its
// decoder follows any number of sequence switches, as LASzip's does.
struct Gpstime11Codes {
    static constexpr bool kHasUnchanged = true;
};

// The code table of POINT14: a time is coded only when it changed; a stream that switches
// sequences twice for one time is corrupt.
struct Point14GpsCodes {
    static constexpr bool kHasUnchanged = false;
};

[[noreturn]] void throw_gps_switch_loop();

template <class Codes>
class GpsTimeCoder {
  public:
    explicit GpsTimeCoder(bool compress)
        : compress_(compress),
          multi_(kMultiSymbols, compress),
          zero_diff_(kZeroSymbols, compress) {}

    // A chunk starts: fresh models, one sequence holding the first time.
    void init(std::uint64_t first_time) {
        last_ = 0;
        next_ = 0;
        time_ = {first_time, 0, 0, 0};
        last_diff_.fill(0);
        extreme_count_.fill(0);
        multi_.init();
        zero_diff_.init();
        ic_.init(compress_);
    }

    // The bit pattern of the last time coded or decoded.
    std::uint64_t time() const { return time_[last_]; }

    void decode(ArithmeticDecoder& dec) {
        // A valid stream switches to another sequence at most once per time; only POINT14's
        // table (no "unchanged" code) treats a second switch as corruption.
        for (int switches = 0; Codes::kHasUnchanged || switches < 2; ++switches) {
            if (last_diff_[last_] == 0) {
                const std::uint32_t code = dec.decode_symbol(zero_diff_);
                if (code == kZeroDiff) {
                    const std::int32_t diff = ic_.decompress(dec, 0, 0);
                    last_diff_[last_] = diff;
                    add_to_time(diff);
                    extreme_count_[last_] = 0;
                } else if (code == kZeroFull) {
                    read_full_time(dec);
                } else if (code > kZeroFull) {
                    last_ = (last_ + code - kZeroFull) & 3;
                    continue;
                }
                return;
            }
            const std::uint32_t code = dec.decode_symbol(multi_);
            if (code < kMultiples) {
                add_to_time(decode_multiple(dec, code));
            } else if (code == kMultiFull) {
                read_full_time(dec);
            } else if (code > kMultiFull) {
                last_ = (last_ + code - kMultiFull) & 3;
                continue;
            }
            return;
        }
        throw_gps_switch_loop();
    }

    void encode(ArithmeticEncoder& enc, std::uint64_t time) {
        // At most one sequence switch precedes the real code.
        for (;;) {
            const bool zero_context = last_diff_[last_] == 0;
            ArithmeticModel& model = zero_context ? zero_diff_ : multi_;
            if constexpr (Codes::kHasUnchanged) {
                if (time == time_[last_]) {
                    enc.encode_symbol(model, zero_context ? kZeroUnchanged : kMultiUnchanged);
                    return;
                }
            }
            const auto diff_64 = static_cast<std::int64_t>(time - time_[last_]);
            const std::uint32_t full = zero_context ? kZeroFull : kMultiFull;
            if (!fits_i32(diff_64)) {
                if (const std::uint32_t other = find_other_sequence(time); other != 0) {
                    enc.encode_symbol(model, full + other);
                    last_ = (last_ + other) & 3;
                    continue;
                }
                enc.encode_symbol(model, full);
                ic_.compress(enc, high_half(time_[last_]), high_half(time), 8);
                enc.write_int(static_cast<std::uint32_t>(time));
                start_sequence(time);
                return;
            }
            const auto diff = static_cast<std::int32_t>(diff_64);
            if (zero_context) {
                enc.encode_symbol(zero_diff_, kZeroDiff);
                ic_.compress(enc, 0, diff, 0);
                last_diff_[last_] = diff;
                extreme_count_[last_] = 0;
            } else {
                encode_multiple(enc, diff);
            }
            time_[last_] = time;
            return;
        }
    }

  private:
    static constexpr std::uint32_t kShift = Codes::kHasUnchanged ? 1 : 0;
    static constexpr std::int32_t kMulti = 500;
    static constexpr std::int32_t kMultiMinus = -10;
    // Codes under the multiplier model: 0..510 a (quantized) multiple of the last
    // difference, then "unchanged" (GPSTIME11 only), a new sequence, switches by 1..3.
    static constexpr std::uint32_t kMultiples = kMulti - kMultiMinus + 1;
    static constexpr std::uint32_t kMultiUnchanged = kMultiples;
    static constexpr std::uint32_t kMultiFull = kMultiples + kShift;
    static constexpr std::uint32_t kMultiSymbols = kMultiFull + 4;
    // Codes under the model used while the last difference is 0: "unchanged" (GPSTIME11
    // only), a difference, a new sequence, switches by 1..3.
    static constexpr std::uint32_t kZeroUnchanged = 0;
    static constexpr std::uint32_t kZeroDiff = kShift;
    static constexpr std::uint32_t kZeroFull = kShift + 1;
    static constexpr std::uint32_t kZeroSymbols = kZeroFull + 4;

    static std::int32_t high_half(std::uint64_t time) {
        return static_cast<std::int32_t>(time >> 32);
    }

    void add_to_time(std::int32_t diff) {
        time_[last_] += static_cast<std::uint64_t>(static_cast<std::int64_t>(diff));
    }

    // After several outliers in a row the outlier becomes the new reference difference.
    void count_extreme(std::int32_t diff) {
        if (++extreme_count_[last_] > 3) {
            last_diff_[last_] = diff;
            extreme_count_[last_] = 0;
        }
    }

    // A new sequence starts in the next of the four slots.
    void start_sequence(std::uint64_t time) {
        next_ = (next_ + 1) & 3;
        last_ = next_;
        time_[last_] = time;
        last_diff_[last_] = 0;
        extreme_count_[last_] = 0;
    }

    // Another sequence within 32 bits of `time`, as offset 1..3 from the current, or 0.
    std::uint32_t find_other_sequence(std::uint64_t time) const {
        for (std::uint32_t i = 1; i < 4; ++i)
            if (fits_i32(static_cast<std::int64_t>(time - time_[(last_ + i) & 3]))) return i;
        return 0;
    }

    // A time far from the current sequence: high half predicted, low half raw.
    void read_full_time(ArithmeticDecoder& dec) {
        const auto high =
            static_cast<std::uint32_t>(ic_.decompress(dec, high_half(time_[last_]), 8));
        start_sequence((std::uint64_t{high} << 32) | dec.read_int());
    }

    std::int32_t decode_multiple(ArithmeticDecoder& dec, std::uint32_t code) {
        const std::int32_t last_diff = last_diff_[last_];
        if (code == 1) {
            extreme_count_[last_] = 0;
            return ic_.decompress(dec, last_diff, 1);
        }
        std::int32_t diff;
        if (code == 0) {
            diff = ic_.decompress(dec, 0, 7);
            count_extreme(diff);
        } else if (code < static_cast<std::uint32_t>(kMulti)) {
            const auto multi = static_cast<std::int32_t>(code);
            diff = ic_.decompress(dec, wrap_mul(multi, last_diff), multi < 10 ? 2 : 3);
        } else if (code == static_cast<std::uint32_t>(kMulti)) {
            diff = ic_.decompress(dec, wrap_mul(kMulti, last_diff), 4);
            count_extreme(diff);
        } else {
            const std::int32_t multi = kMulti - static_cast<std::int32_t>(code);
            if (multi > kMultiMinus) {
                diff = ic_.decompress(dec, wrap_mul(multi, last_diff), 5);
            } else {
                diff = ic_.decompress(dec, wrap_mul(kMultiMinus, last_diff), 6);
                count_extreme(diff);
            }
        }
        return diff;
    }

    void encode_multiple(ArithmeticEncoder& enc, std::int32_t diff) {
        const std::int32_t last_diff = last_diff_[last_];
        const std::int32_t multi =
            quantize_ratio(static_cast<float>(diff) / static_cast<float>(last_diff));
        if (multi == 1) {
            enc.encode_symbol(multi_, 1);
            ic_.compress(enc, last_diff, diff, 1);
            extreme_count_[last_] = 0;
        } else if (multi > 0) {
            if (multi < kMulti) {
                enc.encode_symbol(multi_, static_cast<std::uint32_t>(multi));
                ic_.compress(enc, wrap_mul(multi, last_diff), diff, multi < 10 ? 2 : 3);
            } else {
                enc.encode_symbol(multi_, kMulti);
                ic_.compress(enc, wrap_mul(kMulti, last_diff), diff, 4);
                count_extreme(diff);
            }
        } else if (multi < 0) {
            if (multi > kMultiMinus) {
                enc.encode_symbol(multi_, static_cast<std::uint32_t>(kMulti - multi));
                ic_.compress(enc, wrap_mul(multi, last_diff), diff, 5);
            } else {
                enc.encode_symbol(multi_, static_cast<std::uint32_t>(kMulti - kMultiMinus));
                ic_.compress(enc, wrap_mul(kMultiMinus, last_diff), diff, 6);
                count_extreme(diff);
            }
        } else {
            enc.encode_symbol(multi_, 0);
            ic_.compress(enc, 0, diff, 7);
            count_extreme(diff);
        }
    }

    bool compress_;
    ArithmeticModel multi_;
    ArithmeticModel zero_diff_;
    IntegerCompressor ic_{32, 9};
    std::uint32_t last_ = 0;  // the current sequence
    std::uint32_t next_ = 0;  // the slot the latest new sequence took
    std::array<std::uint64_t, 4> time_{};
    std::array<std::int32_t, 4> last_diff_{};
    std::array<std::int32_t, 4> extreme_count_{};
};

}  // namespace lidarmill::laz::detail
