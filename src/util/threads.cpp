#include "util/threads.hpp"

#include <algorithm>
#include <thread>

namespace lidarmill::util {

unsigned resolve_threads(unsigned requested) {
    if (requested > 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace lidarmill::util
