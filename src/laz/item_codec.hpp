#pragma once
// Per-item codecs of the pointwise LAZ compressors (1 and 2, point formats 0-5). Each item
// (POINT10, GPSTIME11, RGB12, WAVEPACKET13, extra BYTEs) predicts from its own previous
// value; a chunk starts with the first record raw, then one arithmetic stream carries
// every following record item by item.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "laz/arithmetic.hpp"
#include "laz/coder_utils.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/laszip_vlr.hpp"

namespace lidarmill::laz {

class ItemDecoder {
  public:
    virtual ~ItemDecoder() = default;
    // Resets all statistics and takes the chunk's raw first item as the previous value.
    virtual void init(const std::uint8_t* first_item) = 0;
    virtual void decode(std::uint8_t* item) = 0;
};

class ItemEncoder {
  public:
    virtual ~ItemEncoder() = default;
    virtual void init(const std::uint8_t* first_item) = 0;
    virtual void encode(const std::uint8_t* item) = 0;
};

// Throw util::InputError("", ...) for an item type/version this codec does not handle.
std::unique_ptr<ItemDecoder> make_item_decoder(const LazItem& item, ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_item_encoder(const LazItem& item, ArithmeticEncoder& enc);

// Individual factories, one per item file.
std::unique_ptr<ItemDecoder> make_point10_decoder(std::uint16_t version, ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_point10_encoder(ArithmeticEncoder& enc);
std::unique_ptr<ItemDecoder> make_gpstime11_decoder(std::uint16_t version, ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_gpstime11_encoder(ArithmeticEncoder& enc);
std::unique_ptr<ItemDecoder> make_rgb12_decoder(std::uint16_t version, ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_rgb12_encoder(ArithmeticEncoder& enc);
std::unique_ptr<ItemDecoder> make_byte_decoder(std::uint16_t version, std::uint16_t size,
                                               ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_byte_encoder(std::uint16_t size, ArithmeticEncoder& enc);
std::unique_ptr<ItemDecoder> make_wavepacket13_decoder(ArithmeticDecoder& dec);
std::unique_ptr<ItemEncoder> make_wavepacket13_encoder(ArithmeticEncoder& enc);

namespace detail {

// Running median of the last five values, updated in O(1) as in LASzip.
class StreamingMedian5 {
  public:
    void init() {
        values_ = {0, 0, 0, 0, 0};
        high_ = true;
    }
    void add(std::int32_t v);
    std::int32_t get() const { return values_[2]; }

  private:
    std::array<std::int32_t, 5> values_{};
    bool high_ = true;
};

// Contexts of the y and z correctors of POINT10 v2 and POINT14, from the k of the
// previous corrector(s) and whether the point is a single return, as LASzip derives them.
constexpr std::uint32_t y_context(std::uint32_t n, std::uint32_t k_x) {
    return (n == 1 ? 1u : 0u) + (k_x < 20 ? (k_x & ~1u) : 20u);
}
constexpr std::uint32_t z_context(std::uint32_t n, std::uint32_t k_xy) {
    return (n == 1 ? 1u : 0u) + (k_xy < 18 ? (k_xy & ~1u) : 18u);
}

// `count` independent models of `symbols` symbols each.
inline std::vector<ArithmeticModel> make_models(std::size_t count, std::uint32_t symbols,
                                                bool compress) {
    std::vector<ArithmeticModel> models;
    models.reserve(count);
    for (std::size_t i = 0; i < count; ++i) models.emplace_back(symbols, compress);
    return models;
}

// Context tables indexed [number_of_returns][return_number]; they also separate the
// "impossible" combinations some writers produce.
extern const std::uint8_t kNumberReturnMap[8][8];
extern const std::uint8_t kNumberReturnLevel[8][8];

// 256 symbol models created on first use of a context byte (most contexts never occur),
// all reset at every chunk start.
class LazyByteModels {
  public:
    explicit LazyByteModels(bool compress) : compress_(compress) {}
    void init() {
        for (auto& model : models_) {
            if (model) model->init();
        }
    }
    ArithmeticModel& operator[](std::uint8_t context) {
        auto& model = models_[context];
        if (!model) model = std::make_unique<ArithmeticModel>(256, compress_);
        return *model;
    }

  private:
    bool compress_;
    std::array<std::unique_ptr<ArithmeticModel>, 256> models_;
};

}  // namespace detail
}  // namespace lidarmill::laz
