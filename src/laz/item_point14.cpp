// POINT14 (versions 2, 3 and 4 code identically): the core point of formats 6-10 in
// nine layers. Bit-compatible with LASzip's LASreadItemCompressed_POINT14_v3/_v4. The
// GPS time layer is GPSTIME11's coding (gps_time_coder.hpp).
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

// Return kind of the previous point: first (1) / last (2) / both / neither.
std::uint32_t last_return_kind(const Point14Fields& p) {
    return (p.return_number == 1 ? 1u : 0u) + (p.return_number >= p.number_of_returns ? 2u : 0u);
}

// Return kind of the current point, with the bits the other way round (as in LASzip).
std::uint32_t current_return_kind(std::uint32_t n, std::uint32_t r) {
    return (r == 1 ? 2u : 0u) + (r >= n ? 1u : 0u);
}

// The prediction slots and contexts a point's number of returns `n`, return number `r`
// and GPS time change select; encoder and decoder must pick the same ones.
struct ReturnSlots {
    ReturnSlots(std::uint32_t n, std::uint32_t r, bool gps_time_change)
        : median((kReturnMap6[n][r] << 1) | (gps_time_change ? 1u : 0u)),
          z(kReturnLevel8[n][r]),
          kind(current_return_kind(n, r)),
          intensity((kind << 1) | (gps_time_change ? 1u : 0u)) {}

    // The classification model, by the last class and whether this is a single return.
    std::uint32_t classification(std::uint8_t last_class) const {
        return ((last_class & 0x1Fu) << 1) + (kind == 3 ? 1u : 0u);
    }

    std::uint32_t median;     // of the XY difference medians
    std::uint32_t z;          // of the last Z values: the penetration level
    std::uint32_t kind;       // current return kind, the intensity context
    std::uint32_t intensity;  // of the last intensities
};

// The context POINT14 hands to the other items of the point (see Revision).
std::uint32_t items_context(Revision revision, bool channel_changed, std::uint32_t channel) {
    return revision == Revision::v4 || channel_changed ? channel : 0;
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
      changed_values(detail::make_models(8, 128, compress_models)),
      scanner_channel(3, compress_models),
      return_number_gps_same(13, compress_models),
      ic_dx(32, 2),
      ic_dy(32, 22),
      ic_z(32, 20),
      ic_intensity(16, 4),
      ic_scan_angle(16, 2),
      ic_point_source(16),
      gps(compress_models) {}

void Point14Context::init(const Point14Fields& seed) {
    for (auto& m : changed_values) m.init();
    scanner_channel.init();
    for (auto& m : number_of_returns)
        if (m) m->init();
    for (auto& m : return_number)
        if (m) m->init();
    return_number_gps_same.init();
    ic_dx.init(compress);
    ic_dy.init(compress);
    for (auto& m : last_x_diff) m.init();
    for (auto& m : last_y_diff) m.init();
    ic_z.init(compress);
    last_z.fill(seed.z);
    for (auto* models : {&classification, &flags, &user_data})
        for (auto& m : *models)
            if (m) m->init();
    ic_intensity.init(compress);
    last_intensity.fill(seed.intensity);
    ic_scan_angle.init(compress);
    ic_point_source.init(compress);
    gps.init(seed.gps_time);
    last = seed;
    last.gps_time_change = false;
    unused = false;
}

// ------------------------------------------------------------------------ decoder

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
    const Point14Fields p = load_point14(first);
    contexts_.start(p.scanner_channel).init(p);
    return p.scanner_channel;
}

std::uint32_t Point14Decoder::decode(std::uint8_t* record) {
    Point14Context* c = &contexts_.current();
    Point14Fields* last = &c->last;
    ArithmeticDecoder& xy = dec_[kReturnsXy];

    const std::uint32_t lpr = last_return_kind(*last) | (last->gps_time_change ? 4u : 0u);
    const std::uint32_t changed = xy.decode_symbol(c->changed_values[lpr]);

    if (changed & kChannelChanged) {
        const std::uint32_t channel =
            (contexts_.channel() + xy.decode_symbol(c->scanner_channel) + 1) % kChannels;
        Point14Context& next = contexts_.at(channel);
        if (next.unused) next.init(c->last);
        contexts_.set_channel(channel);
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

    const ReturnSlots slots(n, r, gps_time_change);

    const std::int32_t dx =
        c->ic_dx.decompress(xy, c->last_x_diff[slots.median].get(), n == 1 ? 1 : 0);
    last->x = detail::wrap_add(last->x, dx);
    c->last_x_diff[slots.median].add(dx);

    const std::int32_t dy = c->ic_dy.decompress(xy, c->last_y_diff[slots.median].get(),
                                                detail::y_context(n, c->ic_dx.k()));
    last->y = detail::wrap_add(last->y, dy);
    c->last_y_diff[slots.median].add(dy);

    if (has_layer_[kZ]) {
        const std::uint32_t k = (c->ic_dx.k() + c->ic_dy.k()) / 2;
        last->z = c->ic_z.decompress(dec_[kZ], c->last_z[slots.z], detail::z_context(n, k));
        c->last_z[slots.z] = last->z;
    }

    if (has_layer_[kClassification]) {
        const std::uint32_t context = slots.classification(last->classification);
        last->classification = static_cast<std::uint8_t>(dec_[kClassification].decode_symbol(
            lazy_model(c->classification[context], 256, false)));
    }

    if (has_layer_[kFlags]) {
        last->flags = static_cast<std::uint8_t>(
            dec_[kFlags].decode_symbol(lazy_model(c->flags[last->flags], 64, false)));
    }

    if (has_layer_[kIntensity]) {
        const auto intensity = static_cast<std::uint16_t>(c->ic_intensity.decompress(
            dec_[kIntensity], c->last_intensity[slots.intensity], slots.kind));
        c->last_intensity[slots.intensity] = intensity;
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
        c->gps.decode(dec_[kGpsTime]);
        last->gps_time = c->gps.time();
    }

    store_point14(record, *last);
    last->gps_time_change = gps_time_change;
    return items_context(revision_, (changed & kChannelChanged) != 0, contexts_.channel());
}

// ------------------------------------------------------------------------ encoder

std::uint32_t Point14Encoder::init(const std::uint8_t* first) {
    for (auto& e : enc_) e.reset();
    changed_.fill(false);
    // XY and Z are always emitted, as LASzip does.
    changed_[kReturnsXy] = changed_[kZ] = true;
    const Point14Fields p = load_point14(first);
    contexts_.start(p.scanner_channel).init(p);
    return p.scanner_channel;
}

std::uint32_t Point14Encoder::encode(const std::uint8_t* record) {
    const Point14Fields now = load_point14(record);
    Point14Context* c = &contexts_.current();
    Point14Fields* last = &c->last;
    ArithmeticEncoder& xy = enc_[kReturnsXy];

    const std::uint32_t lpr = last_return_kind(*last) | (last->gps_time_change ? 4u : 0u);

    // A point on another channel is compared with that channel's last point, if any.
    const std::uint32_t channel = now.scanner_channel;
    const bool channel_change = channel != contexts_.channel();
    Point14Context* target = c;
    if (channel_change) {
        target = &contexts_.at(channel);
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
        const int diff = static_cast<int>(channel) - static_cast<int>(contexts_.channel());
        xy.encode_symbol(c->scanner_channel,
                         static_cast<std::uint32_t>(diff > 0 ? diff - 1 : diff + 3));
        if (target->unused) {
            target->init(c->last);
            last = &target->last;
        }
        contexts_.set_channel(channel);
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

    const ReturnSlots slots(n, r, gps_time_change);

    const std::int32_t dx = detail::wrap_sub(now.x, last->x);
    c->ic_dx.compress(xy, c->last_x_diff[slots.median].get(), dx, n == 1 ? 1 : 0);
    c->last_x_diff[slots.median].add(dx);

    const std::int32_t dy = detail::wrap_sub(now.y, last->y);
    c->ic_dy.compress(xy, c->last_y_diff[slots.median].get(), dy,
                      detail::y_context(n, c->ic_dx.k()));
    c->last_y_diff[slots.median].add(dy);

    const std::uint32_t k = (c->ic_dx.k() + c->ic_dy.k()) / 2;
    c->ic_z.compress(enc_[kZ], c->last_z[slots.z], now.z, detail::z_context(n, k));
    c->last_z[slots.z] = now.z;

    if (now.classification != last->classification) changed_[kClassification] = true;
    enc_[kClassification].encode_symbol(
        lazy_model(c->classification[slots.classification(last->classification)], 256, true),
        now.classification);

    if (now.flags != last->flags) changed_[kFlags] = true;
    enc_[kFlags].encode_symbol(lazy_model(c->flags[last->flags], 64, true), now.flags);

    if (now.intensity != last->intensity) changed_[kIntensity] = true;
    c->ic_intensity.compress(enc_[kIntensity], c->last_intensity[slots.intensity], now.intensity,
                             slots.kind);
    c->last_intensity[slots.intensity] = now.intensity;

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
        c->gps.encode(enc_[kGpsTime], now.gps_time);
    }

    *last = now;
    last->gps_time_change = gps_time_change;
    return items_context(revision_, channel_change, contexts_.channel());
}

void Point14Encoder::done() {
    for (auto& e : enc_) e.done();
}

std::span<const std::uint8_t> Point14Encoder::layer(std::size_t i) const {
    return layer_bytes(enc_[i], changed_[i]);
}

}  // namespace lidarmill::laz::layered
