// POINT14 (versions 2, 3 and 4 code identically): the core point of formats 6-10 in
// nine layers. Bit-compatible with LASzip's LASreadItemCompressed_POINT14_v3/_v4.
#include <cmath>
#include <cstring>
#include <limits>

#include "laz/layered_items.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz::layered {
namespace {

// (number of returns, return number) -> one of 6 contexts for the XY medians.
constexpr std::uint8_t kReturnMap6[16][16] = {{0, 1, 2, 3, 4, 5, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5},
                                              {1, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
                                              {2, 1, 2, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3},
                                              {3, 3, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
                                              {4, 3, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
                                              {5, 3, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
                                              {3, 3, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4},
                                              {4, 3, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4},
                                              {4, 3, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4},
                                              {5, 3, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4},
                                              {5, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4},
                                              {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 4, 4, 4},
                                              {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4, 4},
                                              {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4},
                                              {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5},
                                              {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5}};

// (number of returns, return number) -> penetration level |n - r| capped at 7, for Z.
constexpr std::uint8_t kReturnLevel8[16][16] = {{0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7},
                                                {1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7},
                                                {2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7},
                                                {3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7},
                                                {4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7},
                                                {5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7},
                                                {6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7},
                                                {7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 7},
                                                {7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7},
                                                {7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6},
                                                {7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5},
                                                {7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4},
                                                {7, 7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3},
                                                {7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2},
                                                {7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0, 1},
                                                {7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1, 0}};

// The changed-values symbol: which fields differ from the channel's last point.
constexpr std::uint32_t kChannelChanged = 1u << 6;
constexpr std::uint32_t kPointSourceChanged = 1u << 5;
constexpr std::uint32_t kGpsTimeChanged = 1u << 4;
constexpr std::uint32_t kScanAngleChanged = 1u << 3;
constexpr std::uint32_t kReturnCountChanged = 1u << 2;
// The low two bits: return number same (0), +1 (1), -1 (2) or coded (3), modulo 16.

// GPS time multiplier symbols.
constexpr std::int32_t kGpsMulti = 500;
constexpr std::int32_t kGpsMultiMinus = -10;
constexpr std::uint32_t kGpsMultiCodeFull = kGpsMulti - kGpsMultiMinus + 1;  // 511
constexpr std::uint32_t kGpsMultiSymbols = kGpsMulti - kGpsMultiMinus + 5;   // 516

// Return kind of the previous point: first (1) / last (2) / both / neither.
std::uint32_t last_return_kind(const Point14Fields& p) {
    return (p.return_number == 1 ? 1u : 0u) + (p.return_number >= p.number_of_returns ? 2u : 0u);
}

// Return kind of the current point, with the bits the other way round (as in LASzip).
std::uint32_t current_return_kind(std::uint32_t n, std::uint32_t r) {
    return (r == 1 ? 2u : 0u) + (r >= n ? 1u : 0u);
}

std::uint32_t y_context(std::uint32_t n, std::uint32_t k_x) {
    return (n == 1 ? 1u : 0u) + (k_x < 20 ? (k_x & ~1u) : 20u);
}

std::uint32_t z_context(std::uint32_t n, std::uint32_t k_xy) {
    return (n == 1 ? 1u : 0u) + (k_xy < 18 ? (k_xy & ~1u) : 18u);
}

// Multiplication with the wrap-around LASzip gets from 32-bit ints, without the UB.
std::int32_t wrapping_mul(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// LASzip's I32_QUANTIZE of a float ratio. Out-of-range results take the value x86's
// conversion instruction gives (INT32_MIN), which is what LASzip binaries produce.
std::int32_t quantize_ratio(float ratio) {
    const double rounded =
        ratio >= 0 ? static_cast<double>(ratio) + 0.5 : static_cast<double>(ratio) - 0.5;
    if (!(rounded > -2147483649.0 && rounded < 2147483648.0))
        return std::numeric_limits<std::int32_t>::min();
    return static_cast<std::int32_t>(rounded);
}

bool fits_int32(std::int64_t v) {
    return v == static_cast<std::int32_t>(v);
}

// The context POINT14 hands to the other items of the point (see Revision).
std::uint32_t items_context(Revision revision, bool channel_changed, std::uint32_t channel) {
    return revision == Revision::v4 || channel_changed ? channel : 0;
}

[[noreturn]] void throw_corrupt_gps_time() {
    throw util::InputError("", "corrupt GPS time layer (sequence switch loop)");
}

}  // namespace

Point14Fields load_point14(const std::uint8_t* record) {
    Point14Fields p;
    p.x = util::load_le<std::int32_t>(record);
    p.y = util::load_le<std::int32_t>(record + 4);
    p.z = util::load_le<std::int32_t>(record + 8);
    p.intensity = util::load_le<std::uint16_t>(record + 12);
    p.return_number = record[14] & 0x0F;
    p.number_of_returns = record[14] >> 4;
    const std::uint8_t bits = record[15];
    p.flags = static_cast<std::uint8_t>(((bits >> 2) & 0x30) | (bits & 0x0F));
    p.scanner_channel = (bits >> 4) & 0x03;
    p.classification = record[16];
    p.user_data = record[17];
    p.scan_angle = util::load_le<std::int16_t>(record + 18);
    p.point_source_id = util::load_le<std::uint16_t>(record + 20);
    p.gps_time = util::load_le<std::uint64_t>(record + 22);
    return p;
}

void store_point14(std::uint8_t* record, const Point14Fields& p) {
    util::store_le(record, p.x);
    util::store_le(record + 4, p.y);
    util::store_le(record + 8, p.z);
    util::store_le(record + 12, p.intensity);
    record[14] = static_cast<std::uint8_t>(p.return_number | (p.number_of_returns << 4));
    record[15] = static_cast<std::uint8_t>(((p.flags & 0x30) << 2) | (p.scanner_channel << 4) |
                                           (p.flags & 0x0F));
    record[16] = p.classification;
    record[17] = p.user_data;
    util::store_le(record + 18, p.scan_angle);
    util::store_le(record + 20, p.point_source_id);
    util::store_le(record + 22, p.gps_time);
}

Point14Context::Point14Context(bool compress_models)
    : compress(compress_models),
      scanner_channel(3, compress_models),
      return_number_gps_same(13, compress_models),
      ic_dx(32, 2),
      ic_dy(32, 22),
      ic_z(32, 20),
      ic_intensity(16, 4),
      ic_scan_angle(16, 2),
      ic_point_source(16),
      gps_time_multi(kGpsMultiSymbols, compress_models),
      gps_time_0diff(5, compress_models),
      ic_gps_time(32, 9) {
    changed_values.reserve(8);
    for (int i = 0; i < 8; ++i) changed_values.emplace_back(128, compress_models);
}

void Point14Context::init(const Point14Fields& seed) {
    const auto init_ic = [this](IntegerCompressor& ic) {
        if (compress) {
            ic.init_compressor();
        } else {
            ic.init_decompressor();
        }
    };
    for (auto& m : changed_values) m.init();
    scanner_channel.init();
    for (auto& m : number_of_returns)
        if (m) m->init();
    for (auto& m : return_number)
        if (m) m->init();
    return_number_gps_same.init();
    init_ic(ic_dx);
    init_ic(ic_dy);
    for (auto& m : last_x_diff) m.init();
    for (auto& m : last_y_diff) m.init();
    init_ic(ic_z);
    last_z.fill(seed.z);
    for (auto* models : {&classification, &flags, &user_data})
        for (auto& m : *models)
            if (m) m->init();
    init_ic(ic_intensity);
    last_intensity.fill(seed.intensity);
    init_ic(ic_scan_angle);
    init_ic(ic_point_source);
    gps_time_multi.init();
    gps_time_0diff.init();
    init_ic(ic_gps_time);
    gps = GpsTimeState{};
    gps.last_gps_time[0] = seed.gps_time;
    last = seed;
    last.gps_time_change = false;
    unused = false;
}

// ------------------------------------------------------------------------ decoder

Point14Context& Point14Decoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<Point14Context>(false);
    return *slot;
}

std::uint32_t Point14Decoder::init(LayerBytes layers, const std::uint8_t* first,
                                   bool positions_only) {
    // The XY layer always has bytes; an empty other layer means its field is constant
    // in the chunk. No layer feeds the predictions of XY, Z or the classification but its
    // own, which is what makes skipping the others safe.
    if (layers[kReturnsXy].empty()) throw util::InputError("", "empty POINT14 XY layer");
    for (std::size_t i = 0; i < kPoint14Layers; ++i) {
        const bool wanted = !positions_only || i == kReturnsXy || i == kZ || i == kClassification;
        has_layer_[i] = wanted && !layers[i].empty();
        if (has_layer_[i]) dec_[i].init(layers[i]);
    }
    for (auto& c : contexts_)
        if (c) c->unused = true;
    const Point14Fields p = load_point14(first);
    current_ = p.scanner_channel;
    context(current_).init(p);
    return current_;
}

std::uint32_t Point14Decoder::decode(std::uint8_t* record) {
    Point14Context* c = contexts_[current_].get();
    Point14Fields* last = &c->last;
    ArithmeticDecoder& xy = dec_[kReturnsXy];

    const std::uint32_t lpr = last_return_kind(*last) | (last->gps_time_change ? 4u : 0u);
    const std::uint32_t changed = xy.decode_symbol(c->changed_values[lpr]);

    if (changed & kChannelChanged) {
        const std::uint32_t channel =
            (current_ + xy.decode_symbol(c->scanner_channel) + 1) % kChannels;
        Point14Context& next = context(channel);
        if (next.unused) next.init(c->last);
        current_ = channel;
        c = &next;
        last = &next.last;
        last->scanner_channel = static_cast<std::uint8_t>(channel);
    }

    const bool gps_time_change = (changed & kGpsTimeChanged) != 0;
    const std::uint32_t last_n = last->number_of_returns;
    const std::uint32_t last_r = last->return_number;

    std::uint32_t n = last_n;
    if (changed & kReturnCountChanged) {
        n = xy.decode_symbol(lazy_model(c->number_of_returns[last_n], 16, false));
        last->number_of_returns = static_cast<std::uint8_t>(n);
    }

    std::uint32_t r = last_r;
    switch (changed & 3) {
        case 0:
            break;
        case 1:
            r = (last_r + 1) % 16;
            break;
        case 2:
            r = (last_r + 15) % 16;
            break;
        default:
            if (gps_time_change) {
                r = xy.decode_symbol(lazy_model(c->return_number[last_r], 16, false));
            } else {
                r = (last_r + xy.decode_symbol(c->return_number_gps_same) + 2) % 16;
            }
            break;
    }
    last->return_number = static_cast<std::uint8_t>(r);

    const std::uint32_t m = kReturnMap6[n][r];
    const std::uint32_t l = kReturnLevel8[n][r];
    const std::uint32_t cpr = current_return_kind(n, r);
    const std::uint32_t median_slot = (m << 1) | (gps_time_change ? 1u : 0u);

    const std::int32_t dx =
        c->ic_dx.decompress(xy, c->last_x_diff[median_slot].get(), n == 1 ? 1 : 0);
    last->x = wrapping_add(last->x, dx);
    c->last_x_diff[median_slot].add(dx);

    const std::int32_t dy =
        c->ic_dy.decompress(xy, c->last_y_diff[median_slot].get(), y_context(n, c->ic_dx.k()));
    last->y = wrapping_add(last->y, dy);
    c->last_y_diff[median_slot].add(dy);

    if (has_layer_[kZ]) {
        const std::uint32_t k = (c->ic_dx.k() + c->ic_dy.k()) / 2;
        last->z = c->ic_z.decompress(dec_[kZ], c->last_z[l], z_context(n, k));
        c->last_z[l] = last->z;
    }

    if (has_layer_[kClassification]) {
        const std::uint32_t ccc = ((last->classification & 0x1Fu) << 1) + (cpr == 3 ? 1u : 0u);
        last->classification = static_cast<std::uint8_t>(
            dec_[kClassification].decode_symbol(lazy_model(c->classification[ccc], 256, false)));
    }

    if (has_layer_[kFlags]) {
        last->flags = static_cast<std::uint8_t>(
            dec_[kFlags].decode_symbol(lazy_model(c->flags[last->flags], 64, false)));
    }

    if (has_layer_[kIntensity]) {
        const std::uint32_t slot = (cpr << 1) | (gps_time_change ? 1u : 0u);
        const auto intensity = static_cast<std::uint16_t>(
            c->ic_intensity.decompress(dec_[kIntensity], c->last_intensity[slot], cpr));
        c->last_intensity[slot] = intensity;
        last->intensity = intensity;
    }

    if (has_layer_[kScanAngle] && (changed & kScanAngleChanged)) {
        last->scan_angle = static_cast<std::int16_t>(c->ic_scan_angle.decompress(
            dec_[kScanAngle], last->scan_angle, gps_time_change ? 1 : 0));
    }

    if (has_layer_[kUserData]) {
        last->user_data = static_cast<std::uint8_t>(dec_[kUserData].decode_symbol(
            lazy_model(c->user_data[last->user_data / 4], 256, false)));
    }

    if (has_layer_[kPointSource] && (changed & kPointSourceChanged)) {
        last->point_source_id = static_cast<std::uint16_t>(
            c->ic_point_source.decompress(dec_[kPointSource], last->point_source_id));
    }

    if (has_layer_[kGpsTime] && gps_time_change) {
        read_gps_time(*c);
        last->gps_time = c->gps.last_gps_time[c->gps.last];
    }

    store_point14(record, *last);
    last->gps_time_change = gps_time_change;
    return items_context(revision_, (changed & kChannelChanged) != 0, current_);
}

void Point14Decoder::read_gps_time(Point14Context& c) {
    ArithmeticDecoder& dec = dec_[kGpsTime];
    GpsTimeState& s = c.gps;
    const auto start_new_sequence = [&] {
        s.next = (s.next + 1) & 3;
        const auto high = static_cast<std::uint32_t>(c.ic_gps_time.decompress(
            dec, static_cast<std::int32_t>(s.last_gps_time[s.last] >> 32), 8));
        s.last_gps_time[s.next] = (static_cast<std::uint64_t>(high) << 32) | dec.read_int();
        s.last = s.next;
        s.last_diff[s.last] = 0;
        s.multi_extreme_counter[s.last] = 0;
    };
    const auto count_extreme = [&](std::int32_t diff) {
        if (++s.multi_extreme_counter[s.last] > 3) {
            s.last_diff[s.last] = diff;
            s.multi_extreme_counter[s.last] = 0;
        }
    };

    // A valid stream switches to another sequence at most once per point.
    for (int switches = 0; switches < 2; ++switches) {
        if (s.last_diff[s.last] == 0) {
            const std::uint32_t multi = dec.decode_symbol(c.gps_time_0diff);
            if (multi == 0) {
                const std::int32_t diff = c.ic_gps_time.decompress(dec, 0, 0);
                s.last_diff[s.last] = diff;
                s.last_gps_time[s.last] +=
                    static_cast<std::uint64_t>(static_cast<std::int64_t>(diff));
                s.multi_extreme_counter[s.last] = 0;
                return;
            }
            if (multi == 1) {
                start_new_sequence();
                return;
            }
            s.last = (s.last + multi - 1) & 3;
            continue;
        }

        const std::uint32_t multi = dec.decode_symbol(c.gps_time_multi);
        const std::int32_t last_diff = s.last_diff[s.last];
        if (multi == 1) {
            const std::int32_t diff = c.ic_gps_time.decompress(dec, last_diff, 1);
            s.last_gps_time[s.last] += static_cast<std::uint64_t>(static_cast<std::int64_t>(diff));
            s.multi_extreme_counter[s.last] = 0;
            return;
        }
        if (multi < kGpsMultiCodeFull) {
            std::int32_t diff;
            if (multi == 0) {
                diff = c.ic_gps_time.decompress(dec, 0, 7);
                count_extreme(diff);
            } else if (multi < static_cast<std::uint32_t>(kGpsMulti)) {
                const auto factor = static_cast<std::int32_t>(multi);
                diff = c.ic_gps_time.decompress(dec, wrapping_mul(factor, last_diff),
                                                multi < 10 ? 2 : 3);
            } else if (multi == static_cast<std::uint32_t>(kGpsMulti)) {
                diff = c.ic_gps_time.decompress(dec, wrapping_mul(kGpsMulti, last_diff), 4);
                count_extreme(diff);
            } else {
                const std::int32_t factor = kGpsMulti - static_cast<std::int32_t>(multi);
                if (factor > kGpsMultiMinus) {
                    diff = c.ic_gps_time.decompress(dec, wrapping_mul(factor, last_diff), 5);
                } else {
                    diff =
                        c.ic_gps_time.decompress(dec, wrapping_mul(kGpsMultiMinus, last_diff), 6);
                    count_extreme(diff);
                }
            }
            s.last_gps_time[s.last] += static_cast<std::uint64_t>(static_cast<std::int64_t>(diff));
            return;
        }
        if (multi == kGpsMultiCodeFull) {
            start_new_sequence();
            return;
        }
        s.last = (s.last + multi - kGpsMultiCodeFull) & 3;
    }
    throw_corrupt_gps_time();
}

// ------------------------------------------------------------------------ encoder

Point14Context& Point14Encoder::context(std::uint32_t channel) {
    auto& slot = contexts_[channel];
    if (!slot) slot = std::make_unique<Point14Context>(true);
    return *slot;
}

std::uint32_t Point14Encoder::init(const std::uint8_t* first) {
    for (auto& e : enc_) e.reset();
    changed_.fill(false);
    // XY and Z are always emitted, as LASzip does.
    changed_[kReturnsXy] = changed_[kZ] = true;
    for (auto& c : contexts_)
        if (c) c->unused = true;
    const Point14Fields p = load_point14(first);
    current_ = p.scanner_channel;
    context(current_).init(p);
    return current_;
}

std::uint32_t Point14Encoder::encode(const std::uint8_t* record) {
    const Point14Fields now = load_point14(record);
    Point14Context* c = contexts_[current_].get();
    Point14Fields* last = &c->last;
    ArithmeticEncoder& xy = enc_[kReturnsXy];

    const std::uint32_t lpr = last_return_kind(*last) | (last->gps_time_change ? 4u : 0u);

    // A point on another channel is compared with that channel's last point, if any.
    const std::uint32_t channel = now.scanner_channel;
    const bool channel_change = channel != current_;
    Point14Context* target = c;
    if (channel_change) {
        target = &context(channel);
        if (!target->unused) last = &target->last;
    }

    // Bit patterns, not doubles: -0.0 vs 0.0 and NaNs must survive the round trip.
    const bool gps_time_change = now.gps_time != last->gps_time;
    const bool point_source_change = now.point_source_id != last->point_source_id;
    const bool scan_angle_change = now.scan_angle != last->scan_angle;
    const std::uint32_t last_n = last->number_of_returns;
    const std::uint32_t last_r = last->return_number;
    const std::uint32_t n = now.number_of_returns;
    const std::uint32_t r = now.return_number;

    std::uint32_t changed =
        (channel_change ? kChannelChanged : 0u) | (point_source_change ? kPointSourceChanged : 0u) |
        (gps_time_change ? kGpsTimeChanged : 0u) | (scan_angle_change ? kScanAngleChanged : 0u) |
        (n != last_n ? kReturnCountChanged : 0u);
    if (r != last_r) {
        if (r == (last_r + 1) % 16) {
            changed |= 1;
        } else if (r == (last_r + 15) % 16) {
            changed |= 2;
        } else {
            changed |= 3;
        }
    }
    xy.encode_symbol(c->changed_values[lpr], changed);

    if (channel_change) {
        const int diff = static_cast<int>(channel) - static_cast<int>(current_);
        xy.encode_symbol(c->scanner_channel,
                         static_cast<std::uint32_t>(diff > 0 ? diff - 1 : diff + 3));
        if (target->unused) {
            target->init(c->last);
            last = &target->last;
        }
        current_ = channel;
        c = target;
    }

    if (n != last_n) xy.encode_symbol(lazy_model(c->number_of_returns[last_n], 16, true), n);

    if ((changed & 3) == 3) {
        if (gps_time_change) {
            xy.encode_symbol(lazy_model(c->return_number[last_r], 16, true), r);
        } else {
            const int diff = static_cast<int>(r) - static_cast<int>(last_r);
            xy.encode_symbol(c->return_number_gps_same,
                             static_cast<std::uint32_t>(diff > 1 ? diff - 2 : diff + 14));
        }
    }

    const std::uint32_t m = kReturnMap6[n][r];
    const std::uint32_t l = kReturnLevel8[n][r];
    const std::uint32_t cpr = current_return_kind(n, r);
    const std::uint32_t median_slot = (m << 1) | (gps_time_change ? 1u : 0u);

    const std::int32_t dx = static_cast<std::int32_t>(static_cast<std::uint32_t>(now.x) -
                                                      static_cast<std::uint32_t>(last->x));
    c->ic_dx.compress(xy, c->last_x_diff[median_slot].get(), dx, n == 1 ? 1 : 0);
    c->last_x_diff[median_slot].add(dx);

    const std::int32_t dy = static_cast<std::int32_t>(static_cast<std::uint32_t>(now.y) -
                                                      static_cast<std::uint32_t>(last->y));
    c->ic_dy.compress(xy, c->last_y_diff[median_slot].get(), dy, y_context(n, c->ic_dx.k()));
    c->last_y_diff[median_slot].add(dy);

    const std::uint32_t k = (c->ic_dx.k() + c->ic_dy.k()) / 2;
    c->ic_z.compress(enc_[kZ], c->last_z[l], now.z, z_context(n, k));
    c->last_z[l] = now.z;

    if (now.classification != last->classification) changed_[kClassification] = true;
    const std::uint32_t ccc = ((last->classification & 0x1Fu) << 1) + (cpr == 3 ? 1u : 0u);
    enc_[kClassification].encode_symbol(lazy_model(c->classification[ccc], 256, true),
                                        now.classification);

    if (now.flags != last->flags) changed_[kFlags] = true;
    enc_[kFlags].encode_symbol(lazy_model(c->flags[last->flags], 64, true), now.flags);

    if (now.intensity != last->intensity) changed_[kIntensity] = true;
    const std::uint32_t intensity_slot = (cpr << 1) | (gps_time_change ? 1u : 0u);
    c->ic_intensity.compress(enc_[kIntensity], c->last_intensity[intensity_slot], now.intensity,
                             cpr);
    c->last_intensity[intensity_slot] = now.intensity;

    if (scan_angle_change) {
        changed_[kScanAngle] = true;
        c->ic_scan_angle.compress(enc_[kScanAngle], last->scan_angle, now.scan_angle,
                                  gps_time_change ? 1 : 0);
    }

    if (now.user_data != last->user_data) changed_[kUserData] = true;
    enc_[kUserData].encode_symbol(lazy_model(c->user_data[last->user_data / 4], 256, true),
                                  now.user_data);

    if (point_source_change) {
        changed_[kPointSource] = true;
        c->ic_point_source.compress(enc_[kPointSource], last->point_source_id, now.point_source_id);
    }

    if (gps_time_change) {
        changed_[kGpsTime] = true;
        write_gps_time(*c, now.gps_time);
    }

    *last = now;
    last->gps_time_change = gps_time_change;
    return items_context(revision_, channel_change, current_);
}

void Point14Encoder::write_gps_time(Point14Context& c, std::uint64_t gps_time) {
    ArithmeticEncoder& enc = enc_[kGpsTime];
    GpsTimeState& s = c.gps;
    const auto diff_to = [&](std::uint32_t sequence) {
        return static_cast<std::int64_t>(gps_time - s.last_gps_time[sequence]);
    };
    // Another sequence within 32 bits of this time, as offset 1..3 from `last`, or 0.
    const auto find_other_sequence = [&]() -> std::uint32_t {
        for (std::uint32_t i = 1; i < 4; ++i)
            if (fits_int32(diff_to((s.last + i) & 3))) return i;
        return 0;
    };
    const auto start_new_sequence = [&](ArithmeticModel& model, std::uint32_t symbol) {
        enc.encode_symbol(model, symbol);
        c.ic_gps_time.compress(enc, static_cast<std::int32_t>(s.last_gps_time[s.last] >> 32),
                               static_cast<std::int32_t>(gps_time >> 32), 8);
        enc.write_int(static_cast<std::uint32_t>(gps_time));
        s.next = (s.next + 1) & 3;
        s.last = s.next;
        s.last_diff[s.last] = 0;
        s.multi_extreme_counter[s.last] = 0;
    };
    const auto count_extreme = [&](std::int32_t diff) {
        if (++s.multi_extreme_counter[s.last] > 3) {
            s.last_diff[s.last] = diff;
            s.multi_extreme_counter[s.last] = 0;
        }
    };

    for (;;) {
        const std::int64_t diff_64 = diff_to(s.last);
        const auto diff = static_cast<std::int32_t>(diff_64);
        const std::int32_t last_diff = s.last_diff[s.last];
        if (last_diff == 0) {
            if (fits_int32(diff_64)) {
                enc.encode_symbol(c.gps_time_0diff, 0);
                c.ic_gps_time.compress(enc, 0, diff, 0);
                s.last_diff[s.last] = diff;
                s.multi_extreme_counter[s.last] = 0;
            } else if (const std::uint32_t other = find_other_sequence(); other != 0) {
                enc.encode_symbol(c.gps_time_0diff, other + 1);
                s.last = (s.last + other) & 3;
                continue;
            } else {
                start_new_sequence(c.gps_time_0diff, 1);
            }
            s.last_gps_time[s.last] = gps_time;
            return;
        }

        if (!fits_int32(diff_64)) {
            if (const std::uint32_t other = find_other_sequence(); other != 0) {
                enc.encode_symbol(c.gps_time_multi, kGpsMultiCodeFull + other);
                s.last = (s.last + other) & 3;
                continue;
            }
            start_new_sequence(c.gps_time_multi, kGpsMultiCodeFull);
            s.last_gps_time[s.last] = gps_time;
            return;
        }

        const std::int32_t multi =
            quantize_ratio(static_cast<float>(diff) / static_cast<float>(last_diff));
        if (multi == 1) {
            enc.encode_symbol(c.gps_time_multi, 1);
            c.ic_gps_time.compress(enc, last_diff, diff, 1);
            s.multi_extreme_counter[s.last] = 0;
        } else if (multi > 0) {
            if (multi < kGpsMulti) {
                enc.encode_symbol(c.gps_time_multi, static_cast<std::uint32_t>(multi));
                c.ic_gps_time.compress(enc, wrapping_mul(multi, last_diff), diff,
                                       multi < 10 ? 2 : 3);
            } else {
                enc.encode_symbol(c.gps_time_multi, kGpsMulti);
                c.ic_gps_time.compress(enc, wrapping_mul(kGpsMulti, last_diff), diff, 4);
                count_extreme(diff);
            }
        } else if (multi < 0) {
            if (multi > kGpsMultiMinus) {
                enc.encode_symbol(c.gps_time_multi, static_cast<std::uint32_t>(kGpsMulti - multi));
                c.ic_gps_time.compress(enc, wrapping_mul(multi, last_diff), diff, 5);
            } else {
                enc.encode_symbol(c.gps_time_multi,
                                  static_cast<std::uint32_t>(kGpsMulti - kGpsMultiMinus));
                c.ic_gps_time.compress(enc, wrapping_mul(kGpsMultiMinus, last_diff), diff, 6);
                count_extreme(diff);
            }
        } else {
            enc.encode_symbol(c.gps_time_multi, 0);
            c.ic_gps_time.compress(enc, 0, diff, 7);
            count_extreme(diff);
        }
        s.last_gps_time[s.last] = gps_time;
        return;
    }
}

void Point14Encoder::done() {
    for (auto& e : enc_) e.done();
}

std::span<const std::uint8_t> Point14Encoder::layer(std::size_t i) const {
    if (!changed_[i]) return {};
    return enc_[i].bytes();
}

}  // namespace lidarmill::laz::layered
