#pragma once
// Progress of one tile in units of points: each point is counted when it is read, when its
// features are computed and when it is written (3 units per point).
#include <algorithm>
#include <cstdint>
#include <functional>

namespace lidarmill::enrich {

class ProgressCounter {
  public:
    ProgressCounter(std::function<void(std::uint64_t, std::uint64_t)> callback,
                    std::uint64_t points)
        : callback_(std::move(callback)), total_(3 * points) {}
    void advance(std::uint64_t units) {
        done_ += units;
        if (callback_) callback_(std::min(done_, total_), total_);
    }

  private:
    std::function<void(std::uint64_t, std::uint64_t)> callback_;
    std::uint64_t total_;
    std::uint64_t done_ = 0;
};

}  // namespace lidarmill::enrich
