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
    std::int32_t low = detail::low_byte(last);
    std::int32_t high = detail::high_byte(last);
    if (sym & 1u) low = detail::decode_byte(dec, m.diff_low, low);
    if (sym & 2u) high = detail::decode_byte(dec, m.diff_high, high);
    return static_cast<std::uint16_t>(low | (high << 8));
}

bool encode_nir(ArithmeticEncoder& enc, NirModels& m, std::uint16_t last, std::uint16_t now) {
    const std::int32_t diff_low = detail::low_byte(now) - detail::low_byte(last);
    const std::int32_t diff_high = detail::high_byte(now) - detail::high_byte(last);
    const std::uint32_t sym = (diff_low != 0 ? 1u : 0u) | (diff_high != 0 ? 2u : 0u);
    enc.encode_symbol(m.byte_used, sym);
    if (sym & 1u) enc.encode_symbol(m.diff_low, detail::fold_u8(diff_low));
    if (sym & 2u) enc.encode_symbol(m.diff_high, detail::fold_u8(diff_high));
    return sym != 0;
}

}  // namespace lidarmill::laz::layered
