#pragma once
// The entry points every command uses to read and write point files, whether LAS or
// LAZ: the LAS container from the las module with the LAZ codec plugged in.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "las/reader.hpp"
#include "las/writer.hpp"
#include "laz/chunk_codec.hpp"
#include "laz/laszip_vlr.hpp"

namespace lidarmill::laz {

struct ReadOptions {
    unsigned threads = 0;  // 0 = all cores
    // DecodeScope::positions: only coordinates, returns, scanner channel and class are
    // guaranteed, for passes that need nothing else (faster on layered LAZ).
    DecodeScope scope = DecodeScope::all;
};

// Opens a LAS or LAZ file. The LASzip VLR of a LAZ file is parsed and checked against
// the point format; errors name the file.
std::unique_ptr<las::Reader> open_reader(const std::filesystem::path& path,
                                         ReadOptions options = {});

// The parsed LASzip VLR of a file's metadata, if it has one.
std::optional<LaszipVlr> find_laszip_vlr(const las::FileMetadata& metadata);

struct WriteOptions {
    std::optional<bool> compress;                  // default: by extension (.laz)
    std::uint32_t chunk_size = kDefaultChunkSize;  // kVariableChunkSize: caller ends chunks
    unsigned threads = 0;
    // The LASzip VLR to encode with (its items and chunk size), e.g. a LayerAppender's;
    // default: what LASzip writes for the point format, with chunk_size.
    std::optional<LaszipVlr> laszip_vlr;
};

bool is_laz_path(const std::filesystem::path& path);

std::unique_ptr<las::Writer> create_writer(const std::filesystem::path& path,
                                           las::WriterConfig config, WriteOptions options = {});

unsigned resolve_threads(unsigned requested);

}  // namespace lidarmill::laz
