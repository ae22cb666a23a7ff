#include "las/writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::las {

using util::load_le;
using util::store_le;

void PointStats::add(std::span<const std::uint8_t> records, std::uint16_t record_length,
                     bool extended) {
    const std::size_t n = records.size() / record_length;
    const std::uint8_t return_mask = extended ? 0x0F : 0x07;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* p = records.data() + i * record_length;
        bounds.add(p);
        const unsigned r = p[14] & return_mask;
        if (r >= 1 && r <= 15) ++by_return[r - 1];
    }
    count += n;
}

void PointStats::merge(const PointStats& other) {
    bounds.merge(other.bounds);
    for (int r = 0; r < 15; ++r) by_return[r] += other.by_return[r];
    count += other.count;
}

void apply_stats(Header& h, const PointStats& s) {
    for (int axis = 0; axis < 3; ++axis) {
        h.min[axis] = s.count ? s.bounds.min[axis] * h.scale[axis] + h.offset[axis] : 0.0;
        h.max[axis] = s.count ? s.bounds.max[axis] * h.scale[axis] + h.offset[axis] : 0.0;
    }
    const bool fits_legacy = s.count <= std::numeric_limits<std::uint32_t>::max();
    if (h.at_least(1, 4)) {
        h.point_count_64 = s.count;
        std::copy(s.by_return.begin(), s.by_return.end(), h.points_by_return_64.begin());
        // LAS 1.4 R15 2.4: legacy counts are zero for formats 6-10 and for counts that
        // do not fit 32 bits.
        const bool legacy = !is_extended_format(h.point_format) && fits_legacy;
        h.legacy_point_count = legacy ? static_cast<std::uint32_t>(s.count) : 0;
        for (int r = 0; r < 5; ++r) {
            h.legacy_points_by_return[r] = legacy ? static_cast<std::uint32_t>(s.by_return[r]) : 0;
        }
    } else {
        if (!fits_legacy) {
            throw util::UsageError(fmt::format("{} points do not fit a LAS {} file; use LAS 1.4",
                                               s.count, h.version_string()));
        }
        h.legacy_point_count = static_cast<std::uint32_t>(s.count);
        for (int r = 0; r < 5; ++r)
            h.legacy_points_by_return[r] = static_cast<std::uint32_t>(s.by_return[r]);
    }
}

Header derive_header(const Header& source, std::uint8_t version_minor, std::uint8_t point_format,
                     std::uint16_t record_length) {
    Header h;
    h.file_source_id = source.file_source_id;
    h.global_encoding = source.global_encoding;
    h.guid = source.guid;
    h.version_major = 1;
    h.version_minor = version_minor;
    h.system_identifier = source.system_identifier;
    h.generating_software = source.generating_software;
    h.creation_day = source.creation_day;
    h.creation_year = source.creation_year;
    h.point_format = point_format;
    h.point_format_raw = point_format;
    h.record_length = record_length;
    h.scale = source.scale;
    h.offset = source.offset;
    if (version_minor >= 4 && is_extended_format(point_format)) h.global_encoding |= kWktCrs;
    if (version_minor < 4) h.global_encoding &= ~(kWktCrs);
    if (version_minor < 3) h.global_encoding &= kGpsStandardTime;
    h.header_size = static_cast<std::uint16_t>(h.standard_size());
    return h;
}

WriterConfig writer_config_from(const FileMetadata& input, const DerivedOutput& output) {
    const Header& in = input.header;
    WriterConfig config;
    config.header =
        derive_header(in, output.version_minor, output.point_format, output.record_length);
    if (output.keep_global_encoding && output.version_minor == in.version_minor) {
        config.header.global_encoding = in.global_encoding;
    }
    config.header.extra_header_bytes = in.extra_header_bytes;
    config.vlrs = input.vlrs;
    if (output.extra_bytes) {
        const auto is_schema = [](const Vlr& v) { return v.is("LASF_Spec", 4); };
        const auto first = std::ranges::find_if(config.vlrs, is_schema);
        const auto at = static_cast<std::size_t>(first - config.vlrs.begin());
        std::erase_if(config.vlrs, is_schema);
        if (!output.extra_bytes->dimensions.empty()) {
            config.vlrs.insert(config.vlrs.begin() + static_cast<std::ptrdiff_t>(at),
                               output.extra_bytes->to_vlr());
        }
    }
    config.bytes_after_vlrs = input.bytes_after_vlrs;
    config.evlrs = input.evlrs;
    return config;
}

namespace {

bool is_laszip_vlr(const Vlr& v) {
    return v.is("laszip encoded", 22204);
}

// COPC's info VLR and hierarchy EVLR locate octree nodes by byte offset: in a file this
// writer makes (never a COPC file) they would point at the wrong bytes.
bool is_copc_record(const Vlr& v) {
    return v.user_id == "copc";
}

// Waveform data packets; early LAS 1.3 writers spell the user id "LAS_Spec".
bool is_waveform_evlr(const Vlr& v) {
    return v.record_id == 65535 && (v.user_id == "LASF_Spec" || v.user_id == "LAS_Spec");
}

std::vector<std::uint8_t> serialize_vlr_header(const Vlr& v, bool extended) {
    std::vector<std::uint8_t> out(extended ? kEvlrHeaderSize : kVlrHeaderSize, 0);
    store_le(out.data(), v.reserved);
    if (v.raw_user_id.size() == 16) {
        std::copy(v.raw_user_id.begin(), v.raw_user_id.end(), out.data() + 2);
    } else {
        util::store_fixed_string(out.data() + 2, 16, v.user_id);
    }
    store_le(out.data() + 18, v.record_id);
    std::uint8_t* desc;
    if (extended) {
        store_le(out.data() + 20, static_cast<std::uint64_t>(v.data.size()));
        desc = out.data() + 28;
    } else {
        store_le(out.data() + 20, static_cast<std::uint16_t>(v.data.size()));
        desc = out.data() + 22;
    }
    if (v.raw_description.size() == 32) {
        std::copy(v.raw_description.begin(), v.raw_description.end(), desc);
    } else {
        util::store_fixed_string(desc, 32, v.description);
    }
    return out;
}

class RawRecordWriter final : public RecordWriter {
  public:
    explicit RawRecordWriter(util::File& file) : file_(file) {}
    void write(std::span<const std::uint8_t> records) override { file_.write(records); }
    void finish() override {}

  private:
    util::File& file_;
};

}  // namespace

Writer::Writer(const std::filesystem::path& path, WriterConfig config,
               const RecordWriterFactory& encoder)
    : config_(std::move(config)), header_(config_.header), output_(path) {
    std::erase_if(config_.vlrs, is_laszip_vlr);
    if (std::erase_if(config_.vlrs, is_copc_record) + std::erase_if(config_.evlrs, is_copc_record) >
        0) {
        warnings.push_back(
            "COPC info VLR and hierarchy EVLR dropped: the output is not a COPC file");
    }
    if (header_.point_format > kMaxPointFormat ||
        header_.record_length < base_record_length(header_.point_format)) {
        throw util::UsageError(fmt::format("cannot write point format {} with record length {}",
                                           header_.point_format, header_.record_length));
    }
    if (is_extended_format(header_.point_format) && !header_.at_least(1, 4)) {
        throw util::UsageError(fmt::format("point format {} needs LAS 1.4", header_.point_format));
    }
    if (!header_.at_least(1, 4) && !config_.evlrs.empty()) {
        std::vector<Vlr> kept;
        for (auto& evlr : config_.evlrs) {
            // LAS 1.3 keeps its waveform data packets as the one EVLR after the points.
            if (header_.at_least(1, 3) && is_waveform_evlr(evlr) && kept.empty()) {
                kept.push_back(std::move(evlr));
            } else if (evlr.data.size() <= std::numeric_limits<std::uint16_t>::max()) {
                config_.vlrs.push_back(std::move(evlr));
            } else {
                warnings.push_back(fmt::format(
                    "EVLR '{}' {} of {} bytes cannot be stored in LAS {}; "
                    "dropped",
                    evlr.user_id, evlr.record_id, evlr.data.size(), header_.version_string()));
            }
        }
        config_.evlrs = std::move(kept);
    }
    header_.header_size =
        static_cast<std::uint16_t>(header_.standard_size() + header_.extra_header_bytes.size());
    header_.point_format_raw = header_.point_format;
    if (encoder) {
        records_ = encoder(output_.file(), header_);
        if (auto vlr = records_->encoding_vlr()) config_.vlrs.push_back(std::move(*vlr));
        header_.point_format_raw |= 0x80;
    }
    write_vlrs();
    if (!records_) records_ = std::make_unique<RawRecordWriter>(output_.file());
}

Writer::~Writer() = default;

void Writer::write_vlrs() {
    std::uint64_t offset = header_.header_size;
    for (const auto& v : config_.vlrs) {
        if (v.data.size() > std::numeric_limits<std::uint16_t>::max()) {
            throw util::UsageError(fmt::format("VLR '{}' {} of {} bytes is too large for a VLR",
                                               v.user_id, v.record_id, v.data.size()));
        }
        offset += kVlrHeaderSize + v.data.size();
    }
    offset += config_.bytes_after_vlrs.size();
    if (offset > std::numeric_limits<std::uint32_t>::max()) {
        throw util::UsageError("VLRs too large for the 32-bit offset to point data");
    }
    header_.offset_to_point_data = static_cast<std::uint32_t>(offset);
    header_.number_of_vlrs = static_cast<std::uint32_t>(config_.vlrs.size());
    auto& file = output_.file();
    file.write(serialize_header(header_));
    for (const auto& v : config_.vlrs) {
        file.write(serialize_vlr_header(v, false));
        file.write(v.data);
    }
    file.write(config_.bytes_after_vlrs);
}

void Writer::write(std::span<const std::uint8_t> records) {
    if (records.size() % header_.record_length != 0) {
        throw std::logic_error("Writer::write: partial record");
    }
    stats_.add(records, header_.record_length, is_extended_format(header_.point_format));
    records_->write(records);
}

void Writer::end_chunk() {
    records_->end_chunk();
}

void Writer::write_encoded(std::uint64_t points,
                           std::function<std::vector<std::uint8_t>()> encode) {
    records_->write_encoded(points, std::move(encode));
    encoded_points_ += points;
}

void Writer::add_stats(const PointStats& stats) {
    stats_.merge(stats);
    encoded_stats_ += stats.count;
}

void Writer::finish() {
    if (finished_) return;
    if (encoded_points_ != encoded_stats_) {
        throw std::logic_error("Writer::finish: statistics do not cover the pre-encoded points");
    }
    records_->finish();
    auto& file = output_.file();
    header_.evlr_count = 0;
    header_.evlr_offset = 0;
    if (header_.at_least(1, 3)) header_.waveform_data_start = 0;
    if (!config_.evlrs.empty()) {
        header_.evlr_offset = file.tell();
        for (const auto& v : config_.evlrs) {
            if (is_waveform_evlr(v) && (header_.global_encoding & kWaveformInternal)) {
                header_.waveform_data_start = file.tell();
            }
            file.write(serialize_vlr_header(v, true));
            file.write(v.data);
        }
        if (header_.at_least(1, 4)) {
            header_.evlr_count = static_cast<std::uint32_t>(config_.evlrs.size());
        } else {
            header_.evlr_offset = 0;
        }
    }
    apply_stats(header_, stats_);
    file.seek(0);
    file.write(serialize_header(header_));
    output_.commit();
    finished_ = true;
}

}  // namespace lidarmill::las
