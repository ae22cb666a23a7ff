#include "laz/chunk_codec.hpp"

#include <fmt/format.h>

#include <cstring>

#include "laz/item_codec.hpp"
#include "util/error.hpp"

#if __has_include("laz/layered.hpp")
#include "laz/layered.hpp"
#define LIDARMILL_HAVE_LAYERED 1
#else
#define LIDARMILL_HAVE_LAYERED 0
#endif

namespace lidarmill::laz {
namespace {

// Start offset of each item inside a record.
std::vector<std::size_t> item_offsets(const LaszipVlr& vlr) {
    std::vector<std::size_t> offsets;
    std::size_t offset = 0;
    for (const auto& item : vlr.items) {
        offsets.push_back(offset);
        offset += item.size;
    }
    return offsets;
}

void check_buffer(std::size_t have, std::size_t point_count, std::uint16_t record_length) {
    if (have < point_count * record_length) {
        throw std::invalid_argument(
            fmt::format("buffer of {} bytes cannot hold {} records of {} bytes", have, point_count,
                        record_length));
    }
}

// Compressors 1 and 2: the first record raw, then one arithmetic stream with every
// following record, item after item.
class PointwiseChunkDecoder final : public ChunkDecoder {
  public:
    PointwiseChunkDecoder(const LaszipVlr& vlr, std::uint16_t record_length)
        : record_length_(record_length), offsets_(item_offsets(vlr)) {
        for (const auto& item : vlr.items) items_.push_back(make_item_decoder(item, dec_));
    }

    void decode(std::span<const std::uint8_t> chunk, std::size_t point_count,
                std::span<std::uint8_t> out) override {
        consumed_ = 0;
        if (point_count == 0) return;
        check_buffer(out.size(), point_count, record_length_);
        if (chunk.size() < record_length_) {
            throw util::InputError(
                "", fmt::format("chunk of {} bytes is shorter than one record", chunk.size()));
        }
        std::uint8_t* record = out.data();
        std::memcpy(record, chunk.data(), record_length_);
        for (std::size_t i = 0; i < items_.size(); ++i) items_[i]->init(record + offsets_[i]);
        const auto stream = chunk.subspan(record_length_);
        // A one-point chunk still carries the encoder's 4 closing bytes; tolerate their absence.
        if (point_count == 1 && stream.size() < 4) {
            consumed_ = record_length_;
            return;
        }
        dec_.init(stream);
        for (std::size_t p = 1; p < point_count; ++p) {
            record += record_length_;
            for (std::size_t i = 0; i < items_.size(); ++i) items_[i]->decode(record + offsets_[i]);
        }
        consumed_ = record_length_ + dec_.position();
    }

    std::optional<std::size_t> consumed_bytes() const override { return consumed_; }

  private:
    std::uint16_t record_length_;
    std::vector<std::size_t> offsets_;
    ArithmeticDecoder dec_;  // items hold references to it: declared before them
    std::vector<std::unique_ptr<ItemDecoder>> items_;
    std::size_t consumed_ = 0;
};

class PointwiseChunkEncoder final : public ChunkEncoder {
  public:
    PointwiseChunkEncoder(const LaszipVlr& vlr, std::uint16_t record_length)
        : record_length_(record_length), offsets_(item_offsets(vlr)) {
        for (const auto& item : vlr.items) items_.push_back(make_item_encoder(item, enc_));
    }

    std::vector<std::uint8_t> encode(std::span<const std::uint8_t> records,
                                     std::size_t point_count) override {
        if (point_count == 0) return {};
        check_buffer(records.size(), point_count, record_length_);
        const std::uint8_t* record = records.data();
        for (std::size_t i = 0; i < items_.size(); ++i) items_[i]->init(record + offsets_[i]);
        enc_.reset();
        for (std::size_t p = 1; p < point_count; ++p) {
            record += record_length_;
            for (std::size_t i = 0; i < items_.size(); ++i) items_[i]->encode(record + offsets_[i]);
        }
        enc_.done();
        std::vector<std::uint8_t> chunk;
        chunk.reserve(record_length_ + enc_.bytes().size());
        chunk.insert(chunk.end(), records.begin(), records.begin() + record_length_);
        chunk.insert(chunk.end(), enc_.bytes().begin(), enc_.bytes().end());
        return chunk;
    }

  private:
    std::uint16_t record_length_;
    std::vector<std::size_t> offsets_;
    ArithmeticEncoder enc_;
    std::vector<std::unique_ptr<ItemEncoder>> items_;
};

void check_vlr(const LaszipVlr& vlr, std::uint8_t point_format, std::uint16_t record_length) {
    if (vlr.compressor == Compressor::none) {
        throw util::InputError("", "LASzip VLR says the points are not compressed");
    }
    vlr.check(point_format, record_length, "");
}

}  // namespace

std::unique_ptr<ChunkDecoder> make_chunk_decoder(const LaszipVlr& vlr, std::uint8_t point_format,
                                                 std::uint16_t record_length, DecodeScope scope) {
    check_vlr(vlr, point_format, record_length);
    if (vlr.compressor == Compressor::layered_chunked) {
#if LIDARMILL_HAVE_LAYERED
        return make_layered_chunk_decoder(vlr, record_length, scope);
#else
        throw util::InputError("", "compressor 3 not available yet");
#endif
    }
    return std::make_unique<PointwiseChunkDecoder>(vlr, record_length);
}

std::unique_ptr<ChunkEncoder> make_chunk_encoder(const LaszipVlr& vlr, std::uint8_t point_format,
                                                 std::uint16_t record_length) {
    check_vlr(vlr, point_format, record_length);
    if (vlr.compressor == Compressor::layered_chunked) {
#if LIDARMILL_HAVE_LAYERED
        return make_layered_chunk_encoder(vlr, record_length);
#else
        throw util::InputError("", "compressor 3 not available yet");
#endif
    }
    if (vlr.compressor == Compressor::pointwise) {
        throw util::InputError("", "writing LAZ compressor 1 (unchunked) is not supported");
    }
    return std::make_unique<PointwiseChunkEncoder>(vlr, record_length);
}

}  // namespace lidarmill::laz
