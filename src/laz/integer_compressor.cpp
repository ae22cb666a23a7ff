#include "laz/integer_compressor.hpp"

#include <limits>

namespace lidarmill::laz {

IntegerCompressor::IntegerCompressor(std::uint32_t bits, std::uint32_t contexts,
                                     std::uint32_t bits_high, std::uint32_t range)
    : bits_(bits), contexts_(contexts), bits_high_(bits_high) {
    if (range != 0) {
        // Enough bits to hold range values; an exact power of two needs one bit less.
        corr_range_ = range;
        while (range) {
            range >>= 1;
            ++corr_bits_;
        }
        if (corr_range_ == (1u << (corr_bits_ - 1))) --corr_bits_;
        corr_min_ = -static_cast<std::int32_t>(corr_range_ / 2);
        corr_max_ =
            static_cast<std::int32_t>(corr_min_ + static_cast<std::int64_t>(corr_range_) - 1);
    } else if (bits_ != 0 && bits_ < 32) {
        corr_bits_ = bits_;
        corr_range_ = 1u << bits_;
        corr_min_ = -static_cast<std::int32_t>(corr_range_ / 2);
        corr_max_ =
            static_cast<std::int32_t>(corr_min_ + static_cast<std::int64_t>(corr_range_) - 1);
    } else {
        corr_bits_ = 32;
        corr_range_ = 0;
        corr_min_ = std::numeric_limits<std::int32_t>::min();
        corr_max_ = std::numeric_limits<std::int32_t>::max();
    }
}

void IntegerCompressor::init_models(bool compress) {
    if (k_models_.empty() || models_for_compress_ != compress) {
        // Allocated once per direction; later chunks only reset the statistics.
        k_models_.clear();
        corrector_models_.clear();
        k_models_.reserve(contexts_);
        for (std::uint32_t i = 0; i < contexts_; ++i)
            k_models_.emplace_back(corr_bits_ + 1, compress);
        corrector_models_.reserve(corr_bits_);
        for (std::uint32_t i = 1; i <= corr_bits_; ++i) {
            corrector_models_.emplace_back(1u << (i <= bits_high_ ? i : bits_high_), compress);
        }
        models_for_compress_ = compress;
        corrector_0_.init();
        return;  // freshly built models are already in their start state
    }
    for (auto& model : k_models_) model.init();
    corrector_0_.init();
    for (auto& model : corrector_models_) model.init();
}

}  // namespace lidarmill::laz
