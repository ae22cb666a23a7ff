#include "laz/layer_append.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

#include "laz/layered.hpp"
#include "laz/layered_items.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace {

[[noreturn]] void throw_chunk(const std::string& why) {
    throw util::InputError("", "layered chunk: " + why);
}

}  // namespace

std::string why_layers_cannot_be_appended(const LaszipVlr& input, std::uint16_t record_length,
                                          std::uint16_t appended_bytes) {
    if (input.compressor != Compressor::layered_chunked) {
        return "not layered LAZ (compressor 3)";
    }
    try {
        layered_layer_count(input, record_length);  // checks the item list
    } catch (const util::InputError& e) {
        return e.problem();
    }
    for (std::size_t i = 0; i + 1 < input.items.size(); ++i) {
        if (input.items[i].type == ItemType::byte14) return "BYTE14 is not the last LAZ item";
    }
    if (std::size_t{record_length} + appended_bytes > std::numeric_limits<std::uint16_t>::max()) {
        return "records would exceed 65535 bytes";
    }
    if (appended_bytes == 0) return "no bytes to append";
    return {};
}

LayerAppender::LayerAppender(const LaszipVlr& input, std::uint16_t input_record_length,
                             std::uint16_t appended_bytes)
    : output_vlr_(input),
      input_record_length_(input_record_length),
      appended_bytes_(appended_bytes) {
    if (auto why = why_layers_cannot_be_appended(input, input_record_length, appended_bytes);
        !why.empty()) {
        throw util::InputError("", why);
    }
    input_layers_ = layered_layer_count(input, input_record_length);
    point_v4_ = input.items.front().version == 4;
    auto& items = output_vlr_.items;
    if (items.back().type == ItemType::byte14) {
        items.back().size = static_cast<std::uint16_t>(items.back().size + appended_bytes);
    } else {
        // LASzip gives all items of a file the same version.
        items.push_back(
            {ItemType::byte14, appended_bytes, static_cast<std::uint16_t>(point_v4_ ? 4 : 3)});
    }
    byte_v4_ = items.back().version == 4;
}

std::vector<std::uint8_t> LayerAppender::append(std::span<const std::uint8_t> input_chunk,
                                                std::size_t points,
                                                std::span<const std::uint8_t> appended,
                                                std::span<const std::uint8_t> channels) const {
    if (points == 0) return {};
    if (appended.size() / appended_bytes_ < points || channels.size() < points) {
        throw std::invalid_argument("LayerAppender::append: fewer appended bytes than points");
    }
    if (points > std::numeric_limits<std::uint32_t>::max()) {
        throw std::invalid_argument("LayerAppender::append: more than 2^32-1 points");
    }
    const std::size_t first = input_record_length_;
    const std::size_t table = 4 + 4 * input_layers_;
    if (input_chunk.size() < first) {
        throw_chunk(std::to_string(input_chunk.size()) + " bytes, too short for its first record");
    }
    // A one-point chunk may lack its (empty) layer table.
    const bool has_table = input_chunk.size() >= first + table;
    if (!has_table && points > 1) throw_chunk("ends inside its table of layer sizes");
    std::size_t input_layer_bytes = 0;
    if (has_table) {
        for (std::size_t i = 0; i < input_layers_; ++i) {
            input_layer_bytes +=
                util::load_le<std::uint32_t>(input_chunk.data() + first + 4 + 4 * i);
        }
        if (input_layer_bytes > input_chunk.size() - first - table) {
            throw_chunk("its layers run past the end of the chunk");
        }
    }

    layered::Byte14Encoder encoder(appended_bytes_,
                                   byte_v4_ ? layered::Revision::v4 : layered::Revision::v3);
    encoder.init(appended.data(), channels[0] & 3u);
    for (std::size_t i = 1; i < points; ++i) {
        // What POINT14 hands the other items (see layered::Revision).
        const std::uint32_t channel = channels[i] & 3u;
        const bool switched = channel != (channels[i - 1] & 3u);
        encoder.encode(appended.data() + i * appended_bytes_, point_v4_ || switched ? channel : 0u);
    }
    encoder.done();
    std::size_t new_layer_bytes = 0;
    for (std::size_t i = 0; i < appended_bytes_; ++i) new_layer_bytes += encoder.layer(i).size();

    std::vector<std::uint8_t> out(first + appended_bytes_ + table + 4 * appended_bytes_ +
                                  input_layer_bytes + new_layer_bytes);
    std::uint8_t* cursor = out.data();
    std::memcpy(cursor, input_chunk.data(), first);
    std::memcpy(cursor + first, appended.data(), appended_bytes_);
    cursor += first + appended_bytes_;
    util::store_le<std::uint32_t>(cursor, static_cast<std::uint32_t>(points));
    cursor += 4;
    if (has_table) {
        std::memcpy(cursor, input_chunk.data() + first + 4, 4 * input_layers_);
    } else {
        std::memset(cursor, 0, 4 * input_layers_);
    }
    cursor += 4 * input_layers_;
    for (std::size_t i = 0; i < appended_bytes_; ++i) {
        util::store_le<std::uint32_t>(cursor, static_cast<std::uint32_t>(encoder.layer(i).size()));
        cursor += 4;
    }
    if (input_layer_bytes > 0) {
        std::memcpy(cursor, input_chunk.data() + first + table, input_layer_bytes);
        cursor += input_layer_bytes;
    }
    for (std::size_t i = 0; i < appended_bytes_; ++i) {
        const auto layer = encoder.layer(i);
        if (!layer.empty()) std::memcpy(cursor, layer.data(), layer.size());
        cursor += layer.size();
    }
    return out;
}

}  // namespace lidarmill::laz
