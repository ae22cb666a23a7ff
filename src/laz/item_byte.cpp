// BYTE: extra bytes after the standard record, each predicted from the same byte of the
// previous record.
#include <cstring>
#include <vector>

#include "laz/item_codec.hpp"

namespace lidarmill::laz {
namespace {

class ByteV1Decoder final : public ItemDecoder {
  public:
    ByteV1Decoder(std::uint16_t size, ArithmeticDecoder& dec)
        : dec_(dec), ic_(8, size), last_(size) {}

    void init(const std::uint8_t* first) override {
        ic_.init_decompressor();
        std::memcpy(last_.data(), first, last_.size());
    }

    void decode(std::uint8_t* item) override {
        for (std::uint32_t i = 0; i < last_.size(); ++i) {
            last_[i] = static_cast<std::uint8_t>(ic_.decompress(dec_, last_[i], i));
        }
        std::memcpy(item, last_.data(), last_.size());
    }

  private:
    ArithmeticDecoder& dec_;
    IntegerCompressor ic_;
    std::vector<std::uint8_t> last_;
};

std::vector<ArithmeticModel> byte_models(std::uint16_t size, bool compress) {
    std::vector<ArithmeticModel> models;
    models.reserve(size);
    for (std::uint16_t i = 0; i < size; ++i) models.emplace_back(256, compress);
    return models;
}

class ByteV2Decoder final : public ItemDecoder {
  public:
    ByteV2Decoder(std::uint16_t size, ArithmeticDecoder& dec)
        : dec_(dec), models_(byte_models(size, false)), last_(size) {}

    void init(const std::uint8_t* first) override {
        for (auto& m : models_) m.init();
        std::memcpy(last_.data(), first, last_.size());
    }

    void decode(std::uint8_t* item) override {
        for (std::size_t i = 0; i < last_.size(); ++i) {
            last_[i] = detail::fold_u8(
                static_cast<std::int32_t>(last_[i] + dec_.decode_symbol(models_[i])));
        }
        std::memcpy(item, last_.data(), last_.size());
    }

  private:
    ArithmeticDecoder& dec_;
    std::vector<ArithmeticModel> models_;
    std::vector<std::uint8_t> last_;
};

class ByteV2Encoder final : public ItemEncoder {
  public:
    ByteV2Encoder(std::uint16_t size, ArithmeticEncoder& enc)
        : enc_(enc), models_(byte_models(size, true)), last_(size) {}

    void init(const std::uint8_t* first) override {
        for (auto& m : models_) m.init();
        std::memcpy(last_.data(), first, last_.size());
    }

    void encode(const std::uint8_t* item) override {
        for (std::size_t i = 0; i < last_.size(); ++i) {
            enc_.encode_symbol(models_[i], detail::fold_u8(item[i] - last_[i]));
        }
        std::memcpy(last_.data(), item, last_.size());
    }

  private:
    ArithmeticEncoder& enc_;
    std::vector<ArithmeticModel> models_;
    std::vector<std::uint8_t> last_;
};

}  // namespace

std::unique_ptr<ItemDecoder> make_byte_decoder(std::uint16_t version, std::uint16_t size,
                                               ArithmeticDecoder& dec) {
    if (version == 1) return std::make_unique<ByteV1Decoder>(size, dec);
    return std::make_unique<ByteV2Decoder>(size, dec);
}

std::unique_ptr<ItemEncoder> make_byte_encoder(std::uint16_t size, ArithmeticEncoder& enc) {
    return std::make_unique<ByteV2Encoder>(size, enc);
}

}  // namespace lidarmill::laz
