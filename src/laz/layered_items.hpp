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
#include <vector>

#include "laz/arithmetic.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/item_codec.hpp"

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

// Up to four GPS time sequences (interleaved flight lines / scanners) per channel.
struct GpsTimeState {
    std::uint32_t last = 0;
    std::uint32_t next = 0;
    std::array<std::uint64_t, 4> last_gps_time{};
    std::array<std::int32_t, 4> last_diff{};
    std::array<std::int32_t, 4> multi_extreme_counter{};
};

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
    GpsTimeState gps;
    ArithmeticModel gps_time_multi;
    ArithmeticModel gps_time_0diff;
    IntegerCompressor ic_gps_time;
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

class Point14Decoder {
  public:
    static constexpr std::size_t kSize = 30;
    static constexpr std::size_t kLayerCount = kPoint14Layers;

    explicit Point14Decoder(Revision revision = Revision::v3) : revision_(revision) {}
    // Starts a chunk whose first (raw) record is `first`; returns its channel. With
    // `positions_only`, only the XY, Z and classification layers are decoded (what
    // LASzip calls selective decompression): the other fields keep the first record's
    // values.
    std::uint32_t init(LayerBytes layers, const std::uint8_t* first, bool positions_only = false);
    // Decodes the next record; returns the context for the other items (see Revision).
    std::uint32_t decode(std::uint8_t* record);

  private:
    Revision revision_;
    Point14Context& context(std::uint32_t channel);
    void read_gps_time(Point14Context& c);

    std::array<std::unique_ptr<Point14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    std::array<ArithmeticDecoder, kPoint14Layers> dec_;
    std::array<bool, kPoint14Layers> has_layer_{};
};

class Point14Encoder {
  public:
    static constexpr std::size_t kSize = 30;
    static constexpr std::size_t kLayerCount = kPoint14Layers;

    explicit Point14Encoder(Revision revision = Revision::v3) : revision_(revision) {}
    std::uint32_t init(const std::uint8_t* first);
    // Encodes the next record; returns the context for the other items (see Revision).
    std::uint32_t encode(const std::uint8_t* record);
    void done();
    // Empty for a layer whose field never changed in the chunk.
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    Revision revision_;
    Point14Context& context(std::uint32_t channel);
    void write_gps_time(Point14Context& c, std::uint64_t gps_time);

    std::array<std::unique_ptr<Point14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    std::array<ArithmeticEncoder, kPoint14Layers> enc_;
    std::array<bool, kPoint14Layers> changed_{};
};

// ------------------------------------------------ RGB14 (6 bytes) / RGBNIR14 (8 bytes)

struct RgbModels {
    explicit RgbModels(bool compress);
    void init();
    ArithmeticModel byte_used;
    std::vector<ArithmeticModel> diff;  // 6: low/high byte of R, G, B
};

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
    RgbModels rgb;
    std::optional<NirModels> nir;
};

// The difference coding of one RGB triple / one NIR value (item_rgb14.cpp, item_rgbnir14.cpp).
void decode_rgb(ArithmeticDecoder& dec, RgbModels& m, const std::uint16_t* last,
                std::uint16_t* out);
// Returns whether anything differed from `last`.
bool encode_rgb(ArithmeticEncoder& enc, RgbModels& m, const std::uint16_t* last,
                const std::uint16_t* now);
std::uint16_t decode_nir(ArithmeticDecoder& dec, NirModels& m, std::uint16_t last);
bool encode_nir(ArithmeticEncoder& enc, NirModels& m, std::uint16_t last, std::uint16_t now);

class ColorDecoder {
  public:
    ColorDecoder(bool with_nir, Revision revision) : with_nir_(with_nir), revision_(revision) {}
    std::size_t size() const { return with_nir_ ? 8 : 6; }
    std::size_t layer_count() const { return with_nir_ ? 2 : 1; }
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    ColorContext& context(std::uint32_t channel);

    bool with_nir_;
    Revision revision_;
    std::array<std::unique_ptr<ColorContext>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    ArithmeticDecoder dec_rgb_;
    ArithmeticDecoder dec_nir_;
    bool has_rgb_ = false;
    bool has_nir_ = false;
};

class ColorEncoder {
  public:
    ColorEncoder(bool with_nir, Revision revision) : with_nir_(with_nir), revision_(revision) {}
    std::size_t size() const { return with_nir_ ? 8 : 6; }
    std::size_t layer_count() const { return with_nir_ ? 2 : 1; }
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    ColorContext& context(std::uint32_t channel);

    bool with_nir_;
    Revision revision_;
    std::array<std::unique_ptr<ColorContext>, kChannels> contexts_;
    std::uint32_t current_ = 0;
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

class Byte14Decoder {
  public:
    Byte14Decoder(std::size_t count, Revision revision);
    std::size_t size() const { return count_; }
    std::size_t layer_count() const { return count_; }
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    Byte14Context& context(std::uint32_t channel);

    std::size_t count_;
    Revision revision_;
    std::array<std::unique_ptr<Byte14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    std::vector<ArithmeticDecoder> dec_;
    std::vector<std::uint8_t> has_layer_;
};

class Byte14Encoder {
  public:
    Byte14Encoder(std::size_t count, Revision revision);
    std::size_t size() const { return count_; }
    std::size_t layer_count() const { return count_; }
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    Byte14Context& context(std::uint32_t channel);

    std::size_t count_;
    Revision revision_;
    std::array<std::unique_ptr<Byte14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    std::vector<ArithmeticEncoder> enc_;
    std::vector<std::uint8_t> changed_;
};

// ----------------------------------------------------------- WAVEPACKET14 (29 bytes)

struct WavePacket14Context {
    explicit WavePacket14Context(bool compress);
    void init(const std::uint8_t* seed);

    bool compress;
    bool unused = true;
    std::array<std::uint8_t, 29> last{};
    std::int32_t last_offset_diff = 0;
    std::uint32_t last_offset_kind = 0;  // how the previous offset was coded (0..3)
    ArithmeticModel packet_index;
    std::vector<ArithmeticModel> offset_kind;  // 4, by last_offset_kind
    IntegerCompressor ic_offset_diff;
    IntegerCompressor ic_packet_size;
    IntegerCompressor ic_return_point;
    IntegerCompressor ic_xyz;
};

class WavePacket14Decoder {
  public:
    static constexpr std::size_t kSize = 29;
    explicit WavePacket14Decoder(Revision revision) : revision_(revision) {}
    std::size_t size() const { return kSize; }
    std::size_t layer_count() const { return 1; }
    void init(LayerBytes layers, const std::uint8_t* first, std::uint32_t context);
    void decode(std::uint8_t* item, std::uint32_t context);

  private:
    WavePacket14Context& context(std::uint32_t channel);

    Revision revision_;
    std::array<std::unique_ptr<WavePacket14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    ArithmeticDecoder dec_;
    bool has_layer_ = false;
};

class WavePacket14Encoder {
  public:
    static constexpr std::size_t kSize = 29;
    explicit WavePacket14Encoder(Revision revision) : revision_(revision) {}
    std::size_t size() const { return kSize; }
    std::size_t layer_count() const { return 1; }
    void init(const std::uint8_t* first, std::uint32_t context);
    void encode(const std::uint8_t* item, std::uint32_t context);
    void done();
    std::span<const std::uint8_t> layer(std::size_t i) const;

  private:
    WavePacket14Context& context(std::uint32_t channel);

    Revision revision_;
    std::array<std::unique_ptr<WavePacket14Context>, kChannels> contexts_;
    std::uint32_t current_ = 0;
    ArithmeticEncoder enc_;
    bool changed_ = false;
};

}  // namespace lidarmill::laz::layered
