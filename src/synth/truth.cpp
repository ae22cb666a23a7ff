#include "synth/truth.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::synth {

namespace {
void encode_header(std::uint8_t* header, std::uint64_t count) {
    std::memcpy(header, kTruthMagic, sizeof kTruthMagic);
    util::store_le<std::uint64_t>(header + 8, count);
}
}  // namespace

TruthWriter::TruthWriter(const std::filesystem::path& path) : out_(path) {
    std::uint8_t header[kTruthHeaderSize];
    encode_header(header, 0);  // the count is patched by finish()
    out_.file().write(header);
}

void TruthWriter::write(std::span<const TruthRecord> records) {
    if (finished_) throw std::logic_error("TruthWriter::write after finish");
    buffer_.resize(records.size() * kTruthRecordSize);
    std::uint8_t* p = buffer_.data();
    for (const TruthRecord& r : records) {
        p[0] = static_cast<std::uint8_t>(r.label);
        util::store_le<float>(p + 1, r.building_height);
        p += kTruthRecordSize;
    }
    out_.file().write(buffer_);
    count_ += records.size();
}

void TruthWriter::finish() {
    if (finished_) return;
    std::uint8_t header[kTruthHeaderSize];
    encode_header(header, count_);
    out_.file().seek(0);
    out_.file().write(header);
    out_.commit();
    finished_ = true;
}

std::vector<TruthRecord> read_truth(const std::filesystem::path& path) {
    util::File in(path, util::File::Mode::read);
    std::uint8_t header[kTruthHeaderSize];
    in.read_exact(header, "truth header");
    if (std::memcmp(header, kTruthMagic, sizeof kTruthMagic) != 0) {
        throw util::InputError(in.path(), "not a lidarmill truth file (no LMTRUTH1 signature)");
    }
    const auto count = util::load_le<std::uint64_t>(header + 8);
    const std::uint64_t expected = kTruthHeaderSize + count * kTruthRecordSize;
    if (count > (UINT64_MAX - kTruthHeaderSize) / kTruthRecordSize || in.size() != expected) {
        throw util::InputError(in.path(), "truth file size " + std::to_string(in.size()) +
                                              " does not match its " + std::to_string(count) +
                                              " records (expected " + std::to_string(expected) +
                                              " bytes)");
    }
    std::vector<std::uint8_t> bytes(count * kTruthRecordSize);
    in.read_exact(bytes, "truth records");
    std::vector<TruthRecord> records(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint8_t* p = bytes.data() + i * kTruthRecordSize;
        if (p[0] > static_cast<std::uint8_t>(TruthClass::water)) {
            throw util::InputError(in.path(), "unknown truth label " + std::to_string(p[0]) +
                                                  " at point " + std::to_string(i));
        }
        records[i] = {static_cast<TruthClass>(p[0]), util::load_le<float>(p + 1)};
    }
    return records;
}

}  // namespace lidarmill::synth
