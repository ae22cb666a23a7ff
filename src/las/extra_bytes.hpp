#pragma once
// The extra-bytes VLR (LASF_Spec / 4): typed dimensions stored after the standard part
// of each point record.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "las/vlr.hpp"

namespace lidarmill::las {

enum class ExtraType : std::uint8_t {
    undocumented = 0,  // `options` holds the byte count
    u8 = 1,
    i8,
    u16,
    i16,
    u32,
    i32,
    u64,
    i64,
    f32,
    f64,
    // 11-30: deprecated 2- and 3-element arrays of the above.
};

inline constexpr std::size_t kExtraBytesDescriptorSize = 192;

struct ExtraBytesDescriptor {
    std::uint8_t data_type = 0;  // ExtraType; 11..30 are arrays
    std::uint8_t options = 0;    // bits: 0 no_data, 1 min, 2 max, 3 scale, 4 offset
    std::string name;
    std::string description;
    std::array<std::uint8_t, 24> no_data{};  // raw 3 x 8 bytes, typed by data_type
    std::array<std::uint8_t, 24> min{};
    std::array<std::uint8_t, 24> max{};
    std::array<double, 3> scale{1.0, 1.0, 1.0};
    std::array<double, 3> offset{};
    std::array<std::uint8_t, 192> raw{};  // the descriptor as read, for byte-exact pass-through
    bool from_file = false;

    ExtraType base_type() const;  // element type (arrays map to their element)
    int element_count() const;    // 1, 2 or 3
    std::size_t element_size() const;
    std::size_t size() const;  // bytes in a record
    bool has_no_data() const { return options & 1u; }
    bool has_scale() const { return options & 8u; }
    bool has_offset() const { return options & 16u; }
    std::string type_name() const;

    std::array<std::uint8_t, 192> serialize() const;
    static ExtraBytesDescriptor parse(std::span<const std::uint8_t, 192> bytes);
};

// One dimension of the schema with its byte position inside the extra bytes.
struct ExtraDimension {
    ExtraBytesDescriptor descriptor;
    std::size_t offset_in_extra = 0;
};

// The extra bytes of a point format as a list of dimensions. Bytes that no descriptor
// declares stay opaque: `undeclared_bytes` counts those after the last descriptor.
struct ExtraBytesSchema {
    std::vector<ExtraDimension> dimensions;
    std::size_t declared_size = 0;
    std::size_t total_size = 0;
    std::size_t undeclared_bytes() const { return total_size - declared_size; }

    const ExtraDimension* find(std::string_view name) const;
    // Builds the schema from the extra-bytes VLR if any; `total_size` is the number of
    // extra bytes per record (record_length - base size). Warnings go to `warnings`.
    static ExtraBytesSchema from_vlrs(std::span<const Vlr> vlrs, std::size_t total_size,
                                      std::vector<std::string>& warnings);
    Vlr to_vlr() const;
    void add(ExtraBytesDescriptor descriptor);

    // Reads dimension `dim` element `element` of one record's extra bytes as a double,
    // with scale and offset applied when declared.
    double value(std::span<const std::uint8_t> extra, const ExtraDimension& dim,
                 int element = 0) const;
    // Raw (unscaled) numeric value.
    static double raw_value(const std::uint8_t* p, ExtraType type);
};

}  // namespace lidarmill::las
