#include "laz/arithmetic.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "util/error.hpp"

namespace lidarmill::laz {

using namespace coder_limits;

ArithmeticModel::ArithmeticModel(std::uint32_t symbols, bool compress)
    : symbols_(symbols), last_symbol_(symbols - 1), compress_(compress) {
    if (symbols < 2 || symbols > kMaxSymbols) {
        throw std::invalid_argument("ArithmeticModel: unsupported symbol count " +
                                    std::to_string(symbols));
    }
    std::size_t table_entries = 0;
    if (!compress_ && symbols_ > 16) {
        std::uint32_t table_bits = 3;
        while (symbols_ > (1u << (table_bits + 2))) ++table_bits;
        table_size_ = 1u << table_bits;
        table_shift_ = kSymbolLengthShift - table_bits;
        table_entries = table_size_ + 2;  // update() writes up to index table_size_ + 1
    }
    storage_ = std::make_unique<Entry[]>(2 * std::size_t{symbols_} + table_entries);
    distribution_ = storage_.get();
    symbol_count_ = distribution_ + symbols_;
    decoder_table_ = table_entries ? symbol_count_ + symbols_ : nullptr;
    init();
}

void ArithmeticModel::init() {
    total_count_ = 0;
    update_cycle_ = symbols_;
    for (std::uint32_t k = 0; k < symbols_; ++k) symbol_count_[k] = 1;
    update();
    symbols_until_update_ = update_cycle_ = (symbols_ + 6) >> 1;
}

void ArithmeticModel::update() {
    // Halving the counts keeps the model adaptive and the products within 32 bits.
    if ((total_count_ += update_cycle_) > kSymbolMaxCount) {
        total_count_ = 0;
        for (std::uint32_t n = 0; n < symbols_; ++n) {
            total_count_ += (symbol_count_[n] = static_cast<Entry>((symbol_count_[n] + 1) >> 1));
        }
    }
    const std::uint32_t scale = 0x80000000u / total_count_;
    std::uint32_t sum = 0;
    if (decoder_table_ == nullptr) {
        for (std::uint32_t k = 0; k < symbols_; ++k) {
            distribution_[k] = static_cast<Entry>((scale * sum) >> (31 - kSymbolLengthShift));
            sum += symbol_count_[k];
        }
    } else {
        std::uint32_t s = 0;
        for (std::uint32_t k = 0; k < symbols_; ++k) {
            distribution_[k] = static_cast<Entry>((scale * sum) >> (31 - kSymbolLengthShift));
            sum += symbol_count_[k];
            const std::uint32_t w = distribution_[k] >> table_shift_;
            while (s < w) decoder_table_[++s] = static_cast<Entry>(k - 1);
        }
        decoder_table_[0] = 0;
        while (s <= table_size_) decoder_table_[++s] = static_cast<Entry>(symbols_ - 1);
    }
    update_cycle_ = (5 * update_cycle_) >> 2;
    const std::uint32_t max_cycle = (symbols_ + 6) << 3;
    if (update_cycle_ > max_cycle) update_cycle_ = max_cycle;
    symbols_until_update_ = update_cycle_;
}

void BitModel::update() {
    if ((bit_count_ += update_cycle_) > kBitMaxCount) {
        bit_count_ = (bit_count_ + 1) >> 1;
        bit_0_count_ = (bit_0_count_ + 1) >> 1;
        if (bit_0_count_ == bit_count_) ++bit_count_;
    }
    const std::uint32_t scale = 0x80000000u / bit_count_;
    bit_0_prob_ = (bit_0_count_ * scale) >> (31 - kBitLengthShift);
    update_cycle_ = (5 * update_cycle_) >> 2;
    if (update_cycle_ > 64) update_cycle_ = 64;
    bits_until_update_ = update_cycle_;
}

void ArithmeticDecoder::init(std::span<const std::uint8_t> bytes) {
    begin_ = bytes.data();
    next_ = begin_;
    end_ = begin_ + bytes.size();
    length_ = kMaxLength;
    value_ = 0;
    for (int i = 0; i < 4; ++i) value_ = (value_ << 8) | next_byte();
}

void ArithmeticDecoder::throw_ended() {
    throw util::InputError("", "compressed data ended early");
}

void ArithmeticDecoder::throw_corrupt() {
    throw util::InputError("", "corrupt compressed data");
}

void ArithmeticEncoder::reset() {
    out_.clear();
    written_ = 0;
    grow_at_ = 0;
    base_ = 0;
    length_ = kMaxLength;
}

std::vector<std::uint8_t> ArithmeticEncoder::take_bytes() {
    trim();
    std::vector<std::uint8_t> taken = std::move(out_);
    reset();  // clear() also gives the moved-from vector a known state
    return taken;
}

void ArithmeticEncoder::grow() {
    // Doubling keeps the cost per byte constant; the floor avoids many tiny steps at the
    // start of every layer (clear() kept the capacity, so this rarely allocates).
    constexpr std::size_t kMinimumSize = 4096;
    out_.resize(std::max(kMinimumSize, 2 * out_.size()));
    grow_at_ = out_.size() - kRenormalizeRoom + 1;
}

void ArithmeticEncoder::propagate_carry(std::size_t end) {
    // The carry ripples back through out_[0, end); 0xFF bytes wrap to 0.
    for (std::size_t i = end; i-- > 0;) {
        if (++out_[i] != 0) return;
    }
}

void ArithmeticEncoder::done() {
    std::uint64_t base = base_;
    std::uint32_t length = length_;
    bool another_byte = true;
    if (length > 2 * kMinLength) {
        base += kMinLength;
        length = kMinLength >> 1;
    } else {
        base += kMinLength >> 1;
        length = kMinLength >> 9;
        another_byte = false;
    }
    renormalize(base, length);
    // Padding that matches the decoder's look-ahead, as LASzip writes it.
    const std::size_t padding = another_byte ? 3 : 2;
    if (written_ + padding > out_.size()) grow();
    std::memset(out_.data() + written_, 0, padding);
    written_ += padding;
    trim();
}

}  // namespace lidarmill::laz
