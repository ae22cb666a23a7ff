#pragma once
// Predictive integer coding as in LASzip's IntegerCompressor: the corrector
// (real - pred, folded into the value range) is sent as its bit length k under a
// per-context model, then its position inside the k-bit interval, high bits modelled
// and low bits raw.
#include <cstdint>
#include <vector>

#include "laz/arithmetic.hpp"

namespace lidarmill::laz {

class IntegerCompressor {
  public:
    IntegerCompressor(std::uint32_t bits = 16, std::uint32_t contexts = 1,
                      std::uint32_t bits_high = 8, std::uint32_t range = 0);

    // Create (once) and reset the models for the given direction.
    void init_decompressor() { init_models(false); }
    void init_compressor() { init_models(true); }
    // The same for a codec whose direction is a run-time flag (state shared by both).
    void init(bool compress) { init_models(compress); }

    std::int32_t decompress(ArithmeticDecoder& dec, std::int32_t pred, std::uint32_t context = 0);
    void compress(ArithmeticEncoder& enc, std::int32_t pred, std::int32_t real,
                  std::uint32_t context = 0);
    // The bit length k of the last corrector, which POINT10/POINT14 use as a context.
    std::uint32_t k() const { return k_; }

  private:
    void init_models(bool compress);
    std::int32_t read_corrector(ArithmeticDecoder& dec, ArithmeticModel& k_model);
    void write_corrector(ArithmeticEncoder& enc, std::int32_t corrector, ArithmeticModel& k_model);

    std::uint32_t bits_;
    std::uint32_t contexts_;
    std::uint32_t bits_high_;
    std::uint32_t corr_bits_ = 0;
    std::uint32_t corr_range_ = 0;
    std::int32_t corr_min_ = 0;
    std::int32_t corr_max_ = 0;
    std::uint32_t k_ = 0;
    bool models_for_compress_ = false;
    std::vector<ArithmeticModel> k_models_;          // one per context: symbols 0..corr_bits
    BitModel corrector_0_;                           // k == 0: corrector is 0 or 1
    std::vector<ArithmeticModel> corrector_models_;  // [k - 1] for k = 1..corr_bits
};

// ---- inline hot paths ----

inline std::int32_t IntegerCompressor::read_corrector(ArithmeticDecoder& dec,
                                                      ArithmeticModel& k_model) {
    k_ = dec.decode_symbol(k_model);
    if (k_ == 0) return static_cast<std::int32_t>(dec.decode_bit(corrector_0_));
    if (k_ >= 32) return corr_min_;
    std::uint32_t c;
    if (k_ <= bits_high_) {
        c = dec.decode_symbol(corrector_models_[k_ - 1]);
    } else {
        const std::uint32_t low_bits = k_ - bits_high_;
        c = dec.decode_symbol(corrector_models_[k_ - 1]) << low_bits;
        c |= dec.read_bits(low_bits);
    }
    // Map [0, 2^k) back onto [-(2^k - 1), -2^(k-1)] and [2^(k-1) + 1, 2^k].
    if (c >= (1u << (k_ - 1))) return static_cast<std::int32_t>(c + 1);
    return static_cast<std::int32_t>(c - ((1u << k_) - 1));
}

inline std::int32_t IntegerCompressor::decompress(ArithmeticDecoder& dec, std::int32_t pred,
                                                  std::uint32_t context) {
    // Unsigned arithmetic: the wrap-around is intended and must not be UB.
    std::uint32_t real = static_cast<std::uint32_t>(pred) +
                         static_cast<std::uint32_t>(read_corrector(dec, k_models_[context]));
    if (static_cast<std::int32_t>(real) < 0) {
        real += corr_range_;
    } else if (real >= corr_range_) {
        real -= corr_range_;
    }
    return static_cast<std::int32_t>(real);
}

inline void IntegerCompressor::write_corrector(ArithmeticEncoder& enc, std::int32_t corrector,
                                               ArithmeticModel& k_model) {
    // k is the smallest with corrector in [-(2^k - 1), 2^k].
    std::uint32_t magnitude = corrector <= 0 ? 0u - static_cast<std::uint32_t>(corrector)
                                             : static_cast<std::uint32_t>(corrector) - 1;
    k_ = 0;
    while (magnitude) {
        magnitude >>= 1;
        ++k_;
    }
    enc.encode_symbol(k_model, k_);
    if (k_ == 0) {
        enc.encode_bit(corrector_0_, static_cast<std::uint32_t>(corrector));
        return;
    }
    if (k_ >= 32) return;
    std::uint32_t c = static_cast<std::uint32_t>(corrector);
    c = corrector < 0 ? c + ((1u << k_) - 1) : c - 1;
    if (k_ <= bits_high_) {
        enc.encode_symbol(corrector_models_[k_ - 1], c);
    } else {
        const std::uint32_t low_bits = k_ - bits_high_;
        enc.encode_symbol(corrector_models_[k_ - 1], c >> low_bits);
        enc.write_bits(low_bits, c & ((1u << low_bits) - 1));
    }
}

inline void IntegerCompressor::compress(ArithmeticEncoder& enc, std::int32_t pred,
                                        std::int32_t real, std::uint32_t context) {
    std::int32_t corrector = static_cast<std::int32_t>(static_cast<std::uint32_t>(real) -
                                                       static_cast<std::uint32_t>(pred));
    if (corrector < corr_min_) {
        corrector = static_cast<std::int32_t>(static_cast<std::uint32_t>(corrector) + corr_range_);
    } else if (corrector > corr_max_) {
        corrector = static_cast<std::int32_t>(static_cast<std::uint32_t>(corrector) - corr_range_);
    }
    write_corrector(enc, corrector, k_models_[context]);
}

}  // namespace lidarmill::laz
