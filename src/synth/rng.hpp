#pragma once
// Small explicit PRNG and hashes: the same seed must give the same bytes with any standard
// library, so no std:: distributions here.
#include <cstdint>

namespace lidarmill::synth {

constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Stateless hash of a few integers, for per-object randomness that must not depend on the
// order in which objects are visited.
constexpr std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
    return mix64(a + 0x9E3779B97F4A7C15ull + mix64(b));
}
constexpr std::uint64_t hash_of(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0,
                                std::uint64_t d = 0) {
    return hash_combine(hash_combine(hash_combine(a, b), c), d);
}

// Uniform double in [0, 1) from 53 bits.
constexpr double unit_from_bits(std::uint64_t bits) {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// SplitMix64: one 64-bit word of state, fast, good enough for scene noise.
class Rng {
  public:
    explicit constexpr Rng(std::uint64_t seed) : state_(mix64(seed ^ 0x5DEECE66Dull)) {}
    constexpr std::uint64_t next() {
        state_ += 0x9E3779B97F4A7C15ull;
        return mix64(state_);
    }
    constexpr double uniform() { return unit_from_bits(next()); }
    constexpr double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Approximately normal (Irwin-Hall of 4 uniforms), unit variance, bounded by +-3.46.
    constexpr double normalish() {
        const std::uint64_t bits = next();
        double sum = 0;
        for (int i = 0; i < 4; ++i) sum += static_cast<double>((bits >> (16 * i)) & 0xFFFF);
        return (sum / 65535.0 - 2.0) * 1.7320508075688772;
    }
    constexpr bool chance(double p) { return uniform() < p; }
    constexpr std::uint32_t below(std::uint32_t n) {
        return static_cast<std::uint32_t>((next() >> 32) * n >> 32);
    }

  private:
    std::uint64_t state_;
};

}  // namespace lidarmill::synth
