#pragma once
#include <stdexcept>
#include <string>

namespace lidarmill::util {

// Process exit codes, documented in the README and in --help.
enum class ExitCode : int {
    ok = 0,
    usage = 1,            // bad command line
    bad_input = 2,        // an input file is unreadable or invalid
    partial_failure = 3,  // a batch finished but some files failed
};

// A problem with an input file. what() is one line: "<file>: <problem>".
class InputError : public std::runtime_error {
  public:
    InputError(const std::string& file, const std::string& problem)
        : std::runtime_error(file.empty() ? problem : file + ": " + problem),
          file_(file),
          problem_(problem) {}
    const std::string& file() const { return file_; }
    const std::string& problem() const { return problem_; }

  private:
    std::string file_;
    std::string problem_;
};

// A problem with the command line or parameters given by the caller.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace lidarmill::util
