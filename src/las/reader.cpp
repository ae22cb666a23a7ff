#include "las/reader.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::las {

using util::load_le;

std::uint16_t FileMetadata::extra_bytes_per_record() const {
    return static_cast<std::uint16_t>(header.record_length -
                                      base_record_length(header.point_format));
}

namespace {

Vlr parse_vlr_header(const std::uint8_t* p, bool extended, std::uint64_t& data_size) {
    Vlr vlr;
    vlr.reserved = load_le<std::uint16_t>(p);
    vlr.raw_user_id.assign(p + 2, p + 18);
    vlr.user_id = util::load_fixed_string(p + 2, 16);
    vlr.record_id = load_le<std::uint16_t>(p + 18);
    data_size = extended ? load_le<std::uint64_t>(p + 20) : load_le<std::uint16_t>(p + 20);
    const std::uint8_t* desc = p + (extended ? 28 : 22);
    vlr.raw_description.assign(desc, desc + 32);
    vlr.description = util::load_fixed_string(desc, 32);
    return vlr;
}

void read_vlrs(const util::ByteSource& file, FileMetadata& m) {
    const Header& h = m.header;
    std::uint64_t pos = h.header_size;
    const std::uint64_t limit = std::min<std::uint64_t>(h.offset_to_point_data, m.file_size);
    for (std::uint32_t i = 0; i < h.number_of_vlrs; ++i) {
        if (pos + kVlrHeaderSize > limit) {
            m.warnings.push_back(
                fmt::format("header declares {} VLRs but only {} fit before the "
                            "point data; ignoring the rest",
                            h.number_of_vlrs, i));
            break;
        }
        std::uint8_t head[kVlrHeaderSize];
        file.read_at(pos, head, "VLR header");
        std::uint64_t size = 0;
        Vlr vlr = parse_vlr_header(head, false, size);
        if (pos + kVlrHeaderSize + size > limit) {
            m.warnings.push_back(
                fmt::format("VLR {} ('{}' {}) of {} bytes runs past the start of the "
                            "point data; ignoring it and the VLRs after it",
                            i, vlr.user_id, vlr.record_id, size));
            break;
        }
        vlr.data.resize(size);
        file.read_at(pos + kVlrHeaderSize, vlr.data, "VLR data");
        pos += kVlrHeaderSize + size;
        m.vlrs.push_back(std::move(vlr));
    }
    if (pos < limit) {
        m.bytes_after_vlrs.resize(limit - pos);
        file.read_at(pos, m.bytes_after_vlrs, "bytes after the VLRs");
    }
}

void read_evlrs(const util::ByteSource& file, FileMetadata& m, std::uint64_t start,
                std::uint32_t count) {
    std::uint64_t pos = start;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (pos + kEvlrHeaderSize > m.file_size) {
            m.warnings.push_back(
                fmt::format("header declares {} EVLRs but EVLR {} lies beyond the "
                            "end of the file; ignoring the rest",
                            count, i));
            return;
        }
        std::uint8_t head[kEvlrHeaderSize];
        file.read_at(pos, head, "EVLR header");
        std::uint64_t size = 0;
        Vlr vlr = parse_vlr_header(head, true, size);
        if (size > m.file_size - pos - kEvlrHeaderSize) {
            m.warnings.push_back(
                fmt::format("EVLR {} ('{}' {}) of {} bytes runs past the end of the "
                            "file; ignoring it and the EVLRs after it",
                            i, vlr.user_id, vlr.record_id, size));
            return;
        }
        vlr.data.resize(size);
        file.read_at(pos + kEvlrHeaderSize, vlr.data, "EVLR data");
        m.evlr_data_offsets.push_back(pos + kEvlrHeaderSize);
        pos += kEvlrHeaderSize + size;
        m.evlrs.push_back(std::move(vlr));
    }
}

// Where the point records end: the first EVLR (1.4) or the internal waveform data
// (1.3), when they lie after the point data; otherwise the end of the file.
std::uint64_t point_data_end(const FileMetadata& m) {
    const Header& h = m.header;
    std::uint64_t end = m.file_size;
    if (h.at_least(1, 4) && h.evlr_count > 0 && h.evlr_offset >= h.offset_to_point_data) {
        end = std::min(end, h.evlr_offset);
    }
    if (h.at_least(1, 3) && h.waveform_data_start >= h.offset_to_point_data &&
        (h.global_encoding & kWaveformInternal)) {
        end = std::min(end, h.waveform_data_start);
    }
    return end;
}

void check_point_capacity(FileMetadata& m) {
    const Header& h = m.header;
    const std::uint64_t declared = h.point_count();
    if (h.at_least(1, 4) && h.point_count_64 == 0 && h.legacy_point_count != 0) {
        m.warnings.push_back(fmt::format("64-bit point count is 0; using the legacy count {}",
                                         h.legacy_point_count));
    } else if (h.at_least(1, 4) && h.legacy_point_count != 0 &&
               h.legacy_point_count != h.point_count_64) {
        m.warnings.push_back(fmt::format("legacy point count {} differs from the 64-bit count {}",
                                         h.legacy_point_count, h.point_count_64));
    }
    if (h.is_compressed()) {
        m.readable_points = declared;
        return;
    }
    const std::uint64_t bytes =
        m.point_data_end > h.offset_to_point_data ? m.point_data_end - h.offset_to_point_data : 0;
    const std::uint64_t whole = bytes / h.record_length;
    m.readable_points = std::min(declared, whole);
    if (whole < declared) {
        m.warnings.push_back(
            fmt::format("header says {} points but the file holds only {} whole "
                        "records; reading {}",
                        declared, whole, m.readable_points));
    }
}

void check_encoding_flags(FileMetadata& m) {
    const Header& h = m.header;
    if (is_extended_format(h.point_format) && !(h.global_encoding & kWktCrs) && h.at_least(1, 4)) {
        m.warnings.push_back(
            fmt::format("point format {} requires the WKT global-encoding bit, "
                        "which is not set",
                        h.point_format));
    }
    if (is_extended_format(h.point_format) && !h.at_least(1, 4)) {
        m.warnings.push_back(fmt::format("point format {} in a LAS {} file (needs 1.4)",
                                         h.point_format, h.version_string()));
    }
}

}  // namespace

FileMetadata read_metadata(util::File& file) {
    return read_metadata(util::FileViewSource(file));
}

FileMetadata read_metadata(const util::ByteSource& file) {
    FileMetadata m;
    m.path = file.name();
    m.file_size = file.size();
    std::vector<std::uint8_t> head(std::min<std::uint64_t>(m.file_size, kHeaderSize14));
    file.read_at(0, head, "header");
    m.header = parse_header(head, m.path);
    Header& h = m.header;
    if (h.header_size > h.standard_size()) {
        if (h.header_size > m.file_size) {
            throw util::InputError(m.path, fmt::format("header size {} exceeds the file size {}",
                                                       h.header_size, m.file_size));
        }
        h.extra_header_bytes.resize(h.header_size - h.standard_size());
        file.read_at(h.standard_size(), h.extra_header_bytes, "header");
    }
    if (h.offset_to_point_data > m.file_size) {
        throw util::InputError(m.path, fmt::format("offset to point data {} lies beyond the end of "
                                                   "the file ({} bytes)",
                                                   h.offset_to_point_data, m.file_size));
    }
    read_vlrs(file, m);
    if (h.at_least(1, 4) && h.evlr_count > 0) {
        if (h.evlr_offset < h.offset_to_point_data || h.evlr_offset > m.file_size) {
            m.warnings.push_back(
                fmt::format("EVLR offset {} lies outside the file's data area; "
                            "ignoring {} EVLRs",
                            h.evlr_offset, h.evlr_count));
        } else {
            read_evlrs(file, m, h.evlr_offset, h.evlr_count);
        }
    } else if (h.at_least(1, 3) && !h.at_least(1, 4) && (h.global_encoding & kWaveformInternal) &&
               h.waveform_data_start >= h.offset_to_point_data &&
               h.waveform_data_start < m.file_size) {
        // LAS 1.3 stores its waveform data packets as one EVLR after the points.
        read_evlrs(file, m, h.waveform_data_start, 1);
    }
    m.point_data_end = point_data_end(m);
    check_point_capacity(m);
    check_encoding_flags(m);
    m.extra_bytes = ExtraBytesSchema::from_vlrs(m.vlrs, m.extra_bytes_per_record(), m.warnings);
    m.crs = read_crs(m.vlrs, m.evlrs, m.warnings);
    return m;
}

namespace {

class UncompressedRecordReader final : public RecordReader {
  public:
    UncompressedRecordReader(std::shared_ptr<util::File> file, const FileMetadata& m)
        : file_(std::move(file)),
          next_offset_(m.header.offset_to_point_data),
          record_length_(m.header.record_length),
          remaining_(m.readable_points) {}

    std::size_t read(std::span<std::uint8_t> out) override {
        const std::uint64_t n = std::min<std::uint64_t>(out.size() / record_length_, remaining_);
        if (n == 0) return 0;
        const std::size_t bytes = static_cast<std::size_t>(n) * record_length_;
        file_->pread_exact(next_offset_, out.first(bytes), "point records");
        next_offset_ += bytes;
        remaining_ -= n;
        return static_cast<std::size_t>(n);
    }
    std::uint64_t remaining() const override { return remaining_; }

  private:
    std::shared_ptr<util::File> file_;
    std::uint64_t next_offset_;
    std::uint16_t record_length_;
    std::uint64_t remaining_;
};

}  // namespace

std::unique_ptr<RecordReader> make_uncompressed_reader(std::shared_ptr<util::File> file,
                                                       const FileMetadata& metadata) {
    return std::make_unique<UncompressedRecordReader>(std::move(file), metadata);
}

Reader::Reader(const std::filesystem::path& path, const RecordReaderFactory& decompressor)
    : file_(std::make_shared<util::File>(path, util::File::Mode::read)) {
    metadata_ = read_metadata(*file_);
    if (metadata_.header.is_compressed()) {
        if (!decompressor) {
            throw util::InputError(metadata_.path,
                                   "compressed (LAZ) point data needs a LAZ decoder");
        }
        records_ = decompressor(file_, metadata_);
    } else {
        records_ = make_uncompressed_reader(file_, metadata_);
    }
}

std::size_t Reader::read(std::span<std::uint8_t> out) {
    return records_->read(out);
}

}  // namespace lidarmill::las
