#pragma once
// Vectors whose resize() leaves new elements of trivial types uninitialised.
// Buffers of millions of points that are about to be written in full by parallel loops
// were zero-filled first by one thread (value-initialisation), page faults included: a
// tenth of an in-memory enrich ran on one core for that. With these the writing threads
// touch the pages first, and nothing is written twice.
#include <memory>
#include <utility>
#include <vector>

namespace lidarmill::util {

template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
    template <typename U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() noexcept = default;
    template <typename U>
    DefaultInitAllocator(const DefaultInitAllocator<U>& other) noexcept
        : std::allocator<T>(other) {}

    // Default-initialisation: nothing for trivial types. With arguments, as usual.
    template <typename U, typename... Args>
    void construct(U* at, Args&&... args) {
        if constexpr (sizeof...(Args) == 0) {
            ::new (static_cast<void*>(at)) U;
        } else {
            ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
        }
    }
};

template <typename T>
using UninitVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace lidarmill::util
