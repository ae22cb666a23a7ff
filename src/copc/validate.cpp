#include "copc/validate.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "copc/format.hpp"
#include "copc/reader.hpp"
#include "las/bounds.hpp"
#include "las/header.hpp"
#include "las/point_format.hpp"
#include "las/reader.hpp"
#include "laz/laszip_vlr.hpp"
#include "laz/laz_reader.hpp"
#include "util/byte_source.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"
#include "util/threads.hpp"

namespace lidarmill::copc {

using util::load_le;

const char* severity_name(Severity s) {
    switch (s) {
        case Severity::info:
            return "info";
        case Severity::warning:
            return "warning";
        default:
            return "error";
    }
}

std::size_t ValidationReport::count(Severity s) const {
    return static_cast<std::size_t>(std::count_if(
        findings.begin(), findings.end(), [s](const Finding& f) { return f.severity == s; }));
}

nlohmann::json ValidationReport::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : findings) {
        list.push_back(
            {{"severity", severity_name(f.severity)}, {"check", f.check}, {"message", f.message}});
    }
    return {{"file", file},
            {"valid", valid()},
            {"errors", count(Severity::error)},
            {"warnings", count(Severity::warning)},
            {"points", points},
            {"nodes", nodes},
            {"pages", pages},
            {"points_decoded", points_decoded},
            {"findings", list}};
}

namespace {

class Validator {
  public:
    Validator(const std::filesystem::path& path, const ValidateOptions& options,
              ValidationReport& report)
        : path_(path), options_(options), report_(report) {}

    void run() {
        source_ = std::make_shared<util::FileByteSource>(path_);
        metadata_ = las::read_metadata(*source_);
        check_header();
        if (!check_info_vlr()) return;
        check_laszip_vlr();
        check_wkt();
        if (!walk_hierarchy()) return;
        check_counts_and_bounds();
        check_chunks();
        if (options_.deep && laszip_) deep_check();
    }

  private:
    void add(Severity s, std::string check, std::string message) {
        report_.findings.push_back({s, std::move(check), std::move(message)});
    }
    void error(std::string check, std::string message) {
        add(Severity::error, std::move(check), std::move(message));
    }
    void warning(std::string check, std::string message) {
        add(Severity::warning, std::move(check), std::move(message));
    }

    const las::Header& header() const { return metadata_.header; }

    void check_header() {
        const auto& h = header();
        if (h.version_major != 1 || h.version_minor != 4)
            error("header", fmt::format("LAS version {} is not 1.4", h.version_string()));
        if (h.header_size != las::kHeaderSize14)
            error("header", fmt::format("header size {} is not 375", h.header_size));
        if (h.point_format < 6 || h.point_format > 8)
            error("header", fmt::format("point format {} is not 6, 7 or 8", +h.point_format));
        if (!h.is_compressed())
            error("header", "point format is not flagged as compressed (bit 7)");
        if (h.record_length < las::base_record_length(h.point_format)) {
            error("header", fmt::format("record length {} is shorter than point format {} needs",
                                        h.record_length, +h.point_format));
        }
        if (h.point_format >= 6 &&
            (h.legacy_point_count != 0 ||
             std::any_of(h.legacy_points_by_return.begin(), h.legacy_points_by_return.end(),
                         [](std::uint32_t c) { return c != 0; }))) {
            warning("header",
                    "legacy point counts are not zero (LAS 1.4 asks zero for point formats 6-10)");
        }
        if (!(h.global_encoding & las::kWktCrs))
            warning("header", "global encoding WKT bit (4) is not set");
        for (int axis = 0; axis < 3; ++axis) {
            if (!(h.min[axis] <= h.max[axis]) && h.point_count() > 0) {
                error("header", fmt::format("{} bounds are inverted: min {} > max {}", "XYZ"[axis],
                                            h.min[axis], h.max[axis]));
            }
            if (!(h.scale[axis] > 0))
                error("header",
                      fmt::format("{} scale {} is not positive", "XYZ"[axis], h.scale[axis]));
        }
        if (h.evlr_count == 0) error("header", "no EVLR: the hierarchy EVLR is missing");
    }

    bool check_info_vlr() {
        if (!is_copc(metadata_)) {
            error("info-vlr",
                  "the first VLR is not the COPC info VLR (user id 'copc', record id 1)");
            return false;
        }
        const auto& vlr = metadata_.vlrs.front();
        if (vlr.data.size() != kInfoSize) {
            error("info-vlr",
                  fmt::format("COPC info VLR holds {} bytes, not 160", vlr.data.size()));
            if (vlr.data.size() < kInfoSize) return false;
        }
        // The spec fixes its position so readers can fetch header + info in one request.
        if (header().header_size != las::kHeaderSize14)
            error("info-vlr", "COPC info VLR does not start at byte 375");
        info_ = CopcInfo::parse(vlr.data);
        if (!(info_.halfsize > 0) || !std::isfinite(info_.halfsize))
            error("info-vlr", fmt::format("halfsize {} is not positive", info_.halfsize));
        if (!(info_.spacing > 0) || !std::isfinite(info_.spacing))
            error("info-vlr", fmt::format("spacing {} is not positive", info_.spacing));
        for (std::size_t i = 0; i < info_.reserved.size(); ++i) {
            if (info_.reserved[i] != 0) {
                error("info-vlr",
                      fmt::format("reserved field {} is {} (must be 0)", i, info_.reserved[i]));
                break;
            }
        }
        if (info_.gpstime_minimum > info_.gpstime_maximum) {
            error("info-vlr", fmt::format("GPS time range [{}, {}] is inverted",
                                          info_.gpstime_minimum, info_.gpstime_maximum));
        }
        return true;
    }

    void check_laszip_vlr() {
        try {
            laszip_ = laz::find_laszip_vlr(metadata_);
        } catch (const util::InputError& e) {
            error("laszip-vlr", e.problem());
            return;
        }
        if (!laszip_) {
            error("laszip-vlr", "no LASzip VLR");
            return;
        }
        try {
            laszip_->check(header().point_format, header().record_length, "");
        } catch (const util::InputError& e) {
            error("laszip-vlr", e.problem());
            laszip_.reset();
            return;
        }
        if (!laszip_->variable_chunks())
            error("laszip-vlr",
                  fmt::format("chunk size {} is not variable (0xFFFFFFFF)", laszip_->chunk_size));
        if (laszip_->compressor != laz::Compressor::layered_chunked)
            error("laszip-vlr", "compressor is not 3 (layered chunked)");
    }

    void check_wkt() {
        const bool has_wkt =
            std::any_of(metadata_.vlrs.begin(), metadata_.vlrs.end(),
                        [](const las::Vlr& v) { return v.is("LASF_Projection", 2112); });
        if (!has_wkt) warning("wkt", "no OGC WKT VLR (LASF_Projection 2112): the CRS is unknown");
    }

    // The reader's walk reports what it cannot follow (pages referenced twice, pointers out
    // of the EVLR, invalid keys); duplicate keys and nodes without parent are checked here.
    bool walk_hierarchy() {
        const auto extent = find_hierarchy_evlr(metadata_);
        if (const std::string problem = hierarchy_extent_problem(extent, info_); !problem.empty()) {
            error("hierarchy", problem);
            return false;
        }
        const Hierarchy hierarchy(source_, *extent, info_);
        const WalkStats walked = hierarchy.walk(
            {},
            [&](const Entry& e) {
                if (!nodes_.emplace(e.key, e).second) {
                    error("hierarchy",
                          fmt::format("node {} appears more than once", e.key.to_string()));
                }
            },
            [&](const std::string& problem) { error("hierarchy", problem); });
        report_.pages = walked.pages;
        report_.nodes = nodes_.size();
        if (walked.page_bytes < extent->size) {
            warning("hierarchy",
                    fmt::format("{} bytes of the hierarchy EVLR are not reached from the root page",
                                extent->size - walked.page_bytes));
        }
        if (!nodes_.count(VoxelKey{})) error("hierarchy", "no root node 0-0-0-0");
        std::size_t orphans = 0, empty_leaves = 0;
        std::set<VoxelKey> parents;
        for (const auto& [key, node] : nodes_) {
            if (key.d > 0) parents.insert(key.parent());
            if (key.d > 0 && !nodes_.count(key.parent())) {
                if (orphans++ == 0)
                    error("hierarchy",
                          fmt::format("node {} has no parent in the hierarchy", key.to_string()));
            }
        }
        for (const auto& [key, e] : nodes_) {
            if (e.point_count == 0 && !parents.count(key)) ++empty_leaves;
            if (e.point_count == 0 && (e.byte_size != 0 || e.offset != 0)) {
                warning("hierarchy", fmt::format("empty node {} has {} bytes at {}",
                                                 key.to_string(), e.byte_size, e.offset));
            }
            if (e.point_count > 0 && e.byte_size <= 0) {
                error("hierarchy", fmt::format("node {} has {} points but {} bytes",
                                               key.to_string(), e.point_count, e.byte_size));
            }
        }
        if (orphans > 1) error("hierarchy", fmt::format("{} nodes in all have no parent", orphans));
        if (empty_leaves > 0)
            warning("hierarchy", fmt::format("{} leaf nodes hold no point", empty_leaves));
        return true;
    }

    void check_counts_and_bounds() {
        for (const auto& [key, node] : nodes_)
            report_.points += static_cast<std::uint64_t>(std::max(0, node.point_count));
        const std::uint64_t declared = header().point_count_64;
        if (report_.points != declared) {
            error("counts", fmt::format("hierarchy node counts sum to {}, header says {}",
                                        report_.points, declared));
        }
        std::uint64_t by_return = 0;
        for (auto c : header().points_by_return_64) by_return += c;
        if (by_return != declared) {
            warning("counts", fmt::format("header points by return sum to {}, point count is {}",
                                          by_return, declared));
        }
        const auto lo = info_.cube_min();
        for (int axis = 0; axis < 3; ++axis) {
            const double slack = header().scale[axis] / 2;
            if (header().min[axis] < lo[axis] - slack ||
                header().max[axis] > lo[axis] + info_.side() + slack) {
                error("bounds",
                      fmt::format("header {} bounds [{}, {}] are not inside the cube [{}, {}]",
                                  "XYZ"[axis], header().min[axis], header().max[axis], lo[axis],
                                  lo[axis] + info_.side()));
            }
        }
    }

    void check_chunks() {
        if (!laszip_) return;
        const laz::LazPointData data{header().offset_to_point_data, metadata_.point_data_end,
                                     header().point_count(),        header().point_format,
                                     header().record_length,        *laszip_};
        laz::ChunkTable table;
        try {
            table = laz::read_chunk_table(*source_, data);
        } catch (const util::InputError& e) {
            table.problem = e.problem();
        }
        if (!table.problem.empty()) {
            error("chunks", "chunk table: " + table.problem);
            return;
        }
        std::vector<const Entry*> with_data;
        for (const auto& [key, node] : nodes_) {
            if (node.point_count > 0) with_data.push_back(&node);
        }
        std::sort(with_data.begin(), with_data.end(),
                  [](const Entry* a, const Entry* b) { return a->offset < b->offset; });
        if (with_data.size() != table.chunks.size()) {
            error("chunks", fmt::format("{} nodes hold points but the chunk table lists {} chunks",
                                        with_data.size(), table.chunks.size()));
        }
        std::size_t mismatches = 0;
        const std::size_t n = std::min(with_data.size(), table.chunks.size());
        for (std::size_t i = 0; i < n; ++i) {
            const Entry& e = *with_data[i];
            const auto& c = table.chunks[i];
            if (e.offset != c.offset || static_cast<std::uint64_t>(e.byte_size) != c.byte_count ||
                static_cast<std::uint64_t>(e.point_count) != c.point_count) {
                if (mismatches++ < 5) {
                    error("chunks",
                          fmt::format("node {} ({} points, {} bytes at {}) does not match chunk {} "
                                      "({} points, "
                                      "{} bytes at {})",
                                      e.key.to_string(), e.point_count, e.byte_size, e.offset, i,
                                      c.point_count, c.byte_count, c.offset));
                }
            }
        }
        if (mismatches > 5)
            error("chunks",
                  fmt::format("{} nodes in all disagree with the chunk table", mismatches));
        chunks_ok_ = mismatches == 0 && with_data.size() == table.chunks.size();
    }

    struct DeepStats {
        std::uint64_t points = 0;
        std::uint64_t outside_node = 0, outside_header = 0, outside_gps = 0, nan_gps = 0;
        std::string first_outside_node, first_outside_gps;
        double gps_min = std::numeric_limits<double>::infinity();
        double gps_max = -std::numeric_limits<double>::infinity();
        las::RawBounds bounds;
        std::array<std::uint64_t, 15> by_return{};
        std::vector<std::string> decode_errors;

        void merge(const DeepStats& o) {
            points += o.points;
            outside_node += o.outside_node;
            outside_header += o.outside_header;
            outside_gps += o.outside_gps;
            nan_gps += o.nan_gps;
            if (first_outside_node.empty()) first_outside_node = o.first_outside_node;
            if (first_outside_gps.empty()) first_outside_gps = o.first_outside_gps;
            gps_min = std::min(gps_min, o.gps_min);
            gps_max = std::max(gps_max, o.gps_max);
            bounds.merge(o.bounds);
            for (int r = 0; r < 15; ++r) by_return[r] += o.by_return[r];
            decode_errors.insert(decode_errors.end(), o.decode_errors.begin(),
                                 o.decode_errors.end());
        }
    };

    void check_node_points(const Entry& e, std::span<const std::uint8_t> records,
                           DeepStats& s) const {
        const auto& h = header();
        const Box cube = node_bounds(info_, e.key);
        for (std::size_t at = 0; at + h.record_length <= records.size(); at += h.record_length) {
            const std::uint8_t* r = records.data() + at;
            ++s.points;
            bool outside = false;
            for (int axis = 0; axis < 3; ++axis) {
                const std::int32_t raw = load_le<std::int32_t>(r + 4 * axis);
                s.bounds.add(axis, raw);
                const double v = raw * h.scale[axis] + h.offset[axis];
                const double slack = h.scale[axis] / 2 + 1e-9;
                if (v < cube.min[axis] - slack || v > cube.max[axis] + slack) outside = true;
                if (v < h.min[axis] - slack || v > h.max[axis] + slack) ++s.outside_header;
            }
            if (outside && s.outside_node++ == 0) s.first_outside_node = e.key.to_string();
            const int returns = r[14] & 0x0F;
            if (returns >= 1 && returns <= 15) ++s.by_return[returns - 1];
            const double gps = load_le<double>(r + 22);
            if (std::isnan(gps)) {
                ++s.nan_gps;
                continue;
            }
            s.gps_min = std::min(s.gps_min, gps);
            s.gps_max = std::max(s.gps_max, gps);
            if (gps < info_.gpstime_minimum || gps > info_.gpstime_maximum) {
                if (s.outside_gps++ == 0)
                    s.first_outside_gps = fmt::format("{} in node {}", gps, e.key.to_string());
            }
        }
    }

    void deep_check() {
        std::vector<const Entry*> work;
        for (const auto& [key, node] : nodes_) {
            if (node.point_count > 0 && node.byte_size > 0) work.push_back(&node);
        }
        // Each node's statistics are kept and merged in key order afterwards, so that the
        // "first" offending node a finding names is the same whatever the thread count.
        std::vector<DeepStats> per_node(work.size());
        const unsigned threads = util::resolve_threads(options_.threads);
        tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, threads);
        tbb::parallel_for(std::size_t{0}, work.size(), [&](std::size_t i) {
            const Entry& e = *work[i];
            DeepStats& s = per_node[i];
            try {
                if (e.offset + static_cast<std::uint64_t>(e.byte_size) > metadata_.file_size) {
                    throw util::InputError("", "data lies past the end of the file");
                }
                std::vector<std::uint8_t> chunk(static_cast<std::size_t>(e.byte_size));
                source_->read_at(e.offset, chunk, "node data");
                check_node_points(e, decode_node(*laszip_, header(), e, chunk), s);
            } catch (const std::exception& ex) {
                s.decode_errors.push_back(fmt::format("node {}: {}", e.key.to_string(), ex.what()));
            }
        });
        DeepStats total;
        for (const DeepStats& s : per_node) total.merge(s);
        report_.points_decoded = total.points;
        report_deep(total);
    }

    void report_deep(const DeepStats& s) {
        const auto& h = header();
        std::size_t shown = 0;
        for (const auto& message : s.decode_errors) {
            if (shown++ < 5) error("decode", message);
        }
        if (s.decode_errors.size() > 5)
            error("decode",
                  fmt::format("{} nodes in all failed to decode", s.decode_errors.size()));
        if (s.outside_node) {
            error("node-bounds",
                  fmt::format("{} points lie outside their node's cube (first in node {})",
                              s.outside_node, s.first_outside_node));
        }
        if (s.outside_header)
            error("bounds",
                  fmt::format("{} coordinates lie outside the header bounds", s.outside_header));
        if (s.outside_gps) {
            error("gps-range",
                  fmt::format(
                      "{} points have a GPS time outside the info VLR range [{}, {}] (data spans "
                      "[{}, {}]; first {})",
                      s.outside_gps, info_.gpstime_minimum, info_.gpstime_maximum, s.gps_min,
                      s.gps_max, s.first_outside_gps));
        } else if (s.gps_min <= s.gps_max &&
                   (s.gps_min != info_.gpstime_minimum || s.gps_max != info_.gpstime_maximum)) {
            add(Severity::info, "gps-range",
                fmt::format("info VLR GPS range [{}, {}] is wider than the data [{}, {}]",
                            info_.gpstime_minimum, info_.gpstime_maximum, s.gps_min, s.gps_max));
        }
        if (s.nan_gps)
            warning("gps-range", fmt::format("{} points have a NaN GPS time", s.nan_gps));
        if (s.points > 0) {
            for (int axis = 0; axis < 3; ++axis) {
                const double lo = s.bounds.min[axis] * h.scale[axis] + h.offset[axis];
                const double hi = s.bounds.max[axis] * h.scale[axis] + h.offset[axis];
                const double slack = h.scale[axis] / 2;
                if (std::abs(lo - h.min[axis]) > slack || std::abs(hi - h.max[axis]) > slack) {
                    warning("bounds",
                            fmt::format(
                                "header {} bounds [{}, {}] differ from the data extents [{}, {}]",
                                "XYZ"[axis], h.min[axis], h.max[axis], lo, hi));
                }
            }
        }
        for (int r = 0; r < 15; ++r) {
            if (s.points == report_.points && s.by_return[r] != h.points_by_return_64[r]) {
                warning("counts",
                        fmt::format("header says {} points of return {}, the data holds {}",
                                    h.points_by_return_64[r], r + 1, s.by_return[r]));
            }
        }
    }

    std::filesystem::path path_;
    const ValidateOptions& options_;
    ValidationReport& report_;
    std::shared_ptr<const util::ByteSource> source_;
    las::FileMetadata metadata_;
    CopcInfo info_;
    std::optional<laz::LaszipVlr> laszip_;
    std::map<VoxelKey, Entry> nodes_;
    bool chunks_ok_ = false;
};

}  // namespace

ValidationReport validate_copc(const std::filesystem::path& file, const ValidateOptions& options) {
    ValidationReport report;
    report.file = file.string();
    try {
        Validator(file, options, report).run();
    } catch (const util::InputError& e) {
        report.findings.push_back({Severity::error, "read", e.problem()});
    } catch (const std::exception& e) {
        report.findings.push_back({Severity::error, "read", e.what()});
    }
    return report;
}

}  // namespace lidarmill::copc
