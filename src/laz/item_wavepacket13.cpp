// WAVEPACKET13: the 29-byte wave packet descriptor of point formats 4 and 5 (descriptor
// index, byte offset of the waveform, packet size, return point location, x(t), y(t), z(t)).
// The descriptor coding is shared with WAVEPACKET14 (wave_packet_coder.hpp).
#include "laz/item_codec.hpp"
#include "laz/wave_packet_coder.hpp"

namespace lidarmill::laz {
namespace {

using detail::WavePacket;

// The models and last descriptor the encoder and decoder must evolve identically.
struct WavePacket13State {
    explicit WavePacket13State(bool compress) : models(compress) {}

    void init(const std::uint8_t* first) {
        models.init();
        last = WavePacket::load(first);
    }

    detail::WavePacketModels models;
    WavePacket last;
};

class WavePacket13Decoder final : public ItemDecoder {
  public:
    explicit WavePacket13Decoder(ArithmeticDecoder& dec) : dec_(dec), s_(false) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void decode(std::uint8_t* item) override {
        s_.last = detail::decode_wave_packet(dec_, s_.models, s_.last, item);
    }

  private:
    ArithmeticDecoder& dec_;
    WavePacket13State s_;
};

class WavePacket13Encoder final : public ItemEncoder {
  public:
    explicit WavePacket13Encoder(ArithmeticEncoder& enc) : enc_(enc), s_(true) {}

    void init(const std::uint8_t* first) override { s_.init(first); }

    void encode(const std::uint8_t* item) override {
        s_.last = detail::encode_wave_packet<detail::NextPacketTest::signed_size>(enc_, s_.models,
                                                                                  s_.last, item);
    }

  private:
    ArithmeticEncoder& enc_;
    WavePacket13State s_;
};

}  // namespace

std::unique_ptr<ItemDecoder> make_wavepacket13_decoder(ArithmeticDecoder& dec) {
    return std::make_unique<WavePacket13Decoder>(dec);
}

std::unique_ptr<ItemEncoder> make_wavepacket13_encoder(ArithmeticEncoder& enc) {
    return std::make_unique<WavePacket13Encoder>(enc);
}

}  // namespace lidarmill::laz
