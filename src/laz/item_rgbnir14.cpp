// The NIR half of RGBNIR14: the near-infrared value in its own layer, each byte sent as
// a difference to the channel's last value when it changed. The RGB half and the item
// codec shared with RGB14 are in item_rgb14.cpp.
#include "laz/layered_items.hpp"

namespace lidarmill::laz::layered {

NirModels::NirModels(bool compress)
    : byte_used(4, compress), diff_low(256, compress), diff_high(256, compress) {}

void NirModels::init() {
    byte_used.init();
    diff_low.init();
    diff_high.init();
}

std::uint16_t decode_nir(ArithmeticDecoder& dec, NirModels& m, std::uint16_t last) {
    const std::uint32_t sym = dec.decode_symbol(m.byte_used);
    std::uint32_t low = last & 0xFFu;
    std::uint32_t high = last >> 8;
    if (sym & 1u) low = (dec.decode_symbol(m.diff_low) + low) & 0xFFu;
    if (sym & 2u) high = (dec.decode_symbol(m.diff_high) + high) & 0xFFu;
    return static_cast<std::uint16_t>(low | (high << 8));
}

bool encode_nir(ArithmeticEncoder& enc, NirModels& m, std::uint16_t last, std::uint16_t now) {
    const int diff_low = (now & 0xFF) - (last & 0xFF);
    const int diff_high = (now >> 8) - (last >> 8);
    const std::uint32_t sym = (diff_low != 0 ? 1u : 0u) | (diff_high != 0 ? 2u : 0u);
    enc.encode_symbol(m.byte_used, sym);
    if (sym & 1u) enc.encode_symbol(m.diff_low, static_cast<std::uint32_t>(diff_low) & 0xFFu);
    if (sym & 2u) enc.encode_symbol(m.diff_high, static_cast<std::uint32_t>(diff_high) & 0xFFu);
    return sym != 0;
}

}  // namespace lidarmill::laz::layered
