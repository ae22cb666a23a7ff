#include "laz/laz_reader.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/info.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>

#include "laz/arithmetic.hpp"
#include "laz/chunk_codec.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/task_window.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {
namespace {

// A chunk's records are allocated before it is decoded, and a damaged header or chunk table
// can claim billions of points for a few kilobytes (found by the fuzzer: a 146 GB request).
// Chunks that would take more than this much memory...
constexpr std::uint64_t kLargeChunkBytes = std::uint64_t{256} << 20;
// ...must not claim more points per compressed byte than this. Real data is far below it
// (LAZ takes bytes per point, not points per byte); only chunks of millions of identical
// points, whose coder spends a few thousandths of a bit on each, could go beyond.
constexpr std::uint64_t kMaxPointsPerByte = 64;

// Throws util::InputError("", ...) for a chunk whose records would be large and whose
// point count its compressed bytes cannot hold.
void check_chunk_size(std::uint64_t points, std::uint64_t bytes, std::uint16_t record_length) {
    if (record_length == 0 || points <= kLargeChunkBytes / record_length) return;
    if (bytes == 0 || points / bytes > kMaxPointsPerByte) {
        throw util::InputError(
            "", fmt::format("chunk claims {} points in {} compressed bytes", points, bytes));
    }
}

constexpr std::uint64_t kTableOffsetSize = 8;

std::uint64_t chunks_start(const LazPointData& data) {
    return data.point_data_offset + kTableOffsetSize;
}

// Where the chunk table begins, or 0 when the 8-byte pointer cannot be read or used.
std::int64_t read_table_offset(const util::ByteSource& file, const LazPointData& data) {
    std::uint8_t raw[8];
    if (data.point_data_offset + kTableOffsetSize > data.point_data_end) return 0;
    file.read_at(data.point_data_offset, raw, "chunk table offset");
    auto offset = util::load_le<std::int64_t>(raw);
    if (offset == -1 && data.point_data_end >= chunks_start(data) + kTableOffsetSize) {
        // Written to a stream that could not seek back: the pointer trails the table.
        file.read_at(data.point_data_end - kTableOffsetSize, raw, "chunk table offset");
        offset = util::load_le<std::int64_t>(raw);
    }
    return offset;
}

// Decodes the compressed byte (and, for variable chunks, point) counts after the header.
void decode_table_entries(std::span<const std::uint8_t> bytes, std::uint32_t count, bool variable,
                          std::vector<std::uint64_t>& points, std::vector<std::uint64_t>& sizes) {
    ArithmeticDecoder dec;
    dec.init(bytes);
    IntegerCompressor ic(32, 2);
    ic.init_decompressor();
    std::int32_t prev_points = 0;
    std::int32_t prev_bytes = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (variable) {
            prev_points = ic.decompress(dec, prev_points, 0);
            points.push_back(static_cast<std::uint32_t>(prev_points));
        }
        prev_bytes = ic.decompress(dec, prev_bytes, 1);
        sizes.push_back(static_cast<std::uint32_t>(prev_bytes));
    }
}

}  // namespace

ChunkTable read_chunk_table(const util::File& file, const LazPointData& data) {
    return read_chunk_table(util::FileViewSource(file), data);
}

ChunkTable read_chunk_table(const util::ByteSource& file, const LazPointData& data) {
    ChunkTable table;
    if (data.vlr.compressor == Compressor::pointwise) {
        // LASzip 1.x: no chunks, one arithmetic stream over all points.
        if (data.point_count > 0) {
            table.chunks.push_back({data.point_data_offset,
                                    data.point_data_end - data.point_data_offset,
                                    data.point_count});
        }
        return table;
    }
    if (data.point_count == 0) return table;
    const bool variable = data.vlr.variable_chunks();
    const std::int64_t table_offset = read_table_offset(file, data);
    if (table_offset <= 0 || static_cast<std::uint64_t>(table_offset) < chunks_start(data) ||
        static_cast<std::uint64_t>(table_offset) + 8 > data.point_data_end) {
        table.problem =
            fmt::format("chunk table offset {} lies outside the point data", table_offset);
        return table;
    }
    std::vector<std::uint8_t> raw(data.point_data_end - static_cast<std::uint64_t>(table_offset));
    file.read_at(static_cast<std::uint64_t>(table_offset), raw, "chunk table");
    const auto version = util::load_le<std::uint32_t>(raw.data());
    const auto count = util::load_le<std::uint32_t>(raw.data() + 4);
    if (version != 0) {
        table.problem = fmt::format("chunk table version {} is not 0", version);
        return table;
    }
    if (count == 0 || count > data.point_count) {
        table.problem =
            fmt::format("chunk table lists {} chunks for {} points", count, data.point_count);
        return table;
    }
    std::vector<std::uint64_t> points;
    std::vector<std::uint64_t> sizes;
    try {
        decode_table_entries(std::span(raw).subspan(8), count, variable, points, sizes);
    } catch (const util::InputError& e) {
        table.problem = "chunk table is damaged: " + e.problem();
        return table;
    }
    std::uint64_t offset = chunks_start(data);
    std::uint64_t points_left = data.point_count;
    for (std::uint32_t i = 0; i < count && points_left > 0; ++i) {
        const std::uint64_t chunk_points =
            std::min<std::uint64_t>(points_left, variable ? points[i] : data.vlr.chunk_size);
        if (sizes[i] == 0 || offset + sizes[i] > static_cast<std::uint64_t>(table_offset)) {
            table.problem = fmt::format(
                "chunk table entry {} ({} bytes at offset {}) runs past the "
                "chunk table",
                i + 1, sizes[i], offset);
            table.chunks.clear();
            return table;
        }
        table.chunks.push_back({offset, sizes[i], chunk_points});
        offset += sizes[i];
        points_left -= chunk_points;
    }
    if (points_left > 0) {
        table.problem = fmt::format("chunk table holds {} of {} points",
                                    data.point_count - points_left, data.point_count);
        table.chunks.clear();
    }
    return table;
}

namespace {

// A chunk being decoded or ready to be served. Its buffers are reused for later chunks.
struct Slot {
    std::size_t index = 0;
    std::vector<std::uint8_t> records;
    std::size_t points = 0;
    std::exception_ptr error;
};

class LazRecordReader final : public las::RecordReader {
  public:
    LazRecordReader(std::shared_ptr<util::File> file, const LazPointData& data, unsigned threads,
                    DecodeScope scope)
        : file_(std::move(file)), data_(data), scope_(scope), remaining_(data.point_count) {
        try {
            data_.vlr.check(data_.point_format, data_.record_length, "");
            probe_decoder_ =
                make_chunk_decoder(data_.vlr, data_.point_format, data_.record_length, scope_);
        } catch (const util::InputError& e) {
            throw util::InputError(file_->path(), e.problem());
        }
        ChunkTable table = read_chunk_table(*file_, data_);
        if (!table.problem.empty()) {
            if (data_.vlr.variable_chunks()) {
                throw util::InputError(file_->path(), table.problem +
                                                          " (variable-size chunks cannot be "
                                                          "recovered without it)");
            }
            spdlog::warn("{}: {}; reading the chunks in order without it", file_->path(),
                         table.problem);
            walking_ = true;
            walk_offset_ = chunks_start(data_);
            const std::int64_t table_offset =
                read_table_offset(util::FileViewSource(*file_), data_);
            walk_end_ = data_.point_data_end;
            if (table_offset > 0 && static_cast<std::uint64_t>(table_offset) > walk_offset_ &&
                static_cast<std::uint64_t>(table_offset) < walk_end_) {
                walk_end_ = static_cast<std::uint64_t>(table_offset);
            }
            chunk_count_ = static_cast<std::size_t>((data_.point_count + data_.vlr.chunk_size - 1) /
                                                    data_.vlr.chunk_size);
        } else {
            chunks_ = std::move(table.chunks);
            chunk_count_ = chunks_.size();
        }
        threads_ = threads == 0 ? static_cast<unsigned>(tbb::info::default_concurrency()) : threads;
        const unsigned workers =
            std::min(threads_, static_cast<unsigned>(tbb::info::default_concurrency())) - 1;
        if (workers > 0 && !walking_) {
            // The reading thread decodes too while it waits (TaskWindow::pop_front).
            window_ = std::make_unique<TaskWindow>(workers + 1);
            window_size_ = 4 * (workers + 1);
        }
    }

    std::size_t read(std::span<std::uint8_t> out) override {
        const std::size_t rl = data_.record_length;
        std::size_t wanted =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size() / rl, remaining_));
        std::size_t written = 0;
        while (written < wanted) {
            if (!current_ || served_ == current_->points) {
                next_chunk();
                served_ = 0;
            }
            const std::size_t n = std::min(wanted - written, current_->points - served_);
            std::memcpy(out.data() + written * rl, current_->records.data() + served_ * rl, n * rl);
            served_ += n;
            written += n;
            remaining_ -= n;
        }
        return written;
    }

    std::uint64_t remaining() const override { return remaining_; }

  private:
    std::string chunk_error(std::size_t index, const std::string& problem) const {
        return fmt::format("chunk {} of {}: {}", index + 1, chunk_count_, problem);
    }

    void next_chunk() {
        if (walking_) {
            walk_next_chunk();
            return;
        }
        if (next_served_ >= chunks_.size()) {
            throw util::InputError(file_->path(),
                                   fmt::format("point data ends after {} of {} points",
                                               data_.point_count - remaining_, data_.point_count));
        }
        if (!window_) {
            if (!current_) current_ = std::make_shared<Slot>();
            current_->index = next_served_;
            decode_into(*probe_decoder_, *current_, compressed_);
            ++next_served_;
            rethrow_if_failed(*current_);
            return;
        }
        // The chunk just served is done with: its buffers serve a later chunk.
        if (current_) spare_.push_back(std::move(current_));
        while (window_->size() < window_size_ && next_scheduled_ < chunks_.size())
            schedule(next_scheduled_++);
        window_->pop_front();  // decode errors stay in the slot (they name the chunk)
        current_ = std::move(scheduled_.front());
        scheduled_.pop_front();
        ++next_served_;
        rethrow_if_failed(*current_);
        if (next_scheduled_ < chunks_.size()) schedule(next_scheduled_++);
    }

    void rethrow_if_failed(const Slot& slot) const {
        if (slot.error) std::rethrow_exception(slot.error);
    }

    void schedule(std::size_t index) {
        std::shared_ptr<Slot> slot;
        if (spare_.empty()) {
            slot = std::make_shared<Slot>();
        } else {
            slot = std::move(spare_.back());
            spare_.pop_back();
            slot->error = nullptr;
        }
        slot->index = index;
        scheduled_.push_back(slot);
        window_->push([this, slot] {
            auto& decoder = decoders_.local();
            if (!decoder) {
                try {
                    decoder = make_chunk_decoder(data_.vlr, data_.point_format, data_.record_length,
                                                 scope_);
                } catch (...) {
                    slot->error = std::current_exception();
                    return;
                }
            }
            decode_into(*decoder, *slot, buffers_.local());
        });
    }

    // Reads and decodes chunk slot.index; failures are stored in the slot, naming file and chunk.
    void decode_into(ChunkDecoder& decoder, Slot& slot,
                     std::vector<std::uint8_t>& compressed) const {
        const ChunkLocation& where = chunks_[slot.index];
        try {
            check_chunk_size(where.point_count, where.byte_count, data_.record_length);
            compressed.resize(where.byte_count);
            file_->pread_exact(where.offset, compressed, "chunk");
            slot.points = static_cast<std::size_t>(where.point_count);
            slot.records.resize(slot.points * data_.record_length);
            decoder.decode(compressed, slot.points, slot.records);
        } catch (const util::InputError& e) {
            slot.error = std::make_exception_ptr(
                util::InputError(file_->path(), chunk_error(slot.index, e.problem())));
        } catch (...) {
            slot.error = std::current_exception();
        }
    }

    // Without a chunk table: each chunk ends where its decoder stopped reading.
    void walk_next_chunk() {
        const std::size_t index = walk_index_++;
        const std::uint64_t done = data_.point_count - remaining_;
        const std::uint64_t points =
            std::min<std::uint64_t>(data_.vlr.chunk_size, data_.point_count - done);
        if (!current_) current_ = std::make_shared<Slot>();
        current_->index = index;
        const std::uint64_t available = walk_end_ > walk_offset_ ? walk_end_ - walk_offset_ : 0;
        // Compressed chunks are almost never larger than raw ones; try that much first.
        const std::uint64_t guess = points * data_.record_length * 2 + 4096;
        try {
            check_chunk_size(points, available, data_.record_length);
            current_->points = static_cast<std::size_t>(points);
            current_->records.resize(current_->points * data_.record_length);
            for (std::uint64_t take = std::min(guess, available);; take = available) {
                compressed_.resize(take);
                file_->pread_exact(walk_offset_, compressed_, "chunk");
                try {
                    probe_decoder_->decode(compressed_, current_->points, current_->records);
                    break;
                } catch (const util::InputError&) {
                    if (take == available) throw;
                }
            }
        } catch (const util::InputError& e) {
            throw util::InputError(file_->path(), chunk_error(index, e.problem()));
        }
        const auto used = probe_decoder_->consumed_bytes();
        if (!used) {
            throw util::InputError(file_->path(), chunk_error(index,
                                                              "cannot find where this chunk "
                                                              "ends without a chunk table"));
        }
        walk_offset_ += *used;
    }

    std::shared_ptr<util::File> file_;
    LazPointData data_;
    DecodeScope scope_;
    std::uint64_t remaining_;
    std::unique_ptr<ChunkDecoder> probe_decoder_;  // used by the calling thread
    std::vector<std::uint8_t> compressed_;
    std::vector<ChunkLocation> chunks_;
    std::size_t chunk_count_ = 0;
    unsigned threads_ = 1;

    bool walking_ = false;
    std::uint64_t walk_offset_ = 0;
    std::uint64_t walk_end_ = 0;
    std::size_t walk_index_ = 0;

    std::shared_ptr<Slot> current_;
    std::size_t served_ = 0;
    std::size_t next_served_ = 0;
    std::size_t next_scheduled_ = 0;

    std::size_t window_size_ = 0;
    std::deque<std::shared_ptr<Slot>> scheduled_;  // the window's chunks, oldest first
    std::vector<std::shared_ptr<Slot>> spare_;
    tbb::enumerable_thread_specific<std::unique_ptr<ChunkDecoder>> decoders_;
    tbb::enumerable_thread_specific<std::vector<std::uint8_t>> buffers_;
    // Last: its jobs use the members above, so it is destroyed (waiting for them) first.
    std::unique_ptr<TaskWindow> window_;
};

}  // namespace

std::unique_ptr<las::RecordReader> make_laz_record_reader(std::shared_ptr<util::File> file,
                                                          const LazPointData& data,
                                                          unsigned threads, DecodeScope scope) {
    return std::make_unique<LazRecordReader>(std::move(file), data, threads, scope);
}

}  // namespace lidarmill::laz
