#pragma once
// Ground-truth sidecar of a synthetic tile: one (label, building height) per point, in point
// order, so feature tests can check walls, roofs and ground.
//
// Layout: "LMTRUTH1" (8 bytes), uint64 little-endian point count, then 5 bytes per point:
// uint8 TruthClass + float32 little-endian building height.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "synth/synth.hpp"
#include "util/file.hpp"

namespace lidarmill::synth {

inline constexpr char kTruthMagic[8] = {'L', 'M', 'T', 'R', 'U', 'T', 'H', '1'};
inline constexpr std::size_t kTruthHeaderSize = 16;
inline constexpr std::size_t kTruthRecordSize = 5;

// Streams truth records to `path`; the file appears under its name only after finish().
class TruthWriter {
  public:
    explicit TruthWriter(const std::filesystem::path& path);
    void write(std::span<const TruthRecord> records);
    // Writes the final count into the header and publishes the file.
    void finish();
    std::uint64_t count() const { return count_; }

  private:
    util::AtomicOutputFile out_;
    std::vector<std::uint8_t> buffer_;
    std::uint64_t count_ = 0;
    bool finished_ = false;
};

// Reads a whole sidecar; throws util::InputError naming the file when it is not one or is
// truncated.
std::vector<TruthRecord> read_truth(const std::filesystem::path& path);

}  // namespace lidarmill::synth
