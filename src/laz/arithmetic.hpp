#pragma once
// Adaptive binary arithmetic (range) coder, bit-compatible with the one inside LASzip
// (itself derived from Amir Said's FastAC). The hot paths are inline because item codecs
// call them several times per point.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace lidarmill::laz {

namespace coder_limits {
inline constexpr std::uint32_t kMinLength = 0x01000000u;  // renormalise below this
inline constexpr std::uint32_t kMaxLength = 0xFFFFFFFFu;
inline constexpr std::uint32_t kBitLengthShift = 13;  // binary model probability precision
inline constexpr std::uint32_t kBitMaxCount = 1u << kBitLengthShift;
inline constexpr std::uint32_t kSymbolLengthShift = 15;  // multi-symbol model precision
inline constexpr std::uint32_t kSymbolMaxCount = 1u << kSymbolLengthShift;
inline constexpr std::uint32_t kMaxSymbols = 1u << 11;
}  // namespace coder_limits

// Adaptive model over `symbols` symbols (2..2048). Decoding models with more than 16
// symbols keep a lookup table that narrows the search; encoding models do not need it.
class ArithmeticModel {
  public:
    explicit ArithmeticModel(std::uint32_t symbols, bool compress = false);
    // Back to the equiprobable start state (done at every chunk start).
    void init();
    std::uint32_t symbols() const { return symbols_; }

  private:
    friend class ArithmeticDecoder;
    friend class ArithmeticEncoder;
    void update();

    std::uint32_t symbols_;
    std::uint32_t last_symbol_;
    bool compress_;
    // One allocation holds distribution, symbol counts and the decoder table; the three
    // pointers below view into it (they stay valid when the model is moved). All fit 16
    // bits: distribution values are below 2^15, counts below 2^15 plus one update cycle
    // (counts are halved past 2^15 in total), table entries are symbols. Half the bytes
    // of 32-bit entries keep more models in L1: a BYTE14 coder runs one per extra byte.
    using Entry = std::uint16_t;
    std::unique_ptr<Entry[]> storage_;
    Entry* distribution_ = nullptr;
    Entry* symbol_count_ = nullptr;
    Entry* decoder_table_ = nullptr;  // null when table_size_ == 0
    std::uint32_t total_count_ = 0;
    std::uint32_t update_cycle_ = 0;
    std::uint32_t symbols_until_update_ = 0;
    std::uint32_t table_size_ = 0;
    std::uint32_t table_shift_ = 0;
};

// Adaptive model of one binary decision.
class BitModel {
  public:
    BitModel() { init(); }
    void init() {
        bit_0_count_ = 1;
        bit_count_ = 2;
        bit_0_prob_ = 1u << (coder_limits::kBitLengthShift - 1);
        update_cycle_ = bits_until_update_ = 4;  // adapt quickly at first
    }

  private:
    friend class ArithmeticDecoder;
    friend class ArithmeticEncoder;
    void update();

    std::uint32_t update_cycle_ = 0;
    std::uint32_t bits_until_update_ = 0;
    std::uint32_t bit_0_prob_ = 0;
    std::uint32_t bit_0_count_ = 0;
    std::uint32_t bit_count_ = 0;
};

class ArithmeticDecoder {
  public:
    // Starts decoding `bytes` (reads the 4 initial bytes). Never reads outside `bytes`:
    // running out throws util::InputError("", "compressed data ended early").
    void init(std::span<const std::uint8_t> bytes);

    std::uint32_t decode_bit(BitModel& m);
    std::uint32_t decode_symbol(ArithmeticModel& m);
    std::uint32_t read_bits(std::uint32_t bits);  // 1..32
    std::uint32_t read_byte() { return read_narrow(8); }
    std::uint32_t read_short() { return read_narrow(16); }
    std::uint32_t read_int() {
        const std::uint32_t low = read_short();
        const std::uint32_t high = read_short();
        return (high << 16) | low;
    }
    std::uint64_t read_int64() {
        const std::uint64_t low = read_int();
        const std::uint64_t high = read_int();
        return (high << 32) | low;
    }
    std::size_t position() const { return static_cast<std::size_t>(next_ - begin_); }

  private:
    std::uint32_t read_narrow(std::uint32_t bits);  // bits <= 19
    void renormalize() {
        do {
            value_ = (value_ << 8) | next_byte();
        } while ((length_ <<= 8) < coder_limits::kMinLength);
    }
    std::uint32_t next_byte() {
        if (next_ == end_) [[unlikely]]
            throw_ended();
        return *next_++;
    }
    [[noreturn]] static void throw_ended();
    [[noreturn]] static void throw_corrupt();

    const std::uint8_t* begin_ = nullptr;
    const std::uint8_t* next_ = nullptr;
    const std::uint8_t* end_ = nullptr;
    std::uint32_t value_ = 0;
    std::uint32_t length_ = 0;
};

class ArithmeticEncoder {
  public:
    ArithmeticEncoder() { reset(); }

    void encode_bit(BitModel& m, std::uint32_t bit);
    void encode_symbol(ArithmeticModel& m, std::uint32_t sym);
    void write_bits(std::uint32_t bits, std::uint32_t value);  // 1..32 bits, value < 2^bits
    void write_byte(std::uint8_t value) { write_narrow(8, value); }
    void write_short(std::uint16_t value) { write_narrow(16, value); }
    void write_int(std::uint32_t value) {
        write_short(static_cast<std::uint16_t>(value & 0xFFFFu));
        write_short(static_cast<std::uint16_t>(value >> 16));
    }
    void write_int64(std::uint64_t value) {
        write_int(static_cast<std::uint32_t>(value & 0xFFFFFFFFu));
        write_int(static_cast<std::uint32_t>(value >> 32));
    }
    // Flushes the final bytes exactly as LASzip does, so the decoder's 4-byte look-ahead
    // never runs past the end of the stream.
    void done();
    const std::vector<std::uint8_t>& bytes() const {
        trim();
        return out_;
    }
    std::vector<std::uint8_t> take_bytes();
    // Empties the output and restarts the interval, for the next chunk or layer.
    void reset();

  private:
    // Every coding step stores four bytes unconditionally and keeps up to three of them,
    // so this much room must follow the written bytes before each one.
    static constexpr std::size_t kRenormalizeRoom = 4;

    void write_narrow(std::uint32_t bits, std::uint32_t value) {
        const std::uint32_t length = length_ >> bits;
        renormalize(std::uint64_t{base_} + std::uint64_t{value} * length, length);
    }
    void renormalize(std::uint64_t base, std::uint32_t length);
    void propagate_carry(std::size_t end);
    void grow();
    // Drops the scratch room past the written bytes, so out_ holds exactly the stream.
    void trim() const {
        if (out_.size() != written_) {
            out_.resize(written_);
            grow_at_ = 0;
        }
    }

    // out_[0, written_) is the stream so far; the rest is scratch room that renormalize()
    // may overwrite. bytes() trims the room away, hence mutable (after done() there is
    // none left, so concurrent bytes() calls on a finished stream only read).
    mutable std::vector<std::uint8_t> out_;
    std::size_t written_ = 0;
    // renormalize() grows out_ first when written_ >= grow_at_ (0: no room known).
    mutable std::size_t grow_at_ = 0;
    std::uint32_t base_ = 0;
    std::uint32_t length_ = coder_limits::kMaxLength;
};

// ---- inline hot paths ----

inline std::uint32_t ArithmeticDecoder::decode_bit(BitModel& m) {
    const std::uint32_t x = m.bit_0_prob_ * (length_ >> coder_limits::kBitLengthShift);
    const std::uint32_t bit = value_ >= x ? 1u : 0u;
    if (bit == 0) {
        length_ = x;
        ++m.bit_0_count_;
    } else {
        value_ -= x;
        length_ -= x;
    }
    if (length_ < coder_limits::kMinLength) renormalize();
    if (--m.bits_until_update_ == 0) m.update();
    return bit;
}

inline std::uint32_t ArithmeticDecoder::decode_symbol(ArithmeticModel& m) {
    std::uint32_t sym;
    std::uint32_t x;
    std::uint32_t y = length_;
    if (m.decoder_table_ != nullptr) {
        length_ >>= coder_limits::kSymbolLengthShift;
        const std::uint32_t dv = value_ / length_;
        const std::uint32_t t = dv >> m.table_shift_;
        // Only corrupt input gets here: the interval invariant value < length is broken.
        if (t > m.table_size_) [[unlikely]]
            throw_corrupt();
        sym = m.decoder_table_[t];
        std::uint32_t n = m.decoder_table_[t + 1] + 1;
        while (n > sym + 1) {
            const std::uint32_t k = (sym + n) >> 1;
            if (m.distribution_[k] > dv) {
                n = k;
            } else {
                sym = k;
            }
        }
        x = m.distribution_[sym] * length_;
        if (sym != m.last_symbol_) y = m.distribution_[sym + 1] * length_;
    } else {
        x = sym = 0;
        length_ >>= coder_limits::kSymbolLengthShift;
        std::uint32_t n = m.symbols_;
        std::uint32_t k = n >> 1;
        do {
            const std::uint32_t z = length_ * m.distribution_[k];
            if (z > value_) {
                n = k;
                y = z;
            } else {
                sym = k;
                x = z;
            }
        } while ((k = (sym + n) >> 1) != sym);
    }
    value_ -= x;
    length_ = y - x;
    if (length_ < coder_limits::kMinLength) renormalize();
    ++m.symbol_count_[sym];
    if (--m.symbols_until_update_ == 0) m.update();
    return sym;
}

inline std::uint32_t ArithmeticDecoder::read_narrow(std::uint32_t bits) {
    const std::uint32_t sym = value_ / (length_ >>= bits);
    value_ -= length_ * sym;
    if (length_ < coder_limits::kMinLength) renormalize();
    if (sym >= (1u << bits)) [[unlikely]]
        throw_corrupt();
    return sym;
}

inline std::uint32_t ArithmeticDecoder::read_bits(std::uint32_t bits) {
    if (bits > 19) {
        // Wide values travel as a low short then the remaining high bits.
        const std::uint32_t low = read_short();
        const std::uint32_t high = read_narrow(bits - 16);
        return (high << 16) | low;
    }
    return read_narrow(bits);
}

inline void ArithmeticEncoder::encode_bit(BitModel& m, std::uint32_t bit) {
    std::uint64_t base = base_;
    std::uint32_t length = length_;
    const std::uint32_t x = m.bit_0_prob_ * (length >> coder_limits::kBitLengthShift);
    if (bit == 0) {
        length = x;
        ++m.bit_0_count_;
    } else {
        base += x;
        length -= x;
    }
    renormalize(base, length);
    if (--m.bits_until_update_ == 0) m.update();
}

inline void ArithmeticEncoder::encode_symbol(ArithmeticModel& m, std::uint32_t sym) {
    // Locals, loaded before renormalize() stores bytes, which the compiler must assume
    // alias everything else.
    const ArithmeticModel::Entry* distribution = m.distribution_;
    ArithmeticModel::Entry* count = m.symbol_count_ + sym;
    std::uint64_t base = base_;
    std::uint32_t length = length_;
    if (sym == m.last_symbol_) {
        const std::uint32_t x = distribution[sym] * (length >> coder_limits::kSymbolLengthShift);
        base += x;
        length -= x;
    } else {
        length >>= coder_limits::kSymbolLengthShift;
        const std::uint32_t x = distribution[sym] * length;
        base += x;
        length = distribution[sym + 1] * length - x;
    }
    renormalize(base, length);
    ++*count;
    if (--m.symbols_until_update_ == 0) m.update();
}

inline void ArithmeticEncoder::renormalize(std::uint64_t base, std::uint32_t length) {
    // Ends every coding step: `base` is the interval's new low end, bit 32 a carry out of
    // the 32-bit window, and `length` is in [1, 2^32). Emits the top bytes of base until
    // length >= 2^24 again (none if it already is) and stores the new interval.
    // Branch-free, even the choice of whether to renormalise at all: the byte count
    // follows from length's leading zeros. Branches on the carry, on length and a loop
    // over the bytes mispredicted enough to cost more than these few instructions, even on
    // low-entropy point records (bench/laz_bench.cpp measures chunk and BYTE14 encoding).
    const std::size_t at = written_;
    if (at >= grow_at_) [[unlikely]]
        grow();
    std::uint8_t* out = out_.data();
    // The carry goes into the last byte written. Without one, the addition of 0 lands in
    // the room at `at`, which the bytes below overwrite anyway; and there is never a carry
    // before the first byte (the interval starts inside [0, 2^32)).
    const auto carry = static_cast<std::uint8_t>(base >> 32);
    std::uint8_t& last = out[at - carry];
    const auto carried = static_cast<std::uint8_t>(last + carry);
    last = carried;
    if (carry > carried) [[unlikely]]
        propagate_carry(at - 1);  // that byte was 0xFF: ripple on
    const auto low = static_cast<std::uint32_t>(base);
    const std::uint32_t big_endian = __builtin_bswap32(low);  // bytes.hpp: little-endian host
    std::memcpy(out + at, &big_endian, sizeof big_endian);
    // 8 bits per byte to emit: 0, 8, 16 or 24 (`| 1` tells the compiler length != 0).
    const int shift = std::countl_zero(length | 1u) & 24;
    written_ = at + static_cast<std::size_t>(shift >> 3);
    base_ = low << shift;
    length_ = length << shift;
}

inline void ArithmeticEncoder::write_bits(std::uint32_t bits, std::uint32_t value) {
    if (bits > 19) {
        write_short(static_cast<std::uint16_t>(value & 0xFFFFu));
        value >>= 16;
        bits -= 16;
    }
    write_narrow(bits, value);
}

}  // namespace lidarmill::laz
