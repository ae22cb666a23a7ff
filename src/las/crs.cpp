#include "las/crs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "util/bytes.hpp"

namespace lidarmill::las {

namespace {

const Vlr* find_vlr(std::span<const Vlr> vlrs, std::uint16_t record_id) {
    for (const auto& v : vlrs) {
        if (v.is("LASF_Projection", record_id)) return &v;
    }
    return nullptr;
}

std::string trim_nuls(const std::vector<std::uint8_t>& data) {
    std::string text(data.begin(), data.end());
    while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.pop_back();
    return text;
}

std::vector<GeoKey> read_geokeys(const Vlr& directory, const Vlr* doubles, const Vlr* ascii,
                                 std::vector<std::string>& warnings) {
    std::vector<GeoKey> keys;
    const auto& d = directory.data;
    if (d.size() < 8) {
        if (!d.empty())
            warnings.push_back("GeoKeyDirectory VLR shorter than its 8-byte header; ignored");
        return keys;
    }
    const auto count = util::load_le<std::uint16_t>(d.data() + 6);
    if (d.size() < 8 + 8 * std::size_t{count}) {
        warnings.push_back(
            fmt::format("GeoKeyDirectory VLR declares {} keys but holds {}; "
                        "reading those present",
                        count, (d.size() - 8) / 8));
    }
    const std::size_t present = std::min<std::size_t>(count, (d.size() - 8) / 8);
    for (std::size_t i = 0; i < present; ++i) {
        const std::uint8_t* p = d.data() + 8 + 8 * i;
        GeoKey key{util::load_le<std::uint16_t>(p),
                   util::load_le<std::uint16_t>(p + 2),
                   util::load_le<std::uint16_t>(p + 4),
                   util::load_le<std::uint16_t>(p + 6),
                   {}};
        if (key.location == 0) {
            key.value = std::to_string(key.value_offset);
        } else if (key.location == 34736 && doubles &&
                   (key.value_offset + std::size_t{key.count}) * 8 <= doubles->data.size()) {
            std::string text;
            for (std::size_t j = 0; j < key.count; ++j) {
                if (j) text += ",";
                text += fmt::format(
                    "{}", util::load_le<double>(doubles->data.data() + (key.value_offset + j) * 8));
            }
            key.value = text;
        } else if (key.location == 34737 && ascii &&
                   key.value_offset + std::size_t{key.count} <= ascii->data.size()) {
            key.value.assign(ascii->data.begin() + key.value_offset,
                             ascii->data.begin() + key.value_offset + key.count);
            while (!key.value.empty() && (key.value.back() == '|' || key.value.back() == '\0')) {
                key.value.pop_back();
            }
        }
        keys.push_back(std::move(key));
    }
    return keys;
}

}  // namespace

bool is_crs_vlr(const Vlr& vlr) {
    return vlr.user_id == "LASF_Projection" &&
           (vlr.record_id == 2111 || vlr.record_id == 2112 || vlr.record_id == 34735 ||
            vlr.record_id == 34736 || vlr.record_id == 34737);
}

std::optional<std::uint32_t> epsg_from_wkt(const std::string& wkt) {
    // The outermost authority is the last one in WKT1 and the last ID in WKT2 at depth 1;
    // in both, the CRS's own code is the last EPSG reference at bracket depth 1.
    int depth = 0;
    std::optional<std::uint32_t> found;
    static const std::regex authority(R"((AUTHORITY|ID)\[\s*\"EPSG\"\s*,\s*\"?(\d+)\"?)");
    for (std::size_t i = 0; i < wkt.size(); ++i) {
        const char c = wkt[i];
        if (c == '[' || c == '(') ++depth;
        if (c == ']' || c == ')') --depth;
        if (depth == 1 && (c == 'A' || c == 'I')) {
            std::smatch m;
            const std::string rest = wkt.substr(i, 64);
            if (std::regex_search(rest, m, authority) && m.position(0) == 0) {
                found = static_cast<std::uint32_t>(std::stoul(m[2].str()));
            }
        }
    }
    return found;
}

Crs read_crs(std::span<const Vlr> vlrs, std::span<const Vlr> evlrs,
             std::vector<std::string>& warnings) {
    Crs crs;
    const Vlr* wkt = find_vlr(vlrs, 2112);
    if (!wkt) wkt = find_vlr(evlrs, 2112);
    if (wkt) {
        std::string text = trim_nuls(wkt->data);
        if (!text.empty()) crs.wkt = std::move(text);
    }
    if (const Vlr* directory = find_vlr(vlrs, 34735)) {
        crs.geokeys =
            read_geokeys(*directory, find_vlr(vlrs, 34736), find_vlr(vlrs, 34737), warnings);
    }
    for (const auto& key : crs.geokeys) {
        if (key.location != 0 || key.value_offset == 0 || key.value_offset == 32767) continue;
        if (key.id == 3072) crs.epsg = key.value_offset;
        if (key.id == 2048 && !crs.epsg) crs.epsg = key.value_offset;
        if (key.id == 4096) crs.vertical_epsg = key.value_offset;
    }
    if (crs.wkt) {
        if (auto code = epsg_from_wkt(*crs.wkt)) crs.epsg = code;
    }
    return crs;
}

Vlr make_wkt_vlr(const std::string& wkt) {
    Vlr vlr;
    vlr.user_id = "LASF_Projection";
    vlr.record_id = 2112;
    vlr.description = "OGC Coordinate System WKT";
    vlr.data.assign(wkt.begin(), wkt.end());
    vlr.data.push_back(0);
    return vlr;
}

}  // namespace lidarmill::las
