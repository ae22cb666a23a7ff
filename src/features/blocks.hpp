#pragma once
// Internal: stable selections over [0, n) done in parallel, block by block. Each block
// counts what it keeps; running totals then give every block the offset from which it
// writes its kept elements, so the result is in index order whatever the threads do.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace lidarmill::features::detail {

inline constexpr std::size_t kSelectionBlock = 65536;

inline std::size_t block_count(std::size_t n) {
    return (n + kSelectionBlock - 1) / kSelectionBlock;
}

// Calls visit(block, first, last) for every block of [0, n), in parallel.
template <typename Visit>
void for_each_block(std::size_t n, Visit&& visit) {
    tbb::parallel_for(std::size_t{0}, block_count(n), [&](std::size_t b) {
        visit(b, b * kSelectionBlock, std::min(n, (b + 1) * kSelectionBlock));
    });
}

// Calls f(i) for every i in [0, n), in parallel.
template <typename F>
void parallel_for_index(std::size_t n, F&& f) {
    for_each_block(n, [&](std::size_t, std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) f(i);
    });
}

// How many indices before each block `keep(i)` holds for (block_count(n) + 1 entries,
// the last one the total).
template <typename Keep>
std::vector<std::size_t> kept_before_blocks(std::size_t n, Keep&& keep) {
    std::vector<std::size_t> before(block_count(n) + 1, 0);
    for_each_block(n, [&](std::size_t b, std::size_t first, std::size_t last) {
        std::size_t kept = 0;
        for (std::size_t i = first; i < last; ++i) kept += keep(i) ? 1 : 0;
        before[b + 1] = kept;
    });
    for (std::size_t b = 1; b < before.size(); ++b) before[b] += before[b - 1];
    return before;
}

}  // namespace lidarmill::features::detail
