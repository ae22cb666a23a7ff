#include "ops/translate.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "io/open.hpp"
#include "las/point_format.hpp"
#include "util/error.hpp"

namespace lidarmill::ops {

namespace {

struct ExtraPlan {
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // source byte ranges kept
    std::optional<las::ExtraBytesSchema> schema;              // replaced schema, if changed
    std::uint16_t size = 0;
};

ExtraPlan plan_extra_bytes(const las::FileMetadata& m, const TranslateOptions& o) {
    ExtraPlan plan;
    const auto& schema = m.extra_bytes;
    if (!o.drop_all_extra && o.drop_extra.empty()) {
        plan.size = static_cast<std::uint16_t>(schema.total_size);
        if (plan.size) plan.ranges.push_back({0, plan.size});
        return plan;
    }
    for (const auto& name : o.drop_extra) {
        if (!schema.find(name)) {
            throw util::UsageError(
                fmt::format("{}: no extra-bytes dimension named '{}'", m.path, name));
        }
    }
    las::ExtraBytesSchema kept;
    if (!o.drop_all_extra) {
        for (const auto& dim : schema.dimensions) {
            if (std::find(o.drop_extra.begin(), o.drop_extra.end(), dim.descriptor.name) !=
                o.drop_extra.end()) {
                continue;
            }
            plan.ranges.push_back({dim.offset_in_extra, dim.descriptor.size()});
            kept.add(dim.descriptor);
        }
        // Undeclared trailing bytes have no name to drop them by: they stay.
        if (schema.undeclared_bytes()) {
            plan.ranges.push_back({schema.declared_size, schema.undeclared_bytes()});
            kept.total_size += schema.undeclared_bytes();
        }
    }
    plan.size = static_cast<std::uint16_t>(kept.total_size);
    plan.schema = std::move(kept);
    return plan;
}

}  // namespace

TranslateResult translate(const std::filesystem::path& input, const std::filesystem::path& output,
                          const TranslateOptions& o) {
    auto reader = io::open_reader(input, {o.threads});
    const auto& m = reader->metadata();
    const auto& in = m.header;
    const std::uint8_t format = o.point_format.value_or(in.point_format);
    if (format > las::kMaxPointFormat)
        throw util::UsageError(fmt::format("no point format {}", format));
    std::uint8_t minor = o.las_version_minor.value_or(in.version_minor);
    if (!o.las_version_minor && las::is_extended_format(format)) minor = 4;
    if (minor < 2 && !o.las_version_minor) minor = 2;
    if (minor < 2 || minor > 4) throw util::UsageError(fmt::format("cannot write LAS 1.{}", minor));
    if (las::is_extended_format(format) && minor < 4) {
        throw util::UsageError(fmt::format("point format {} needs LAS 1.4", format));
    }

    const ExtraPlan extra = plan_extra_bytes(m, o);
    const auto record_length =
        static_cast<std::uint16_t>(las::base_record_length(format) + extra.size);

    las::WriterConfig config = las::writer_config_from(m, {.version_minor = minor,
                                                           .point_format = format,
                                                           .record_length = record_length,
                                                           .extra_bytes = extra.schema});

    io::WriteOptions wo;
    wo.compress = o.compress;
    wo.threads = o.threads;
    if (o.chunk_size) wo.chunk_size = *o.chunk_size;
    auto writer = io::create_writer(output, std::move(config), wo);

    las::RecordConverter converter({in.point_format, in.record_length}, {format, record_length},
                                   extra.ranges);
    const bool identity = converter.is_identity();
    const std::size_t batch = 65536;
    std::vector<std::uint8_t> in_buf(batch * in.record_length);
    std::vector<std::uint8_t> out_buf(identity ? 0 : batch * record_length);
    TranslateResult result;
    const std::uint64_t total = reader->point_count();
    while (const std::size_t n = reader->read(in_buf)) {
        if (identity) {
            writer->write(std::span(in_buf).first(n * in.record_length));
        } else {
            converter.convert(in_buf, n, out_buf);
            writer->write(std::span(out_buf).first(n * record_length));
        }
        result.points += n;
        if (o.on_progress) o.on_progress(result.points, total);
    }
    writer->finish();
    result.losses = converter.losses();
    result.warnings = m.warnings;
    result.warnings.insert(result.warnings.end(), writer->warnings.begin(), writer->warnings.end());
    return result;
}

}  // namespace lidarmill::ops
