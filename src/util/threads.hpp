#pragma once
// The one thread-count policy of every command: an explicit `--threads N` is taken as
// given, 0 means every core this process may use.
namespace lidarmill::util {

unsigned resolve_threads(unsigned requested);

}  // namespace lidarmill::util
