#include "copc/plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "copc/format.hpp"
#include "io/discover.hpp"
#include "io/open.hpp"
#include "las/crs.hpp"
#include "las/point_format.hpp"
#include "util/error.hpp"

namespace lidarmill::copc {

namespace fs = std::filesystem;

namespace {

std::string describe_extra_bytes(const las::ExtraBytesSchema& schema) {
    std::string text = fmt::format("{} bytes", schema.total_size);
    for (const auto& d : schema.dimensions)
        text += fmt::format(" {}:{}", d.descriptor.name, d.descriptor.type_name());
    return text;
}

const las::Vlr* find_vlr(const std::vector<las::Vlr>& vlrs, std::string_view user,
                         std::uint16_t id) {
    for (const auto& v : vlrs) {
        if (v.is(user, id)) return &v;
    }
    return nullptr;
}

std::optional<std::string> resolve_wkt(const std::vector<InputInfo>& inputs,
                                       const std::string& a_srs,
                                       std::vector<std::string>& warnings) {
    if (!a_srs.empty()) {
        if (a_srs.rfind("EPSG:", 0) != 0 && a_srs.rfind("epsg:", 0) != 0) return a_srs;
        std::uint32_t code = 0;
        try {
            code = static_cast<std::uint32_t>(std::stoul(a_srs.substr(5)));
        } catch (const std::exception&) {
            throw util::UsageError("--a-srs: '" + a_srs + "' is neither WKT nor EPSG:<number>");
        }
        for (const auto& in : inputs) {
            if (in.metadata.crs.wkt && las::epsg_from_wkt(*in.metadata.crs.wkt) == code)
                return in.metadata.crs.wkt;
        }
        throw util::UsageError(
            fmt::format("--a-srs EPSG:{}: no input has a WKT for that code and lidarmill has no "
                        "EPSG database; pass the WKT text",
                        code));
    }
    std::optional<std::string> wkt;
    for (const auto& in : inputs) {
        const auto& this_wkt = in.metadata.crs.wkt;
        if (!this_wkt) {
            if (!in.metadata.crs.geokeys.empty()) {
                warnings.push_back(
                    fmt::format("{}: CRS given as GeoTIFF keys only; COPC needs WKT (use --a-srs)",
                                in.path.string()));
            }
            continue;
        }
        if (!wkt) {
            wkt = this_wkt;
        } else if (*wkt != *this_wkt) {
            throw util::InputError(
                in.path.string(),
                fmt::format("its CRS differs from that of {} (use --a-srs to choose one)",
                            inputs.front().path.string()));
        }
    }
    if (!wkt) warnings.push_back("no input has a WKT CRS; the COPC file has none");
    return wkt;
}

void check_extra_bytes_agree(const std::vector<InputInfo>& inputs) {
    const auto& first = inputs.front().metadata.extra_bytes;
    for (const auto& in : inputs) {
        const auto& schema = in.metadata.extra_bytes;
        bool same = schema.total_size == first.total_size &&
                    schema.dimensions.size() == first.dimensions.size();
        for (std::size_t i = 0; same && i < schema.dimensions.size(); ++i) {
            const auto& a = schema.dimensions[i].descriptor;
            const auto& b = first.dimensions[i].descriptor;
            same = a.data_type == b.data_type && a.name == b.name && a.size() == b.size() &&
                   a.options == b.options && a.scale == b.scale && a.offset == b.offset;
        }
        if (!same) {
            throw util::InputError(
                in.path.string(),
                fmt::format("extra bytes ({}) differ from those of {} ({}); inputs merged into "
                            "one COPC must share them",
                            describe_extra_bytes(schema), inputs.front().path.string(),
                            describe_extra_bytes(first)));
        }
    }
}

// The finest scale of the inputs; the first input's offset when every point then fits an
// int32, else the centre of the data rounded to the scale.
void choose_quantization(OutputPlan& plan) {
    auto& h = plan.header;
    const auto& first = plan.inputs.front().metadata.header;
    for (int axis = 0; axis < 3; ++axis) {
        double scale = first.scale[axis];
        for (const auto& in : plan.inputs) scale = std::min(scale, in.metadata.header.scale[axis]);
        if (!(scale > 0))
            throw util::InputError(plan.inputs.front().path.string(),
                                   "scale factor is not positive");
        h.scale[axis] = scale;
        const auto fits = [&](double offset) {
            const double lo = (plan.header_min[axis] - offset) / scale;
            const double hi = (plan.header_max[axis] - offset) / scale;
            return lo >= std::numeric_limits<std::int32_t>::min() + 1.0 &&
                   hi <= std::numeric_limits<std::int32_t>::max() - 1.0;
        };
        bool shared = true;
        for (const auto& in : plan.inputs) {
            shared = shared && in.metadata.header.scale[axis] == scale &&
                     in.metadata.header.offset[axis] == first.offset[axis];
        }
        double offset = first.offset[axis];
        // Shared scale and offset: the integers stay as they are, and they fit by definition.
        if (shared) {
            h.offset[axis] = offset;
            continue;
        }
        if (!fits(offset))
            offset =
                std::round((plan.header_min[axis] + plan.header_max[axis]) / 2 / scale) * scale;
        if (!fits(offset)) {
            throw util::InputError(
                plan.inputs.front().path.string(),
                fmt::format("the {} extent of the inputs is too large for scale {} in int32",
                            "XYZ"[axis], scale));
        }
        h.offset[axis] = offset;
    }
    for (const auto& in : plan.inputs) {
        if (in.metadata.header.scale != h.scale || in.metadata.header.offset != h.offset)
            plan.same_quantization = false;
    }
}

// Deprecated array types (11-30) become one scalar dimension per element: the same bytes,
// described in the form COPC readers (copc.js, PDAL) accept.
las::Vlr copc_extra_bytes_vlr(const las::Vlr& source, const las::ExtraBytesSchema& schema) {
    const bool has_arrays =
        std::any_of(schema.dimensions.begin(), schema.dimensions.end(),
                    [](const las::ExtraDimension& d) { return d.descriptor.element_count() > 1; });
    if (!has_arrays) {
        las::Vlr copy = source;
        copy.raw_user_id.clear();
        copy.raw_description.clear();
        return copy;
    }
    las::ExtraBytesSchema split;
    for (const auto& dim : schema.dimensions) {
        const auto& d = dim.descriptor;
        if (d.element_count() == 1) {
            split.add(d);
            continue;
        }
        for (int e = 0; e < d.element_count(); ++e) {
            las::ExtraBytesDescriptor one;
            one.data_type = static_cast<std::uint8_t>(d.base_type());
            one.options = d.options;
            one.name = fmt::format("{}[{}]", d.name.substr(0, 28), e);
            one.description = d.description;
            std::copy_n(d.no_data.begin() + 8 * e, 8, one.no_data.begin());
            std::copy_n(d.min.begin() + 8 * e, 8, one.min.begin());
            std::copy_n(d.max.begin() + 8 * e, 8, one.max.begin());
            one.scale[0] = d.scale[e];
            one.offset[0] = d.offset[e];
            split.add(one);
        }
    }
    return split.to_vlr();
}

}  // namespace

std::vector<fs::path> collect_inputs(const std::vector<std::string>& arguments) {
    const std::vector<fs::path> inputs(arguments.begin(), arguments.end());
    std::vector<fs::path> out;
    for (auto& file : io::find_point_files(inputs, {.folders_must_hold_files = true})) {
        out.push_back(std::move(file.path));
    }
    if (out.empty()) throw util::UsageError("no input files");
    if (out.size() > 0xFFFF) throw util::UsageError("more than 65535 input files");
    return out;
}

OutputPlan plan_output(const std::vector<fs::path>& paths, const std::string& a_srs) {
    OutputPlan plan;
    std::uint8_t format = 0;
    for (const auto& p : paths) {
        auto reader = io::open_reader(p, {1});
        InputInfo info{p, reader->metadata()};
        info.metadata.readable_points = reader->point_count();
        for (const auto& w : info.metadata.warnings)
            plan.warnings.push_back(fmt::format("{}: {}", p.string(), w));
        const std::uint8_t f = copc_point_format(info.metadata.header.point_format);
        if (plan.inputs.empty()) {
            format = f;
        } else if (f != format) {
            // Formats 6 < 7 < 8 nest: the richer format holds the others' fields.
            format = std::max(format, f);
        }
        plan.total_points += info.metadata.readable_points;
        plan.inputs.push_back(std::move(info));
    }
    check_extra_bytes_agree(plan.inputs);
    const auto& first = plan.inputs.front().metadata;
    const auto extra = static_cast<std::uint16_t>(first.extra_bytes.total_size);
    plan.header =
        las::derive_header(first.header, 4, format,
                           static_cast<std::uint16_t>(las::base_record_length(format) + extra));
    plan.header.point_format_raw = format | 0x80;
    las::set_text(plan.header.generating_software, "lidarmill copc");
    plan.header.header_size = las::kHeaderSize14;
    plan.header.extra_header_bytes.clear();
    plan.header_min = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                       std::numeric_limits<double>::max()};
    plan.header_max = {std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest(),
                       std::numeric_limits<double>::lowest()};
    for (const auto& in : plan.inputs) {
        if (in.metadata.readable_points == 0) continue;
        for (int axis = 0; axis < 3; ++axis) {
            plan.header_min[axis] = std::min(plan.header_min[axis], in.metadata.header.min[axis]);
            plan.header_max[axis] = std::max(plan.header_max[axis], in.metadata.header.max[axis]);
        }
    }
    if (plan.total_points == 0)
        throw util::InputError(paths.front().string(), "no points to convert");
    for (int axis = 0; axis < 3; ++axis) {
        if (!(plan.header_min[axis] <= plan.header_max[axis]))
            plan.header_min[axis] = plan.header_max[axis] = 0;
    }
    choose_quantization(plan);
    plan.wkt = resolve_wkt(plan.inputs, a_srs, plan.warnings);
    plan.header.global_encoding = static_cast<std::uint16_t>(
        (first.header.global_encoding & las::kGpsStandardTime) | (plan.wkt ? las::kWktCrs : 0));
    for (const auto& in : plan.inputs) {
        if ((in.metadata.header.global_encoding & las::kGpsStandardTime) !=
            (first.header.global_encoding & las::kGpsStandardTime)) {
            plan.warnings.push_back(
                fmt::format("{}: GPS time type (week / standard) differs from {}", in.path.string(),
                            plan.inputs.front().path.string()));
        }
    }
    if (const las::Vlr* eb = find_vlr(first.vlrs, "LASF_Spec", 4); eb && extra > 0) {
        plan.extra_bytes_vlr = copc_extra_bytes_vlr(*eb, first.extra_bytes);
    }
    return plan;
}

}  // namespace lidarmill::copc
