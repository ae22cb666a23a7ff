#include "laz/laszip_vlr.hpp"

#include <fmt/format.h>

#include "las/point_format.hpp"
#include "las/reader.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace {

constexpr std::size_t kFixedPartSize = 34;
constexpr std::size_t kItemSize = 6;

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
    throw util::InputError(file, "invalid LASzip VLR: " + problem);
}

// Size and versions this codec can decode, per item type; size 0 = any size >= 1.
struct ItemRule {
    std::uint16_t size;
    std::uint16_t min_version;
    std::uint16_t max_version;
};

bool rule_for(ItemType type, ItemRule& rule) {
    switch (type) {
        case ItemType::point10:
            rule = {20, 1, 2};
            return true;
        case ItemType::gpstime11:
            rule = {8, 1, 2};
            return true;
        case ItemType::rgb12:
            rule = {6, 1, 2};
            return true;
        case ItemType::byte:
            rule = {0, 1, 2};
            return true;
        case ItemType::wavepacket13:
            rule = {29, 1, 1};
            return true;
        // Version 2 of the LAS 1.4 items comes from "lasproto" and equals version 3.
        case ItemType::point14:
            rule = {30, 2, 4};
            return true;
        case ItemType::rgb14:
            rule = {6, 2, 4};
            return true;
        case ItemType::rgbnir14:
            rule = {8, 2, 4};
            return true;
        case ItemType::byte14:
            rule = {0, 2, 4};
            return true;
        case ItemType::wavepacket14:
            rule = {29, 3, 4};
            return true;
        default:
            return false;
    }
}

void check_item(const LazItem& item, Compressor compressor, const std::string& file) {
    ItemRule rule{};
    if (!rule_for(item.type, rule)) {
        fail(file, fmt::format("unknown item type {}", static_cast<unsigned>(item.type)));
    }
    const char* name = item_type_name(item.type);
    if (rule.size != 0 && item.size != rule.size) {
        fail(file, fmt::format("{} item has size {} instead of {}", name, item.size, rule.size));
    }
    if (rule.size == 0 && item.size == 0) fail(file, fmt::format("{} item has size 0", name));
    // Uncompressed data (compressor 0) carries version 0 items.
    const bool version_ok = compressor == Compressor::none ? item.version <= rule.max_version
                                                           : item.version >= rule.min_version &&
                                                                 item.version <= rule.max_version;
    if (!version_ok) fail(file, fmt::format("unsupported {} item version {}", name, item.version));
}

}  // namespace

LaszipVlr LaszipVlr::parse(std::span<const std::uint8_t> payload, const std::string& file) {
    if (payload.size() < kFixedPartSize) {
        fail(file,
             fmt::format("payload of {} bytes is shorter than {}", payload.size(), kFixedPartSize));
    }
    const std::uint8_t* p = payload.data();
    LaszipVlr vlr;
    const auto compressor = util::load_le<std::uint16_t>(p);
    vlr.coder = util::load_le<std::uint16_t>(p + 2);
    vlr.version_major = p[4];
    vlr.version_minor = p[5];
    vlr.version_revision = util::load_le<std::uint16_t>(p + 6);
    vlr.options = util::load_le<std::uint32_t>(p + 8);
    vlr.chunk_size = util::load_le<std::uint32_t>(p + 12);
    vlr.number_of_special_evlrs = util::load_le<std::int64_t>(p + 16);
    vlr.offset_to_special_evlrs = util::load_le<std::int64_t>(p + 24);
    const auto item_count = util::load_le<std::uint16_t>(p + 32);

    if (compressor > static_cast<std::uint16_t>(Compressor::layered_chunked)) {
        fail(file, fmt::format("unknown compressor {}", compressor));
    }
    vlr.compressor = static_cast<Compressor>(compressor);
    if (vlr.coder != 0) fail(file, fmt::format("unknown coder {}", vlr.coder));
    if (item_count == 0) fail(file, "no items");
    if (payload.size() < kFixedPartSize + kItemSize * item_count) {
        fail(file, fmt::format("payload of {} bytes is too short for {} items", payload.size(),
                               item_count));
    }
    vlr.items.reserve(item_count);
    for (std::size_t i = 0; i < item_count; ++i) {
        const std::uint8_t* q = p + kFixedPartSize + kItemSize * i;
        LazItem item;
        item.type = static_cast<ItemType>(util::load_le<std::uint16_t>(q));
        item.size = util::load_le<std::uint16_t>(q + 2);
        item.version = util::load_le<std::uint16_t>(q + 4);
        check_item(item, vlr.compressor, file);
        vlr.items.push_back(item);
    }
    if (vlr.compressor != Compressor::none && vlr.compressor != Compressor::pointwise &&
        vlr.chunk_size == 0) {
        fail(file, "chunk size 0");
    }
    return vlr;
}

std::vector<std::uint8_t> LaszipVlr::serialize() const {
    std::vector<std::uint8_t> out(kFixedPartSize + kItemSize * items.size());
    std::uint8_t* p = out.data();
    util::store_le<std::uint16_t>(p, static_cast<std::uint16_t>(compressor));
    util::store_le<std::uint16_t>(p + 2, coder);
    p[4] = version_major;
    p[5] = version_minor;
    util::store_le<std::uint16_t>(p + 6, version_revision);
    util::store_le<std::uint32_t>(p + 8, options);
    util::store_le<std::uint32_t>(p + 12, chunk_size);
    util::store_le<std::int64_t>(p + 16, number_of_special_evlrs);
    util::store_le<std::int64_t>(p + 24, offset_to_special_evlrs);
    util::store_le<std::uint16_t>(p + 32, static_cast<std::uint16_t>(items.size()));
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::uint8_t* q = p + kFixedPartSize + kItemSize * i;
        util::store_le<std::uint16_t>(q, static_cast<std::uint16_t>(items[i].type));
        util::store_le<std::uint16_t>(q + 2, items[i].size);
        util::store_le<std::uint16_t>(q + 4, items[i].version);
    }
    return out;
}

las::Vlr LaszipVlr::to_vlr() const {
    las::Vlr vlr;
    vlr.user_id = "laszip encoded";
    vlr.record_id = 22204;
    vlr.description = "http://laszip.org";
    vlr.data = serialize();
    return vlr;
}

LaszipVlr LaszipVlr::for_point_format(std::uint8_t point_format, std::uint16_t record_length,
                                      std::uint32_t chunk_size) {
    if (point_format > las::kMaxPointFormat) {
        throw util::UsageError(fmt::format("no LAZ encoding for point format {}", point_format));
    }
    const std::uint16_t base = las::base_record_length(point_format);
    if (record_length < base) {
        throw util::UsageError(fmt::format("record length {} is too short for point format {}",
                                           record_length, point_format));
    }
    LaszipVlr vlr;
    vlr.version_major = 3;
    vlr.version_minor = 4;
    vlr.version_revision = 3;
    vlr.chunk_size = chunk_size;
    const std::uint16_t extra = static_cast<std::uint16_t>(record_length - base);
    if (las::is_extended_format(point_format)) {
        vlr.compressor = Compressor::layered_chunked;
        vlr.items.push_back({ItemType::point14, 30, 3});
        if (las::has_nir(point_format)) {
            vlr.items.push_back({ItemType::rgbnir14, 8, 3});
        } else if (las::has_rgb(point_format)) {
            vlr.items.push_back({ItemType::rgb14, 6, 3});
        }
        if (las::has_wave_packet(point_format))
            vlr.items.push_back({ItemType::wavepacket14, 29, 3});
        if (extra) vlr.items.push_back({ItemType::byte14, extra, 3});
    } else {
        vlr.compressor = Compressor::pointwise_chunked;
        vlr.items.push_back({ItemType::point10, 20, 2});
        if (las::has_gps_time(point_format)) vlr.items.push_back({ItemType::gpstime11, 8, 2});
        if (las::has_rgb(point_format)) vlr.items.push_back({ItemType::rgb12, 6, 2});
        if (las::has_wave_packet(point_format))
            vlr.items.push_back({ItemType::wavepacket13, 29, 1});
        if (extra) vlr.items.push_back({ItemType::byte, extra, 2});
    }
    return vlr;
}

void LaszipVlr::check(std::uint8_t point_format, std::uint16_t record_length,
                      const std::string& file) const {
    if (items.empty()) fail(file, "no items");
    const bool extended = las::is_extended_format(point_format);
    const ItemType first = extended ? ItemType::point14 : ItemType::point10;
    if (items.front().type != first) {
        fail(file, fmt::format("point format {} needs {} as first item, found {}", point_format,
                               item_type_name(first), item_type_name(items.front().type)));
    }
    if (compressor == Compressor::layered_chunked && !extended) {
        fail(file, fmt::format("compressor 3 cannot hold point format {}", point_format));
    }
    if (extended && compressor != Compressor::layered_chunked && compressor != Compressor::none) {
        fail(file, fmt::format("point format {} needs compressor 3, found {}", point_format,
                               static_cast<unsigned>(compressor)));
    }
    std::uint32_t total = 0;
    for (const auto& item : items) {
        const bool item_extended = item.type >= ItemType::point14;
        const bool plain_type = item.type < ItemType::point10;
        if (!plain_type && item_extended != extended) {
            fail(file, fmt::format("{} item does not suit point format {}",
                                   item_type_name(item.type), point_format));
        }
        total += item.size;
    }
    if (total != record_length) {
        fail(file,
             fmt::format("items add up to {} bytes but records have {}", total, record_length));
    }
}

const char* item_type_name(ItemType type) {
    switch (type) {
        case ItemType::byte:
            return "BYTE";
        case ItemType::short_:
            return "SHORT";
        case ItemType::integer:
            return "INT";
        case ItemType::long_:
            return "LONG";
        case ItemType::float_:
            return "FLOAT";
        case ItemType::double_:
            return "DOUBLE";
        case ItemType::point10:
            return "POINT10";
        case ItemType::gpstime11:
            return "GPSTIME11";
        case ItemType::rgb12:
            return "RGB12";
        case ItemType::wavepacket13:
            return "WAVEPACKET13";
        case ItemType::point14:
            return "POINT14";
        case ItemType::rgb14:
            return "RGB14";
        case ItemType::rgbnir14:
            return "RGBNIR14";
        case ItemType::wavepacket14:
            return "WAVEPACKET14";
        case ItemType::byte14:
            return "BYTE14";
    }
    return "?";
}

std::optional<LaszipVlr> find_laszip_vlr(const las::FileMetadata& metadata) {
    for (const auto& vlr : metadata.vlrs) {
        if (vlr.is("laszip encoded", 22204)) return LaszipVlr::parse(vlr.data, metadata.path);
    }
    return std::nullopt;
}

LaszipVlr require_laszip_vlr(const las::FileMetadata& metadata) {
    auto vlr = find_laszip_vlr(metadata);
    if (!vlr) throw util::InputError(metadata.path, "compressed point data but no LASzip VLR");
    vlr->check(metadata.header.point_format, metadata.header.record_length, metadata.path);
    return *vlr;
}

}  // namespace lidarmill::laz
