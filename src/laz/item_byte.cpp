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

// The models and last bytes the v2 encoder and decoder must evolve identically.
struct ByteV2State {
    ByteV2State(std::uint16_t size, bool compress)
        : models(detail::make_models(size, 256, compress)), last(size) {}

    void init(const std::uint8_t* first) {
        for (auto& m : models) m.init();
        std::memcpy(last.data(), first, last.size());
    }

    std::vector<ArithmeticModel> models;  // one per byte
    std::vector<std::uint8_t> last;
};

class ByteV2Decoder final : public ItemDecoder {
  public:
    ByteV2Decoder(std::uint16_t size, ArithmeticDecoder& dec) : dec_(dec), s_(size, false) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void decode(std::uint8_t* item) override {
        for (std::size_t i = 0; i < s_.last.size(); ++i) {
            s_.last[i] = detail::fold_u8(
                static_cast<std::int32_t>(s_.last[i] + dec_.decode_symbol(s_.models[i])));
        }
        std::memcpy(item, s_.last.data(), s_.last.size());
    }

  private:
    ArithmeticDecoder& dec_;
    ByteV2State s_;
};

class ByteV2Encoder final : public ItemEncoder {
  public:
    ByteV2Encoder(std::uint16_t size, ArithmeticEncoder& enc) : enc_(enc), s_(size, true) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void encode(const std::uint8_t* item) override {
        for (std::size_t i = 0; i < s_.last.size(); ++i) {
            enc_.encode_symbol(s_.models[i], detail::fold_u8(item[i] - s_.last[i]));
        }
        std::memcpy(s_.last.data(), item, s_.last.size());
    }

  private:
    ArithmeticEncoder& enc_;
    ByteV2State s_;
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
