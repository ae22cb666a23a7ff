// lidarmill copc: placeholder until its module lands; it fails loudly instead of pretending.
#include "commands.hpp"
#include "util/error.hpp"

namespace lidarmill::app {

Command register_copc(CLI::App& app) {
    app.allow_extras();
    return []() -> int { throw util::UsageError("'copc' is not implemented yet"); };
}

}  // namespace lidarmill::app
