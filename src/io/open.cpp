#include "io/open.hpp"

#include "laz/laz_reader.hpp"
#include "laz/laz_writer.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "util/threads.hpp"

namespace lidarmill::io {

std::unique_ptr<las::Reader> open_reader(const std::filesystem::path& path, ReadOptions options) {
    const unsigned threads = util::resolve_threads(options.threads);
    const laz::DecodeScope scope = options.scope;
    auto decompressor = [threads, scope](std::shared_ptr<util::File> file,
                                         const las::FileMetadata& m) {
        const laz::LaszipVlr vlr = laz::require_laszip_vlr(m);
        laz::LazPointData data{m.header.offset_to_point_data, m.point_data_end,
                               m.header.point_count(),        m.header.point_format,
                               m.header.record_length,        vlr};
        return laz::make_laz_record_reader(std::move(file), data, threads, scope);
    };
    return std::make_unique<las::Reader>(path, decompressor);
}

bool is_laz_path(const std::filesystem::path& path) {
    return util::ascii_lower(path.extension().string()) == ".laz";
}

std::unique_ptr<las::Writer> create_writer(const std::filesystem::path& path,
                                           las::WriterConfig config, WriteOptions options) {
    const bool compress = options.compress.value_or(is_laz_path(path));
    if (!compress) return std::make_unique<las::Writer>(path, std::move(config));
    const unsigned threads = util::resolve_threads(options.threads);
    const std::uint32_t chunk_size = options.chunk_size;
    auto encoder = [threads, chunk_size, vlr = options.laszip_vlr](util::File& out,
                                                                   const las::Header& h) {
        if (vlr)
            return laz::make_laz_record_writer(out, h.point_format, h.record_length, *vlr, threads);
        return laz::make_laz_record_writer(out, h.point_format, h.record_length, chunk_size,
                                           threads);
    };
    return std::make_unique<las::Writer>(path, std::move(config), encoder);
}

}  // namespace lidarmill::io
