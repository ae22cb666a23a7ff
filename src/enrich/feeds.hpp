#pragma once
// The feature bytes (and scanner channels) of a tile's points in file order, a run at a
// time, for the output: from memory, or merged from the out-of-core chunks' results.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "enrich/spill.hpp"
#include "las/point_format.hpp"
#include "util/scratch_dir.hpp"

namespace lidarmill::enrich {

class FeatureFeed {
  public:
    virtual ~FeatureFeed() = default;
    // Appends the next `count` points' feature bytes and channels.
    virtual void next(std::size_t count, std::vector<std::uint8_t>& features,
                      std::vector<std::uint8_t>& channels) = 0;
};

// Every point's feature bytes in memory, in file order; channels only when kept.
class InMemoryFeed final : public FeatureFeed {
  public:
    InMemoryFeed(std::unique_ptr<std::uint8_t[]> features, std::vector<std::uint8_t> channels,
                 std::size_t feature_bytes)
        : features_(std::move(features)),
          channels_(std::move(channels)),
          feature_bytes_(feature_bytes) {}
    void next(std::size_t count, std::vector<std::uint8_t>& features,
              std::vector<std::uint8_t>& channels) override;

  private:
    std::unique_ptr<std::uint8_t[]> features_;
    std::vector<std::uint8_t> channels_;
    std::size_t feature_bytes_;
    std::size_t position_ = 0;
};

// Sequence entries of the out-of-core path: the point's chunk, its scanner channel in the
// top two bits.
inline constexpr std::uint32_t kChannelShift = 30;
inline constexpr std::uint32_t kChunkMask = (std::uint32_t{1} << kChannelShift) - 1;

// Merges the chunks' feature files "out-<chunk>" back into file order along the file
// "sequence-0"; owns the scratch folder, removed when the feed goes.
class MergeFeed final : public FeatureFeed {
  public:
    MergeFeed(std::unique_ptr<util::ScratchDir> scratch, std::size_t chunks,
              std::size_t buffer_bytes, std::size_t feature_bytes);
    void next(std::size_t count, std::vector<std::uint8_t>& features,
              std::vector<std::uint8_t>& channels) override;

  private:
    std::unique_ptr<util::ScratchDir> scratch_;  // first: removed after the readers close
    SequentialReader sequence_;
    std::vector<std::unique_ptr<SequentialReader>> streams_;
    std::size_t feature_bytes_;
};

}  // namespace lidarmill::enrich
