// lidarmill validate: placeholder until its module lands; it fails loudly instead of pretending.
#include "commands.hpp"
#include "util/error.hpp"

namespace lidarmill::app {

Command register_validate(CLI::App& app) {
    app.allow_extras();
    return []() -> int { throw util::UsageError("'validate' is not implemented yet"); };
}

}  // namespace lidarmill::app
