#include "ops/info.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "io/open.hpp"
#include "las/bounds.hpp"
#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/sha256.hpp"

namespace lidarmill::ops {

using nlohmann::json;

namespace {

json vlr_json(const las::Vlr& v) {
    return {{"user_id", v.user_id},
            {"record_id", v.record_id},
            {"description", v.description},
            {"size", v.data.size()}};
}

json extra_bytes_json(const las::ExtraBytesSchema& schema) {
    json dims = json::array();
    for (const auto& dim : schema.dimensions) {
        const auto& d = dim.descriptor;
        json j{{"name", d.name},
               {"type", d.type_name()},
               {"size", d.size()},
               {"offset", dim.offset_in_extra},
               {"description", d.description}};
        if (d.has_scale())
            j["scale"] = std::vector<double>(d.scale.begin(), d.scale.begin() + d.element_count());
        if (d.has_offset())
            j["offset_value"] =
                std::vector<double>(d.offset.begin(), d.offset.begin() + d.element_count());
        if (d.has_no_data())
            j["no_data"] = las::ExtraBytesSchema::raw_value(d.no_data.data(), d.base_type());
        dims.push_back(std::move(j));
    }
    return dims;
}

json laszip_json(const laz::LaszipVlr& vlr) {
    json items = json::array();
    for (const auto& item : vlr.items) {
        items.push_back(
            {{"type", item_type_name(item.type)}, {"size", item.size}, {"version", item.version}});
    }
    return {{"compressor", static_cast<int>(vlr.compressor)},
            {"coder", vlr.coder},
            {"version",
             fmt::format("{}.{}r{}", vlr.version_major, vlr.version_minor, vlr.version_revision)},
            {"options", vlr.options},
            {"chunk_size", vlr.variable_chunks() ? json("variable") : json(vlr.chunk_size)},
            {"items", items}};
}

struct Scan {
    std::uint64_t points = 0;
    las::RawBounds bounds;
    std::array<std::uint64_t, 256> classes{};
    std::array<std::uint64_t, 16> returns{};
    double gps_min = std::numeric_limits<double>::infinity();
    double gps_max = -std::numeric_limits<double>::infinity();
    std::uint64_t gps_nan = 0;
};

void scan_records(std::span<const std::uint8_t> records, std::uint8_t format, std::uint16_t length,
                  Scan& s) {
    const bool extended = las::is_extended_format(format);
    const bool gps = las::has_gps_time(format);
    const std::uint16_t gps_at = las::record_offsets(format).gps_time;
    for (std::size_t off = 0; off < records.size(); off += length) {
        const std::uint8_t* p = records.data() + off;
        s.bounds.add(p);
        ++s.returns[extended ? (p[14] & 0x0F) : (p[14] & 0x07)];
        ++s.classes[las::classification_of(p, format)];
        if (gps) {
            const double t = util::load_le<double>(p + gps_at);
            if (std::isnan(t)) {
                ++s.gps_nan;
            } else {
                s.gps_min = std::min(s.gps_min, t);
                s.gps_max = std::max(s.gps_max, t);
            }
        }
        ++s.points;
    }
}

json bounds_json(const std::array<double, 3>& min, const std::array<double, 3>& max) {
    return {{"min", min}, {"max", max}};
}

}  // namespace

json summarize_file(const std::filesystem::path& path, const ScanOptions& options) {
    auto reader = io::open_reader(path, {options.threads});
    const auto& m = reader->metadata();
    const auto& h = m.header;
    json doc;
    doc["file"] = m.path;
    doc["file_size"] = m.file_size;
    doc["las_version"] = h.version_string();
    doc["point_format"] = h.point_format;
    doc["record_length"] = h.record_length;
    doc["compressed"] = h.is_compressed();
    doc["point_count"] = reader->point_count();
    doc["header_point_count"] = h.point_count();
    doc["legacy_point_count"] = h.legacy_point_count;
    std::vector<std::uint64_t> by_return;
    for (int r = 0; r < (h.at_least(1, 4) ? 15 : 5); ++r)
        by_return.push_back(h.points_by_return(r));
    doc["points_by_return"] = by_return;
    doc["scale"] = h.scale;
    doc["offset"] = h.offset;
    doc["bounds"] = bounds_json(h.min, h.max);
    doc["file_source_id"] = h.file_source_id;
    doc["global_encoding"] = h.global_encoding;
    doc["system_identifier"] = h.system_identifier_text();
    doc["generating_software"] = h.generating_software_text();
    doc["creation"] = {{"day", h.creation_day}, {"year", h.creation_year}};
    doc["header_size"] = h.header_size;
    doc["offset_to_point_data"] = h.offset_to_point_data;
    doc["crs_wkt"] = m.crs.wkt ? json(*m.crs.wkt) : json(nullptr);
    doc["crs_epsg"] = m.crs.epsg ? json(*m.crs.epsg) : json(nullptr);
    if (!m.crs.geokeys.empty()) {
        json keys = json::array();
        for (const auto& k : m.crs.geokeys) {
            keys.push_back(
                {{"id", k.id}, {"location", k.location}, {"count", k.count}, {"value", k.value}});
        }
        doc["geotiff_keys"] = keys;
    }
    doc["vlrs"] = json::array();
    for (const auto& v : m.vlrs) doc["vlrs"].push_back(vlr_json(v));
    doc["evlrs"] = json::array();
    for (const auto& v : m.evlrs) doc["evlrs"].push_back(vlr_json(v));
    doc["extra_bytes"] = extra_bytes_json(m.extra_bytes);
    doc["undeclared_extra_bytes"] = m.extra_bytes.undeclared_bytes();
    if (auto laszip = laz::find_laszip_vlr(m)) doc["laszip"] = laszip_json(*laszip);
    std::vector<std::string> warnings = m.warnings;

    if (options.scan || options.checksum) {
        Scan scan;
        util::Sha256 sha;
        const std::size_t batch = 65536;
        std::vector<std::uint8_t> buffer(batch * h.record_length);
        while (const std::size_t n = reader->read(buffer)) {
            const auto records = std::span(buffer).first(n * h.record_length);
            if (options.checksum) sha.update(records);
            scan_records(records, h.point_format, h.record_length, scan);
        }
        if (options.checksum) doc["records_sha256"] = sha.hex_digest();
        json stats;
        if (scan.points > 0) {
            std::array<double, 3> min{}, max{};
            for (int a = 0; a < 3; ++a) {
                min[a] = scan.bounds.min[a] * h.scale[a] + h.offset[a];
                max[a] = scan.bounds.max[a] * h.scale[a] + h.offset[a];
                const double tolerance = h.scale[a] / 2;
                if (min[a] < h.min[a] - tolerance || max[a] > h.max[a] + tolerance) {
                    warnings.push_back(
                        fmt::format("points lie outside the header bounds on axis {}", "xyz"[a]));
                }
            }
            stats["bounds"] = bounds_json(min, max);
        }
        json classes = json::object();
        for (int c = 0; c < 256; ++c) {
            if (scan.classes[c]) classes[std::to_string(c)] = scan.classes[c];
        }
        stats["classification"] = classes;
        std::vector<std::uint64_t> returns(scan.returns.begin(), scan.returns.end());
        stats["return_numbers"] = returns;
        if (las::has_gps_time(h.point_format) && scan.points > scan.gps_nan) {
            stats["gps_time"] = {{"min", scan.gps_min}, {"max", scan.gps_max}};
        }
        if (scan.gps_nan)
            warnings.push_back(fmt::format("{} points have a NaN GPS time", scan.gps_nan));
        stats["points_read"] = scan.points;
        doc["stats"] = stats;
    }
    doc["warnings"] = warnings;
    return doc;
}

std::string format_summary(const json& d) {
    std::string out;
    auto line = [&out](std::string_view key, const std::string& value) {
        out += fmt::format("{:<22}{}\n", key, value);
    };
    line("file", d["file"].get<std::string>());
    line("LAS version", d["las_version"].get<std::string>());
    line("point format",
         fmt::format("{} (record length {}){}", d["point_format"].get<int>(),
                     d["record_length"].get<int>(), d["compressed"].get<bool>() ? ", LAZ" : ""));
    line("points", fmt::format("{}", d["point_count"].get<std::uint64_t>()));
    line("scale", d["scale"].dump());
    line("offset", d["offset"].dump());
    line("bounds (header)",
         fmt::format("min {} max {}", d["bounds"]["min"].dump(), d["bounds"]["max"].dump()));
    if (d.contains("stats") && d["stats"].contains("bounds")) {
        const auto& b = d["stats"]["bounds"];
        line("bounds (data)", fmt::format("min {} max {}", b["min"].dump(), b["max"].dump()));
    }
    line("points by return", d["points_by_return"].dump());
    line("CRS", d["crs_epsg"].is_null() ? (d["crs_wkt"].is_null() ? "none" : "WKT (no EPSG code)")
                                        : fmt::format("EPSG:{}", d["crs_epsg"].get<int>()));
    line("software", d["generating_software"].get<std::string>());
    if (d.contains("laszip")) {
        const auto& z = d["laszip"];
        std::string items;
        for (const auto& it : z["items"]) {
            items += fmt::format("{}{} v{} ({}B)", items.empty() ? "" : ", ",
                                 it["type"].get<std::string>(), it["version"].get<int>(),
                                 it["size"].get<int>());
        }
        line("LASzip",
             fmt::format("compressor {}, chunk size {}, {}; items {}", z["compressor"].get<int>(),
                         z["chunk_size"].dump(), z["version"].get<std::string>(), items));
    }
    for (const auto& v : d["vlrs"]) {
        line("VLR", fmt::format("{} {} ({} bytes) {}", v["user_id"].get<std::string>(),
                                v["record_id"].get<int>(), v["size"].get<std::uint64_t>(),
                                v["description"].get<std::string>()));
    }
    for (const auto& v : d["evlrs"]) {
        line("EVLR", fmt::format("{} {} ({} bytes) {}", v["user_id"].get<std::string>(),
                                 v["record_id"].get<int>(), v["size"].get<std::uint64_t>(),
                                 v["description"].get<std::string>()));
    }
    for (const auto& e : d["extra_bytes"]) {
        line("extra bytes",
             fmt::format("{} {} {}", e["name"].get<std::string>(), e["type"].get<std::string>(),
                         e["description"].get<std::string>()));
    }
    if (d["undeclared_extra_bytes"].get<int>() > 0) {
        line("extra bytes",
             fmt::format("{} undeclared bytes", d["undeclared_extra_bytes"].get<int>()));
    }
    if (d.contains("stats")) {
        std::string classes;
        for (const auto& [k, v] : d["stats"]["classification"].items()) {
            classes +=
                fmt::format("{}{}: {}", classes.empty() ? "" : ", ", k, v.get<std::uint64_t>());
        }
        line("classes", classes.empty() ? "-" : classes);
        if (d["stats"].contains("gps_time")) {
            line("GPS time", fmt::format("{} .. {}", d["stats"]["gps_time"]["min"].get<double>(),
                                         d["stats"]["gps_time"]["max"].get<double>()));
        }
    }
    if (d.contains("records_sha256"))
        line("records SHA-256", d["records_sha256"].get<std::string>());
    for (const auto& w : d["warnings"]) line("warning", w.get<std::string>());
    return out;
}

}  // namespace lidarmill::ops
