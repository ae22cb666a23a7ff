#pragma once
// Coordinate reference system VLRs: OGC WKT (LASF_Projection 2112) and GeoTIFF keys
// (LASF_Projection 34735/34736/34737), exposed as found.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "las/vlr.hpp"

namespace lidarmill::las {

struct GeoKey {
    std::uint16_t id = 0;
    std::uint16_t location = 0;  // 0: value inline; 34736: doubles; 34737: ascii
    std::uint16_t count = 0;
    std::uint16_t value_offset = 0;
    std::string value;  // resolved value as text
};

struct Crs {
    std::optional<std::string> wkt;     // from the WKT VLR (or EVLR)
    std::vector<GeoKey> geokeys;        // from the GeoKeyDirectory VLR
    std::optional<std::uint32_t> epsg;  // projected, else geographic code from the keys or WKT
    std::optional<std::uint32_t> vertical_epsg;
    bool empty() const { return !wkt && geokeys.empty(); }
};

// Reads the CRS from VLRs and EVLRs; malformed GeoTIFF VLRs add a warning and are skipped.
Crs read_crs(std::span<const Vlr> vlrs, std::span<const Vlr> evlrs,
             std::vector<std::string>& warnings);

// A WKT VLR (LASF_Projection 2112) holding `wkt`, NUL-terminated as the spec asks.
Vlr make_wkt_vlr(const std::string& wkt);

// The EPSG code of the outermost AUTHORITY["EPSG",...] / ID["EPSG",...] in a WKT string.
std::optional<std::uint32_t> epsg_from_wkt(const std::string& wkt);

bool is_crs_vlr(const Vlr& vlr);

}  // namespace lidarmill::las
