// libFuzzer target: the LAS header/VLR/EVLR parser, the LASzip VLR parser, the chunk
// table reader and the chunk decoders, fed with arbitrary files. Any crash, sanitizer
// report, hang or allocation beyond -malloc_limit_mb is a bug; util::InputError is the
// expected way to refuse a file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/open.hpp"
#include "util/error.hpp"

namespace {

const std::string& scratch_path() {
    static const std::string path = "/tmp/lidarmill_fuzz_" + std::to_string(::getpid()) + ".laz";
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::FILE* f = std::fopen(scratch_path().c_str(), "wb");
        if (!f) return 0;
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    try {
        auto reader = lidarmill::io::open_reader(scratch_path(), {1});
        std::vector<std::uint8_t> buffer(std::size_t{4096} * reader->record_length());
        while (reader->read(buffer) > 0) {
        }
    } catch (const lidarmill::util::InputError&) {
    } catch (const lidarmill::util::UsageError&) {
    }
    return 0;
}
