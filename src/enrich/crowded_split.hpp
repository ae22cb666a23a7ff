#pragma once
// A chunk whose points crowd beyond the plan (a coastal tile that is mostly sea, a town
// among fields: the plan knows only the mean density) is split on disk into k x k
// sub-chunks, each with its own halo, computed one by one (split again if need be); their
// features are then merged back into the bucket's order. Sub-chunks take their halo from
// the chunk's points and halo, which hold every point within the halo of any part of the
// chunk, so the features are those of any other chunking.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "enrich/chunk_grid.hpp"
#include "enrich/footprint.hpp"

namespace lidarmill::enrich {

// A bucket's entries -> its own points' feature bytes, in bucket order.
using BucketCompute = std::function<std::vector<std::uint8_t>(std::vector<std::uint8_t>)>;

class CrowdedSplitter {
  public:
    // `limit`: entries past which a bucket is split; `halo`: metres.
    CrowdedSplitter(const std::string& path, const Frame& frame, double halo, std::uint64_t limit,
                    std::size_t feature_bytes, BucketCompute compute);

    // Computes the chunk of `bucket` (its square `square`) into `out`, splitting it as
    // needed into files named after `stem` in `folder`; deletes the bucket and returns the
    // scratch bytes written.
    std::uint64_t compute(const std::filesystem::path& folder, const std::filesystem::path& bucket,
                          const ChunkSquare& square, const std::filesystem::path& out,
                          const std::string& stem);

  private:
    struct SplitBucket {
        std::uint64_t own = 0;    // the chunk's own points
        std::uint64_t bytes = 0;  // written to the sub-buckets
    };
    SplitBucket split(const std::filesystem::path& bucket, std::uint64_t entries,
                      const ChunkGrid& sub, const std::filesystem::path& folder,
                      const std::string& stem) const;
    void merge_in_bucket_order(const std::filesystem::path& folder, const std::string& stem,
                               std::uint32_t sub_chunks, std::uint64_t own,
                               const std::filesystem::path& out) const;
    std::uint64_t compute_to_file(const std::filesystem::path& bucket,
                                  const std::filesystem::path& out);

    std::string path_;  // of the tile, for the log
    Frame frame_;
    double halo_;
    std::uint64_t limit_;
    std::size_t feature_bytes_;
    BucketCompute compute_;
};

}  // namespace lidarmill::enrich
