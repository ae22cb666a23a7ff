#pragma once
// Item codecs of LASzip's layered chunk compression (compressor 3, point formats 6-10).
// Every item spreads its fields over independent arithmetic-coded layers (so a reader
// could skip what it does not need) and keeps up to four sets of models and
// predictions, one per scanner channel; POINT14 decides the channel ("context") of each
// point and every other item follows it. layered.cpp does the chunk framing.
//
// Items work on the on-disk LAS record layout; there is no intermediate point struct.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "laz/arithmetic.hpp"
#include "laz/gps_time_coder.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/item_codec.hpp"
#include "laz/rgb_coder.hpp"
#include "laz/wave_packet_coder.hpp"

namespace lidarmill::laz::layered {

inline constexpr std::uint32_t kChannels = 4;

// Two quirks of LASzip's version 3 (and 2) items that version 4 fixed; both must be
// reproduced exactly, they change the bits:
// - POINT14 v3 hands the other items the point's channel only on points where the channel
//   changes; on all other points they get context 0 (LASzip's per-point context variable
//   starts at 0 and v3 only assigns it inside the channel-switch branch).
// - RGB14/RGBNIR14/BYTE14/WAVEPACKET14 v3, when switching to a context already used in
//   the chunk, keep predicting from (and updating) the previous context's last item.
enum class Revision { v3, v4 };

// The bytes of each layer of one item inside a chunk, in the item's layer order.
using LayerBytes = std::span<const std::span<const std::uint8_t>>;

// Creates an adaptive model on first use; LASzip creates these lazily too, and since a
// model is re-initialised at every chunk start the moment of creation does not matter.
inline ArithmeticModel& lazy_model(std::unique_ptr<ArithmeticModel>& slot, std::uint32_t symbols,
                                   bool compress) {
    if (!slot) [[unlikely]] {
        slot = std::make_unique<ArithmeticModel>(symbols, compress);
        slot->init();
    }
    return *slot;
}

// The per-channel contexts of one item and the channel the item is on. A context is
// created on first use (with `MakeArgs`) and kept across chunks; a chunk start marks all
// of them unused. `Context` has `unused`, `last` (the last item, with data()) and
// init(seed).
template <class Context, class... MakeArgs>
class ChannelContexts {
  public:
    explicit ChannelContexts(MakeArgs... make_args) : make_args_(make_args...) {}

    // A chunk starts on `channel`: returns its context for the caller to seed.
    Context& start(std::uint32_t channel) {
        for (auto& c : contexts_)
            if (c) c->unused = true;
        current_ = channel;
        return at(channel);
    }

    Context& at(std::uint32_t channel) {
        auto& slot = contexts_[channel];
        if (!slot) [[unlikely]] {
            slot = std::apply([](auto... args) { return std::make_unique<Context>(args...); },
                              make_args_);
        }
        return *slot;
    }

    Context& current() { return *contexts_[current_]; }
    std::uint32_t channel() const { return current_; }
    void set_channel(std::uint32_t channel) { current_ = channel; }

    // For the items that follow POINT14: moves to the channel it chose for this point and
    // returns the last item to predict from and update (see Revision for v3's quirk).
    auto* follow(std::uint32_t channel, Revision revision) {
        auto* last = contexts_[current_]->last.data();
        if (current_ != channel) {
            current_ = channel;
            Context& next = at(channel);
            if (next.unused) {
                next.init(last);
                last = next.last.data();
            } else if (revision == Revision::v4) {
                last = next.last.data();
            }
        }
        return last;
    }

  private:
    std::tuple<MakeArgs...> make_args_;
    std::array<std::unique_ptr<Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
};

// What an encoder hands over for one layer: nothing when the layer's field never changed
// in the chunk (the reader then repeats the first record's value), else the coded bytes.
inline std::span<const std::uint8_t> layer_bytes(const ArithmeticEncoder& enc, bool changed) {
    if (!changed) return {};
    return enc.bytes();
}

// ---------------------------------------------------------------- POINT14 (30 bytes)

// The fields of a point format 6 core record that POINT14 predicts from.
struct Point14Fields {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 0;
    std::uint16_t intensity = 0;
    std::uint8_t return_number = 0;
    std::uint8_t number_of_returns = 0;
    // edge_of_flight_line << 5 | scan_direction << 4 | classification_flags: the symbol of
    // the flags layer (the scanner channel is coded separately).
    std::uint8_t flags = 0;
    std::uint8_t scanner_channel = 0;
    std::uint8_t classification = 0;
    std::uint8_t user_data = 0;
    std::int16_t scan_angle = 0;
    std::uint16_t point_source_id = 0;
    std::uint64_t gps_time = 0;  // bit pattern of the double
    bool gps_time_change = false;
};

Point14Fields load_point14(const std::uint8_t* record);
void store_point14(std::uint8_t* record, const Point14Fields& p);

// LASzip's median of the last five coordinate differences, shared with POINT10.
using StreamingMedian5 = detail::StreamingMedian5;

struct Point14Context {
    explicit Point14Context(bool compress);
    // LASzip's createAndInitModels...: fresh models, predictions seeded from `seed`.
    void init(const Point14Fields& seed);

    bool compress;
    bool unused = true;
    Point14Fields last;
    std::array<std::uint16_t, 8> last_intensity{};
    std::array<StreamingMedian5, 12> last_x_diff{};
    std::array<StreamingMedian5, 12> last_y_diff{};
    std::array<std::int32_t, 8> last_z{};

    std::vector<ArithmeticModel> changed_values;  // 8, by last point's return kind
    ArithmeticModel scanner_channel;
    std::array<std::unique_ptr<ArithmeticModel>, 16> number_of_returns;
    std::array<std::unique_ptr<ArithmeticModel>, 16> return_number;
    ArithmeticModel return_number_gps_same;
    IntegerCompressor ic_dx;
    IntegerCompressor ic_dy;
    IntegerCompressor ic_z;
    std::array<std::unique_ptr<ArithmeticModel>, 64> classification;
    std::array<std::unique_ptr<ArithmeticModel>, 64> flags;
    std::array<std::unique_ptr<ArithmeticModel>, 64> user_data;
    IntegerCompressor ic_intensity;
    IntegerCompressor ic_scan_angle;
    IntegerCompressor ic_point_source;
    // Up to four GPS time sequences (interleaved flight lines / scanners) per channel.
    detail::GpsTimeCoder<detail::Point14GpsCodes> gps;
};

enum Point14Layer : std::size_t {
    kReturnsXy,
    kZ,
    kClassification,
    kFlags,
    kIntensity,
    kScanAngle,
    kUserData,
    kPointSource,
    kGpsTime,
    kPoint14Layers
};

// What the POINT14 encoder and decoder share.
class Point14Item {
  public:
    static constexpr std::size_t kSize = 30;
    static constexpr std::size_t kLayerCount = kPoint14Layers;

  protected:
    Point14Item(Revision revision, bool compress) : revision_(revision), contexts_(compress) {}

    Revision revision_;
    ChannelContexts<Point14Context, bool> contexts_;
};

class Point14Decoder : public Point14Item {
  public:
    explicit Point14Decoder(Revision revision = Revision::v3) : Point14Item(revision, false) {}
    // Starts a chunk whose first (raw) record is `first`; returns its channel. With
    // `positions_only`, only the XY, Z and classification layers are decoded (what
    // LASzip calls selective decompression): the other fields keep the first record's
    // values.
    std::uint32_t init(LayerBytes layers, const std::uint8_t* first, bool positions_only = false);
    // Decodes the next record; returns the context for the other items (see Revision).
    std::uint32_t decode(std::uint8_t* record);

  private:
    std::array<ArithmeticDecoder, kPoint14Layers> dec_;
    std::array<bool, kPoint14Layers> has_layer_{};
};

class Point14Encoder : public Point14Item {
  public:
    explicit Point14Encoder(Revision revision = Revision::v3) : Point14Item(revision, true) {}
    std::uint32_t init(const std::uint8_t* first);
    // Encodes the next record; returns the context for the other items (see Revision).
    std::uint32_t encode(const std::uint8_t* record);
    void done();
    // Empty for a layer whose field never changed in the chunk.
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    std::array<ArithmeticEncoder, kPoint14Layers> enc_;
    std::array<bool, kPoint14Layers> changed_{};
};

// ------------------------------------------------ RGB14 (6 bytes) / RGBNIR14 (8 bytes)

struct NirModels {
    explicit NirModels(bool compress);
    void init();
    ArithmeticModel byte_used;
    ArithmeticModel diff_low;
    ArithmeticModel diff_high;
};

// Shared by both items: RGB14 simply has no NIR models.
struct ColorContext {
    ColorContext(bool compress, bool with_nir);
    void init(const std::uint16_t* seed);

    bool unused = true;
    std::array<std::uint16_t, 4> last{};  // R, G, B, NIR
    detail::RgbModels rgb;
    std::optional<NirModels> nir;
};

// The difference coding of one NIR value (item_rgbnir14.cpp).
std::uint16_t decode_nir(ArithmeticDecoder& dec, NirModels& m, std::uint16_t last);
bool encode_nir(ArithmeticEncoder& enc, NirModels& m, std::uint16_t last, std::uint16_t now);

// What the RGB14/RGBNIR14 encoder and decoder share.
class ColorItem {
  public:
    std::size_t size() const { return with_nir_ ? 8 : 6; }
    std::size_t layer_count() const { return with_nir_ ? 2 : 1; }

  protected:
    ColorItem(bool with_nir, Revision revision, bool compress)
        : with_nir_(with_nir), revision_(revision), contexts_(compress, with_nir) {}

    bool with_nir_;
    Revision revision_;
    ChannelContexts<ColorContext, bool, bool> contexts_;
};

class ColorDecoder : public ColorItem {
  public:
    ColorDecoder(bool with_nir, Revision revision) : ColorItem(with_nir, revision, false) {}
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    ArithmeticDecoder dec_rgb_;
    ArithmeticDecoder dec_nir_;
    bool has_rgb_ = false;
    bool has_nir_ = false;
};

class ColorEncoder : public ColorItem {
  public:
    ColorEncoder(bool with_nir, Revision revision) : ColorItem(with_nir, revision, true) {}
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    ArithmeticEncoder enc_rgb_;
    ArithmeticEncoder enc_nir_;
    bool changed_rgb_ = false;
    bool changed_nir_ = false;
};

// ------------------------------------------------------------ BYTE14 (extra bytes)

struct Byte14Context {
    Byte14Context(std::size_t count, bool compress);
    void init(const std::uint8_t* seed);

    bool unused = true;
    std::vector<std::uint8_t> last;
    std::vector<ArithmeticModel> models;  // one per byte
};

// What the BYTE14 encoder and decoder share.
class Byte14Item {
  public:
    std::size_t size() const { return count_; }
    std::size_t layer_count() const { return count_; }

  protected:
    Byte14Item(std::size_t count, Revision revision, bool compress)
        : count_(count), revision_(revision), contexts_(count, compress) {}

    std::size_t count_;
    Revision revision_;
    ChannelContexts<Byte14Context, std::size_t, bool> contexts_;
};

class Byte14Decoder : public Byte14Item {
  public:
    Byte14Decoder(std::size_t count, Revision revision);
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    std::vector<ArithmeticDecoder> dec_;
    std::vector<std::uint8_t> has_layer_;
};

class Byte14Encoder : public Byte14Item {
  public:
    Byte14Encoder(std::size_t count, Revision revision);
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    std::vector<ArithmeticEncoder> enc_;
    std::vector<std::uint8_t> changed_;
};

// ----------------------------------------------------------- WAVEPACKET14 (29 bytes)

struct WavePacket14Context {
    explicit WavePacket14Context(bool compress);
    void init(const std::uint8_t* seed);

    bool unused = true;
    std::array<std::uint8_t, 29> last{};
    detail::WavePacketModels models;
};

// What the WAVEPACKET14 encoder and decoder share.
class WavePacket14Item {
  public:
    static constexpr std::size_t kSize = 29;
    std::size_t size() const { return kSize; }
    std::size_t layer_count() const { return 1; }

  protected:
    WavePacket14Item(Revision revision, bool compress) : revision_(revision), contexts_(compress) {}

    Revision revision_;
    ChannelContexts<WavePacket14Context, bool> contexts_;
};

class WavePacket14Decoder : public WavePacket14Item {
  public:
    explicit WavePacket14Decoder(Revision revision) : WavePacket14Item(revision, false) {}
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    ArithmeticDecoder dec_;
    bool has_layer_ = false;
};

class WavePacket14Encoder : public WavePacket14Item {
  public:
    explicit WavePacket14Encoder(Revision revision) : WavePacket14Item(revision, true) {}
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    ArithmeticEncoder enc_;
    bool changed_ = false;
};

}  // namespace lidarmill::laz::layered
