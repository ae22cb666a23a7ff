// Chunk framing of the layered compressor: the raw first record, the point count, the
// per-layer byte counts of every item, then the layers. Item codecs: item_*14.cpp.
#include "laz/layered.hpp"

#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "laz/layered_items.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace {

using layered::Revision;

enum class Kind { point14, color, wavepacket14, byte14 };

struct ItemSlot {
    Kind kind;
    std::size_t offset;       // in the record
    std::size_t first_layer;  // index into the chunk's layer list
    std::size_t layer_count;
};

// What the LASzip VLR's item list means for the layered codec.
struct ItemPlan {
    std::size_t record_length = 0;
    std::vector<ItemSlot> slots;  // VLR order; POINT14 first
    std::size_t layer_count = 0;
    bool nir = false;
    Revision point_revision = Revision::v3;
    Revision color_revision = Revision::v3;
    Revision wavepacket_revision = Revision::v3;
    Revision byte_revision = Revision::v3;
    std::size_t extra_bytes = 0;
    bool has_color = false;
    bool has_wavepacket = false;
    bool has_bytes = false;
};

[[noreturn]] void throw_bad_items(const std::string& why) {
    throw util::InputError("", "invalid LASzip item list for layered compression: " + why);
}

// Versions 2 (from lasproto) and 3 code the same way; 4 fixed the channel switch.
Revision revision_of(const LazItem& item, bool accepts_v2) {
    if (item.version == 4) return Revision::v4;
    if (item.version == 3 || (accepts_v2 && item.version == 2)) return Revision::v3;
    throw_bad_items("item type " + std::to_string(static_cast<int>(item.type)) + " version " +
                    std::to_string(item.version) + " not supported");
}

ItemPlan plan_items(const LaszipVlr& vlr, std::uint16_t record_length) {
    if (vlr.compressor != Compressor::layered_chunked)
        throw_bad_items("compressor is not 3 (layered)");
    if (vlr.items.empty() || vlr.items.front().type != ItemType::point14)
        throw_bad_items("the first item must be POINT14");

    ItemPlan plan;
    plan.record_length = record_length;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < vlr.items.size(); ++i) {
        const LazItem& item = vlr.items[i];
        const auto expect_size = [&](std::size_t size, const char* name) {
            if (item.size != size)
                throw_bad_items(std::string(name) + " has size " + std::to_string(item.size) +
                                ", expected " + std::to_string(size));
        };
        const auto once = [&](bool& seen, const char* name) {
            if (seen) throw_bad_items(std::string(name) + " appears twice");
            seen = true;
        };
        ItemSlot slot{Kind::point14, offset, plan.layer_count, 0};
        switch (item.type) {
            case ItemType::point14:
                if (i != 0) throw_bad_items("POINT14 appears twice");
                expect_size(30, "POINT14");
                plan.point_revision = revision_of(item, true);
                slot.layer_count = layered::kPoint14Layers;
                break;
            case ItemType::rgb14:
            case ItemType::rgbnir14: {
                const bool nir = item.type == ItemType::rgbnir14;
                once(plan.has_color, "RGB14/RGBNIR14");
                expect_size(nir ? 8 : 6, nir ? "RGBNIR14" : "RGB14");
                plan.nir = nir;
                plan.color_revision = revision_of(item, true);
                slot.kind = Kind::color;
                slot.layer_count = nir ? 2 : 1;
                break;
            }
            case ItemType::wavepacket14:
                once(plan.has_wavepacket, "WAVEPACKET14");
                expect_size(29, "WAVEPACKET14");
                plan.wavepacket_revision = revision_of(item, false);
                slot.kind = Kind::wavepacket14;
                slot.layer_count = 1;
                break;
            case ItemType::byte14:
                once(plan.has_bytes, "BYTE14");
                if (item.size == 0) throw_bad_items("BYTE14 has size 0");
                plan.byte_revision = revision_of(item, true);
                plan.extra_bytes = item.size;
                slot.kind = Kind::byte14;
                slot.layer_count = item.size;
                break;
            default:
                throw_bad_items("item type " + std::to_string(static_cast<int>(item.type)) +
                                " cannot be layered");
        }
        plan.slots.push_back(slot);
        plan.layer_count += slot.layer_count;
        offset += item.size;
    }
    if (offset != record_length)
        throw_bad_items("items add up to " + std::to_string(offset) + " bytes, record length is " +
                        std::to_string(record_length));
    return plan;
}

[[noreturn]] void throw_chunk(const std::string& why) {
    throw util::InputError("", "layered chunk: " + why);
}

class LayeredChunkDecoder final : public ChunkDecoder {
  public:
    LayeredChunkDecoder(ItemPlan plan, DecodeScope scope)
        : plan_(std::move(plan)),
          positions_only_(scope == DecodeScope::positions),
          point_(plan_.point_revision),
          layers_(plan_.layer_count) {
        if (plan_.has_color) color_.emplace(plan_.nir, plan_.color_revision);
        if (plan_.has_wavepacket) wavepacket_.emplace(plan_.wavepacket_revision);
        if (plan_.has_bytes) bytes_.emplace(plan_.extra_bytes, plan_.byte_revision);
    }

    void decode(std::span<const std::uint8_t> chunk, std::size_t point_count,
                std::span<std::uint8_t> out) override {
        const std::size_t record_length = plan_.record_length;
        if (point_count == 0) return;
        if (out.size() / record_length < point_count)
            throw std::invalid_argument("layered chunk decode: output buffer too small");
        if (chunk.size() < record_length)
            throw_chunk(std::to_string(chunk.size()) + " bytes, too short for its first record");
        std::memcpy(out.data(), chunk.data(), record_length);
        consumed_ = record_length;
        if (point_count == 1) {
            // A one-point chunk may still carry its (empty) layer table.
            if (chunk.size() >= record_length + 4 + 4 * plan_.layer_count) {
                consumed_ = record_length + split_layers(chunk.subspan(record_length));
            }
            return;
        }

        consumed_ = record_length + split_layers(chunk.subspan(record_length));
        std::size_t point = 1;
        try {
            init_items(out.data());
            if (positions_only_) {
                // The other items are not decoded: they keep the first record's bytes.
                const std::size_t tail = record_length - layered::Point14Decoder::kSize;
                for (; point < point_count; ++point) {
                    std::uint8_t* record = out.data() + point * record_length;
                    point_.decode(record);
                    if (tail > 0)
                        std::memcpy(record + layered::Point14Decoder::kSize,
                                    out.data() + layered::Point14Decoder::kSize, tail);
                }
                return;
            }
            for (; point < point_count; ++point) decode_record(out.data() + point * record_length);
        } catch (const util::InputError& e) {
            throw_chunk("point " + std::to_string(point) + " of " + std::to_string(point_count) +
                        ": " + e.problem());
        }
    }

    // Where the last decoded chunk ended: lets a reader walk chunks without a chunk table.
    std::optional<std::size_t> consumed_bytes() const override { return consumed_; }

  private:
    // Reads the layer table after the first record and points each layer at its bytes;
    // returns the bytes used by the table and the layers.
    std::size_t split_layers(std::span<const std::uint8_t> rest) {
        const std::size_t table_bytes = 4 + 4 * plan_.layer_count;
        if (rest.size() < table_bytes) throw_chunk("ends inside its table of layer sizes");
        // The stored point count is not needed: the chunk table or chunk size says it.
        std::size_t position = table_bytes;
        for (std::size_t i = 0; i < plan_.layer_count; ++i) {
            const auto size = util::load_le<std::uint32_t>(rest.data() + 4 + 4 * i);
            if (size > rest.size() - position)
                throw_chunk("layer " + std::to_string(i) + " (" + std::to_string(size) +
                            " bytes) runs past the end of the chunk");
            layers_[i] = rest.subspan(position, size);
            position += size;
        }
        return position;
    }

    layered::LayerBytes layers_of(const ItemSlot& slot) const {
        return layered::LayerBytes(layers_).subspan(slot.first_layer, slot.layer_count);
    }

    void init_items(const std::uint8_t* first) {
        const std::uint32_t context =
            point_.init(layers_of(plan_.slots[0]), first, positions_only_);
        if (positions_only_) return;
        for (std::size_t i = 1; i < plan_.slots.size(); ++i) {
            const ItemSlot& slot = plan_.slots[i];
            switch (slot.kind) {
                case Kind::color:
                    color_->init(layers_of(slot), first + slot.offset, context);
                    break;
                case Kind::wavepacket14:
                    wavepacket_->init(layers_of(slot), first + slot.offset, context);
                    break;
                case Kind::byte14:
                    bytes_->init(layers_of(slot), first + slot.offset, context);
                    break;
                case Kind::point14:
                    break;
            }
        }
    }

    void decode_record(std::uint8_t* record) {
        const std::uint32_t context = point_.decode(record);
        for (std::size_t i = 1; i < plan_.slots.size(); ++i) {
            const ItemSlot& slot = plan_.slots[i];
            switch (slot.kind) {
                case Kind::color:
                    color_->decode(record + slot.offset, context);
                    break;
                case Kind::wavepacket14:
                    wavepacket_->decode(record + slot.offset, context);
                    break;
                case Kind::byte14:
                    bytes_->decode(record + slot.offset, context);
                    break;
                case Kind::point14:
                    break;
            }
        }
    }

    ItemPlan plan_;
    bool positions_only_;
    layered::Point14Decoder point_;
    std::optional<layered::ColorDecoder> color_;
    std::optional<layered::WavePacket14Decoder> wavepacket_;
    std::optional<layered::Byte14Decoder> bytes_;
    std::vector<std::span<const std::uint8_t>> layers_;
    std::size_t consumed_ = 0;
};

class LayeredChunkEncoder final : public ChunkEncoder {
  public:
    // Codes the item versions the VLR names, so the chunks match the VLR written with
    // them; LaszipVlr::for_point_format gives version 3, what LASzip 3.4 writes.
    explicit LayeredChunkEncoder(ItemPlan plan)
        : plan_(std::move(plan)), point_(plan_.point_revision) {
        if (plan_.has_color) color_.emplace(plan_.nir, plan_.color_revision);
        if (plan_.has_wavepacket) wavepacket_.emplace(plan_.wavepacket_revision);
        if (plan_.has_bytes) bytes_.emplace(plan_.extra_bytes, plan_.byte_revision);
    }

    std::vector<std::uint8_t> encode(std::span<const std::uint8_t> records,
                                     std::size_t point_count) override {
        const std::size_t record_length = plan_.record_length;
        if (point_count == 0) return {};
        if (records.size() / record_length < point_count)
            throw std::invalid_argument("layered chunk encode: fewer records than point_count");
        if (point_count > std::numeric_limits<std::uint32_t>::max())
            throw std::invalid_argument("layered chunk encode: more than 2^32-1 points");

        init_items(records.data());
        for (std::size_t point = 1; point < point_count; ++point)
            encode_record(records.data() + point * record_length);
        return assemble(records.first(record_length), static_cast<std::uint32_t>(point_count));
    }

  private:
    void init_items(const std::uint8_t* first) {
        const std::uint32_t context = point_.init(first);
        for (std::size_t i = 1; i < plan_.slots.size(); ++i) {
            const ItemSlot& slot = plan_.slots[i];
            switch (slot.kind) {
                case Kind::color:
                    color_->init(first + slot.offset, context);
                    break;
                case Kind::wavepacket14:
                    wavepacket_->init(first + slot.offset, context);
                    break;
                case Kind::byte14:
                    bytes_->init(first + slot.offset, context);
                    break;
                case Kind::point14:
                    break;
            }
        }
    }

    void encode_record(const std::uint8_t* record) {
        const std::uint32_t context = point_.encode(record);
        for (std::size_t i = 1; i < plan_.slots.size(); ++i) {
            const ItemSlot& slot = plan_.slots[i];
            switch (slot.kind) {
                case Kind::color:
                    color_->encode(record + slot.offset, context);
                    break;
                case Kind::wavepacket14:
                    wavepacket_->encode(record + slot.offset, context);
                    break;
                case Kind::byte14:
                    bytes_->encode(record + slot.offset, context);
                    break;
                case Kind::point14:
                    break;
            }
        }
    }

    std::span<const std::uint8_t> layer(const ItemSlot& slot, std::size_t i) const {
        switch (slot.kind) {
            case Kind::point14:
                return point_.layer(i);
            case Kind::color:
                return color_->layer(i);
            case Kind::wavepacket14:
                return wavepacket_->layer(i);
            case Kind::byte14:
                return bytes_->layer(i);
        }
        return {};
    }

    std::vector<std::uint8_t> assemble(std::span<const std::uint8_t> first,
                                       std::uint32_t point_count) {
        point_.done();
        if (color_) color_->done();
        if (wavepacket_) wavepacket_->done();
        if (bytes_) bytes_->done();

        std::size_t total = first.size() + 4 + 4 * plan_.layer_count;
        for (const ItemSlot& slot : plan_.slots)
            for (std::size_t i = 0; i < slot.layer_count; ++i) total += layer(slot, i).size();

        std::vector<std::uint8_t> out(total);
        std::uint8_t* cursor = out.data();
        std::memcpy(cursor, first.data(), first.size());
        cursor += first.size();
        util::store_le(cursor, point_count);
        cursor += 4;
        for (const ItemSlot& slot : plan_.slots) {
            for (std::size_t i = 0; i < slot.layer_count; ++i) {
                util::store_le(cursor, static_cast<std::uint32_t>(layer(slot, i).size()));
                cursor += 4;
            }
        }
        for (const ItemSlot& slot : plan_.slots) {
            for (std::size_t i = 0; i < slot.layer_count; ++i) {
                const auto bytes = layer(slot, i);
                if (!bytes.empty()) std::memcpy(cursor, bytes.data(), bytes.size());
                cursor += bytes.size();
            }
        }
        return out;
    }

    ItemPlan plan_;
    layered::Point14Encoder point_;
    std::optional<layered::ColorEncoder> color_;
    std::optional<layered::WavePacket14Encoder> wavepacket_;
    std::optional<layered::Byte14Encoder> bytes_;
};

}  // namespace

std::size_t layered_layer_count(const LaszipVlr& vlr, std::uint16_t record_length) {
    return plan_items(vlr, record_length).layer_count;
}

std::unique_ptr<ChunkDecoder> make_layered_chunk_decoder(const LaszipVlr& vlr,
                                                         std::uint16_t record_length,
                                                         DecodeScope scope) {
    return std::make_unique<LayeredChunkDecoder>(plan_items(vlr, record_length), scope);
}

std::unique_ptr<ChunkEncoder> make_layered_chunk_encoder(const LaszipVlr& vlr,
                                                         std::uint16_t record_length) {
    return std::make_unique<LayeredChunkEncoder>(plan_items(vlr, record_length));
}

}  // namespace lidarmill::laz
