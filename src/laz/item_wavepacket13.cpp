// WAVEPACKET13: the 29-byte wave packet descriptor of point formats 4 and 5 (descriptor
// index, byte offset of the waveform, packet size, return point location, x(t), y(t), z(t)).
#include <array>
#include <cstring>

#include "laz/item_codec.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz {
namespace {

using util::load_le;
using util::store_le;

// Layout after the leading descriptor-index byte.
struct WavePacket {
    std::uint64_t offset = 0;
    std::uint32_t packet_size = 0;
    std::int32_t return_point = 0;  // float bits, coded as integers
    std::int32_t x = 0, y = 0, z = 0;

    static WavePacket load(const std::uint8_t* p) {
        return {load_le<std::uint64_t>(p),     load_le<std::uint32_t>(p + 8),
                load_le<std::int32_t>(p + 12), load_le<std::int32_t>(p + 16),
                load_le<std::int32_t>(p + 20), load_le<std::int32_t>(p + 24)};
    }
    void store(std::uint8_t* p) const {
        store_le(p, offset);
        store_le(p + 8, packet_size);
        store_le(p + 12, return_point);
        store_le(p + 16, x);
        store_le(p + 20, y);
        store_le(p + 24, z);
    }
};

// How the offset relates to the previous packet: same, right after it, a 32-bit jump, or raw.
enum OffsetCode : std::uint32_t { kSameOffset = 0, kFollows = 1, kDelta32 = 2, kRaw64 = 3 };

struct WavePacket13State {
    explicit WavePacket13State(bool compress)
        : packet_index(256, compress),
          offset_code{ArithmeticModel(4, compress), ArithmeticModel(4, compress),
                      ArithmeticModel(4, compress), ArithmeticModel(4, compress)} {}

    void init(const std::uint8_t* first, bool compress) {
        last_diff_32 = 0;
        last_offset_code = 0;
        packet_index.init();
        for (auto& m : offset_code) m.init();
        for (IntegerCompressor* ic : {&offset_diff, &packet_size, &return_point, &xyz}) {
            compress ? ic->init_compressor() : ic->init_decompressor();
        }
        last = WavePacket::load(first + 1);
    }

    ArithmeticModel packet_index;
    std::array<ArithmeticModel, 4> offset_code;  // context: the previous offset code
    IntegerCompressor offset_diff{32};
    IntegerCompressor packet_size{32};
    IntegerCompressor return_point{32};
    IntegerCompressor xyz{32, 3};
    std::int32_t last_diff_32 = 0;
    std::uint32_t last_offset_code = 0;
    WavePacket last;
};

class WavePacket13Decoder final : public ItemDecoder {
  public:
    explicit WavePacket13Decoder(ArithmeticDecoder& dec) : dec_(dec), s_(false) {}

    void init(const std::uint8_t* first) override { s_.init(first, false); }

    void decode(std::uint8_t* item) override {
        item[0] = static_cast<std::uint8_t>(dec_.decode_symbol(s_.packet_index));
        const WavePacket& last = s_.last;
        WavePacket cur;
        s_.last_offset_code = dec_.decode_symbol(s_.offset_code[s_.last_offset_code]);
        switch (s_.last_offset_code) {
            case kSameOffset:
                cur.offset = last.offset;
                break;
            case kFollows:
                cur.offset = last.offset + last.packet_size;
                break;
            case kDelta32:
                s_.last_diff_32 = s_.offset_diff.decompress(dec_, s_.last_diff_32);
                cur.offset =
                    last.offset + static_cast<std::uint64_t>(std::int64_t{s_.last_diff_32});
                break;
            default:
                cur.offset = dec_.read_int64();
                break;
        }
        cur.packet_size = static_cast<std::uint32_t>(
            s_.packet_size.decompress(dec_, static_cast<std::int32_t>(last.packet_size)));
        cur.return_point = s_.return_point.decompress(dec_, last.return_point);
        cur.x = s_.xyz.decompress(dec_, last.x, 0);
        cur.y = s_.xyz.decompress(dec_, last.y, 1);
        cur.z = s_.xyz.decompress(dec_, last.z, 2);
        cur.store(item + 1);
        s_.last = cur;
    }

  private:
    ArithmeticDecoder& dec_;
    WavePacket13State s_;
};

class WavePacket13Encoder final : public ItemEncoder {
  public:
    explicit WavePacket13Encoder(ArithmeticEncoder& enc) : enc_(enc), s_(true) {}

    void init(const std::uint8_t* first) override { s_.init(first, true); }

    void encode(const std::uint8_t* item) override {
        enc_.encode_symbol(s_.packet_index, item[0]);
        const WavePacket cur = WavePacket::load(item + 1);
        const WavePacket& last = s_.last;
        const auto diff64 = static_cast<std::int64_t>(cur.offset - last.offset);
        const auto diff32 = static_cast<std::int32_t>(diff64);
        ArithmeticModel& code_model = s_.offset_code[s_.last_offset_code];
        if (diff64 == diff32) {
            if (diff32 == 0) {
                s_.last_offset_code = kSameOffset;
            } else if (diff32 == static_cast<std::int32_t>(last.packet_size)) {
                s_.last_offset_code = kFollows;
            } else {
                s_.last_offset_code = kDelta32;
            }
            enc_.encode_symbol(code_model, s_.last_offset_code);
            if (s_.last_offset_code == kDelta32) {
                s_.offset_diff.compress(enc_, s_.last_diff_32, diff32);
                s_.last_diff_32 = diff32;
            }
        } else {
            s_.last_offset_code = kRaw64;
            enc_.encode_symbol(code_model, kRaw64);
            enc_.write_int64(cur.offset);
        }
        s_.packet_size.compress(enc_, static_cast<std::int32_t>(last.packet_size),
                                static_cast<std::int32_t>(cur.packet_size));
        s_.return_point.compress(enc_, last.return_point, cur.return_point);
        s_.xyz.compress(enc_, last.x, cur.x, 0);
        s_.xyz.compress(enc_, last.y, cur.y, 1);
        s_.xyz.compress(enc_, last.z, cur.z, 2);
        s_.last = cur;
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
