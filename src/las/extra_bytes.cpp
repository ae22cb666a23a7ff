#include "las/extra_bytes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "util/bytes.hpp"

namespace lidarmill::las {

using util::load_le;
using util::store_le;

namespace {
constexpr std::size_t kTypeSizes[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
constexpr const char* kTypeNames[] = {"undocumented", "uint8",   "int8",   "uint16",
                                      "int16",        "uint32",  "int32",  "uint64",
                                      "int64",        "float32", "float64"};
}  // namespace

ExtraType ExtraBytesDescriptor::base_type() const {
    if (data_type == 0 || data_type > 30) return ExtraType::undocumented;
    return static_cast<ExtraType>((data_type - 1) % 10 + 1);
}

int ExtraBytesDescriptor::element_count() const {
    if (data_type == 0 || data_type > 30) return 1;
    return (data_type - 1) / 10 + 1;
}

std::size_t ExtraBytesDescriptor::element_size() const {
    if (data_type == 0 || data_type > 30) return options;
    return kTypeSizes[static_cast<int>(base_type())];
}

std::size_t ExtraBytesDescriptor::size() const {
    return element_size() * element_count();
}

std::string ExtraBytesDescriptor::type_name() const {
    if (data_type > 30) return fmt::format("reserved({})", data_type);
    std::string base = kTypeNames[static_cast<int>(base_type())];
    if (data_type == 0) return fmt::format("undocumented[{}]", options);
    return element_count() == 1 ? base : fmt::format("{}[{}]", base, element_count());
}

ExtraBytesDescriptor ExtraBytesDescriptor::parse(std::span<const std::uint8_t, 192> b) {
    ExtraBytesDescriptor d;
    std::copy(b.begin(), b.end(), d.raw.begin());
    d.from_file = true;
    d.data_type = b[2];
    d.options = b[3];
    d.name = util::load_fixed_string(b.data() + 4, 32);
    std::copy_n(b.data() + 40, 24, d.no_data.begin());
    std::copy_n(b.data() + 64, 24, d.min.begin());
    std::copy_n(b.data() + 88, 24, d.max.begin());
    for (int i = 0; i < 3; ++i) {
        d.scale[i] = load_le<double>(b.data() + 112 + 8 * i);
        d.offset[i] = load_le<double>(b.data() + 136 + 8 * i);
    }
    d.description = util::load_fixed_string(b.data() + 160, 32);
    return d;
}

std::array<std::uint8_t, 192> ExtraBytesDescriptor::serialize() const {
    if (from_file) return raw;
    std::array<std::uint8_t, 192> b{};
    b[2] = data_type;
    b[3] = options;
    util::store_fixed_string(b.data() + 4, 32, name);
    std::copy(no_data.begin(), no_data.end(), b.data() + 40);
    std::copy(min.begin(), min.end(), b.data() + 64);
    std::copy(max.begin(), max.end(), b.data() + 88);
    for (int i = 0; i < 3; ++i) {
        store_le(b.data() + 112 + 8 * i, has_scale() ? scale[i] : 0.0);
        store_le(b.data() + 136 + 8 * i, has_offset() ? offset[i] : 0.0);
    }
    util::store_fixed_string(b.data() + 160, 32, description);
    return b;
}

const ExtraDimension* ExtraBytesSchema::find(std::string_view name) const {
    for (const auto& d : dimensions) {
        if (d.descriptor.name == name) return &d;
    }
    return nullptr;
}

ExtraBytesSchema ExtraBytesSchema::from_vlrs(std::span<const Vlr> vlrs, std::size_t total_size,
                                             std::vector<std::string>& warnings) {
    ExtraBytesSchema schema;
    schema.total_size = total_size;
    const auto it =
        std::find_if(vlrs.begin(), vlrs.end(), [](const Vlr& v) { return v.is("LASF_Spec", 4); });
    if (it != vlrs.end()) {
        if (it->data.size() % kExtraBytesDescriptorSize != 0) {
            warnings.push_back(
                fmt::format("extra-bytes VLR size {} is not a multiple of 192; "
                            "ignoring its trailing bytes",
                            it->data.size()));
        }
        const std::size_t count = it->data.size() / kExtraBytesDescriptorSize;
        std::size_t offset = 0;
        for (std::size_t i = 0; i < count; ++i) {
            std::span<const std::uint8_t, 192> bytes(it->data.data() + i * 192, 192);
            auto descriptor = ExtraBytesDescriptor::parse(bytes);
            const std::size_t size = descriptor.size();
            if (offset + size > total_size) {
                warnings.push_back(
                    fmt::format("extra-bytes dimension '{}' ({} bytes) does not fit "
                                "in the {} extra bytes of the record; ignoring it "
                                "and those after it",
                                descriptor.name, size, total_size));
                break;
            }
            schema.dimensions.push_back({std::move(descriptor), offset});
            offset += size;
        }
        schema.declared_size = offset;
    }
    if (schema.undeclared_bytes() > 0) {
        warnings.push_back(
            fmt::format("{} extra bytes per record are not declared by an "
                        "extra-bytes VLR; kept as opaque bytes",
                        schema.undeclared_bytes()));
    }
    return schema;
}

Vlr ExtraBytesSchema::to_vlr() const {
    Vlr vlr;
    vlr.user_id = "LASF_Spec";
    vlr.record_id = 4;
    vlr.description = "Extra Bytes Record";
    for (const auto& d : dimensions) {
        const auto bytes = d.descriptor.serialize();
        vlr.data.insert(vlr.data.end(), bytes.begin(), bytes.end());
    }
    return vlr;
}

void ExtraBytesSchema::add(ExtraBytesDescriptor descriptor) {
    // New dimensions go after the declared ones; opaque undeclared bytes would be
    // mistaken for the new dimension, so they must have been dropped or declared first.
    const std::size_t size = descriptor.size();
    dimensions.push_back({std::move(descriptor), declared_size});
    declared_size += size;
    total_size = std::max(total_size, declared_size);
}

double ExtraBytesSchema::raw_value(const std::uint8_t* p, ExtraType type) {
    switch (type) {
        case ExtraType::u8:
            return p[0];
        case ExtraType::i8:
            return static_cast<std::int8_t>(p[0]);
        case ExtraType::u16:
            return load_le<std::uint16_t>(p);
        case ExtraType::i16:
            return load_le<std::int16_t>(p);
        case ExtraType::u32:
            return load_le<std::uint32_t>(p);
        case ExtraType::i32:
            return load_le<std::int32_t>(p);
        case ExtraType::u64:
            return static_cast<double>(load_le<std::uint64_t>(p));
        case ExtraType::i64:
            return static_cast<double>(load_le<std::int64_t>(p));
        case ExtraType::f32:
            return load_le<float>(p);
        case ExtraType::f64:
            return load_le<double>(p);
        case ExtraType::undocumented:
            return 0.0;
    }
    return 0.0;
}

double ExtraBytesSchema::value(std::span<const std::uint8_t> extra, const ExtraDimension& dim,
                               int element) const {
    const auto& d = dim.descriptor;
    const std::uint8_t* p = extra.data() + dim.offset_in_extra + element * d.element_size();
    double v = raw_value(p, d.base_type());
    if (d.has_scale()) v *= d.scale[element];
    if (d.has_offset()) v += d.offset[element];
    return v;
}

}  // namespace lidarmill::las
