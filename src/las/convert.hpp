#pragma once
// Converting raw records between point formats (e.g. LAS 1.2 format 3 -> LAS 1.4
// format 7) and between extra-bytes layouts, field by field.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace lidarmill::las {

struct RecordLayout {
    std::uint8_t point_format = 0;
    std::uint16_t record_length = 0;
    std::uint16_t extra_size() const;
};

// What a conversion had to change to fit the target format.
struct ConversionLosses {
    std::uint64_t returns_clamped = 0;        // return numbers > 7 into a legacy format
    std::uint64_t classes_clamped = 0;        // classes > 31 into a legacy format
    std::uint64_t scan_angles_clamped = 0;    // angles outside the legacy int8 range
    std::uint64_t overlap_flags_dropped = 0;  // extended overlap flag into a legacy format
    std::uint64_t scanner_channels_dropped = 0;
    bool any() const;
};

class RecordConverter {
  public:
    // `extra_ranges`: (offset, size) byte ranges of the source's extra bytes to copy, in
    // order, to the start of the target's extra bytes; by default all of them.
    RecordConverter(RecordLayout from, RecordLayout to,
                    std::vector<std::pair<std::size_t, std::size_t>> extra_ranges = {});
    RecordConverter(RecordLayout from, RecordLayout to, bool copy_all_extra);

    // Converts `count` records from `in` into `out` (sized count * to.record_length).
    void convert(std::span<const std::uint8_t> in, std::size_t count, std::span<std::uint8_t> out);
    bool is_identity() const;
    const ConversionLosses& losses() const { return losses_; }

  private:
    void convert_one(const std::uint8_t* in, std::uint8_t* out);

    RecordLayout from_;
    RecordLayout to_;
    std::vector<std::pair<std::size_t, std::size_t>> extra_ranges_;
    ConversionLosses losses_;
};

}  // namespace lidarmill::las
