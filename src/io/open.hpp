#pragma once
// The entry points every command uses to read and write point files, whether LAS or
// LAZ: the LAS container from the las module with the LAZ codec plugged in. It sits
// above the codec so that laz/ stays the codec and its framing, and every reader of
// point files (enrich, copc, the commands) opens them the same way.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "las/reader.hpp"
#include "las/writer.hpp"
#include "laz/chunk_codec.hpp"
#include "laz/laszip_vlr.hpp"

namespace lidarmill::io {

struct ReadOptions {
    unsigned threads = 0;  // 0 = all cores
    // DecodeScope::positions: only coordinates, returns, scanner channel and class are
    // guaranteed, for passes that need nothing else (faster on layered LAZ).
    laz::DecodeScope scope = laz::DecodeScope::all;
};

// Opens a LAS or LAZ file. The LASzip VLR of a LAZ file is parsed and checked against
// the point format; errors name the file.
std::unique_ptr<las::Reader> open_reader(const std::filesystem::path& path,
                                         ReadOptions options = {});

struct WriteOptions {
    std::optional<bool> compress;                       // default: by extension (.laz)
    std::uint32_t chunk_size = laz::kDefaultChunkSize;  // kVariableChunkSize: caller ends chunks
    unsigned threads = 0;
    // The LASzip VLR to encode with (its items and chunk size), e.g. a LayerAppender's;
    // default: what LASzip writes for the point format, with chunk_size.
    std::optional<laz::LaszipVlr> laszip_vlr;
};

bool is_laz_path(const std::filesystem::path& path);

std::unique_ptr<las::Writer> create_writer(const std::filesystem::path& path,
                                           las::WriterConfig config, WriteOptions options = {});

}  // namespace lidarmill::io
