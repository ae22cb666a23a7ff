#include "laz/laz_writer.hpp"

#include <fmt/format.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/info.h>

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "laz/arithmetic.hpp"
#include "laz/chunk_codec.hpp"
#include "laz/integer_compressor.hpp"
#include "laz/task_window.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::laz {

std::vector<std::uint8_t> encode_chunk_table(std::span<const std::uint64_t> chunk_bytes,
                                             std::span<const std::uint64_t> chunk_points,
                                             bool variable) {
    std::vector<std::uint8_t> table(8);
    util::store_le<std::uint32_t>(table.data(), 0);  // table version
    util::store_le<std::uint32_t>(table.data() + 4, static_cast<std::uint32_t>(chunk_bytes.size()));
    if (chunk_bytes.empty()) return table;
    ArithmeticEncoder enc;
    IntegerCompressor ic(32, 2);
    ic.init_compressor();
    for (std::size_t i = 0; i < chunk_bytes.size(); ++i) {
        // Each entry is predicted from the previous one, as LASzip does.
        if (variable) {
            ic.compress(enc, i ? static_cast<std::int32_t>(chunk_points[i - 1]) : 0,
                        static_cast<std::int32_t>(chunk_points[i]), 0);
        }
        ic.compress(enc, i ? static_cast<std::int32_t>(chunk_bytes[i - 1]) : 0,
                    static_cast<std::int32_t>(chunk_bytes[i]), 1);
    }
    enc.done();
    table.insert(table.end(), enc.bytes().begin(), enc.bytes().end());
    return table;
}

namespace {

// A chunk on its way through the encoders. Its record buffer is reused for later chunks.
struct ChunkJob {
    std::vector<std::uint8_t> records;
    std::vector<std::uint8_t> encoded;
    std::uint64_t points = 0;
    std::function<std::vector<std::uint8_t>()> encode;  // a pre-encoded chunk's producer
};

class LazRecordWriter final : public las::RecordWriter {
  public:
    LazRecordWriter(util::File& out, std::uint8_t point_format, std::uint16_t record_length,
                    LaszipVlr vlr, unsigned threads)
        : out_(out),
          point_format_(point_format),
          record_length_(record_length),
          vlr_(std::move(vlr)) {
        if (vlr_.chunk_size == 0) throw util::UsageError("LAZ chunk size must be at least 1");
        const unsigned resolved =
            threads == 0 ? static_cast<unsigned>(tbb::info::default_concurrency()) : threads;
        // Enough chunks in flight that the encoders never wait for the caller's next
        // records or for the writing of finished chunks.
        window_limit_ = resolved > 1 ? 4 * resolved : 1;
        window_ = std::make_unique<TaskWindow>(resolved);
        // Fails early (before any byte is written) for what we cannot encode.
        make_chunk_encoder(vlr_, point_format_, record_length_);
    }

    std::optional<las::Vlr> encoding_vlr() const override { return vlr_.to_vlr(); }

    void write(std::span<const std::uint8_t> records) override {
        if (records.size() % record_length_ != 0) {
            throw std::invalid_argument(fmt::format("{} bytes are not whole records of {} bytes",
                                                    records.size(), record_length_));
        }
        start();
        while (!records.empty()) {
            std::size_t take = records.size();
            if (!vlr_.variable_chunks()) {
                const std::size_t room = (vlr_.chunk_size - pending_points()) * record_length_;
                take = std::min(take, room);
            }
            pending().insert(pending().end(), records.begin(),
                             records.begin() + static_cast<long>(take));
            records = records.subspan(take);
            if (!vlr_.variable_chunks() && pending_points() == vlr_.chunk_size) close_chunk();
        }
    }

    void end_chunk() override {
        if (vlr_.variable_chunks() && pending_points() > 0) close_chunk();
    }

    void write_encoded(std::uint64_t points,
                       std::function<std::vector<std::uint8_t>()> encode) override {
        start();
        if (pending_points() > 0) {
            throw std::logic_error("write_encoded: records of an unfinished chunk are pending");
        }
        if (!vlr_.variable_chunks() && fixed_chunk_ended_early_) {
            throw std::logic_error("write_encoded: only the last fixed-size chunk may be short");
        }
        if (points == 0) return;
        if (!vlr_.variable_chunks()) fixed_chunk_ended_early_ = points != vlr_.chunk_size;
        std::shared_ptr<ChunkJob> job = take_job();
        job->points = points;
        job->encode = std::move(encode);
        submit(std::move(job), [](ChunkJob& j) {
            j.encoded = j.encode();
            j.encode = nullptr;  // frees what the producer held
        });
    }

    void finish() override {
        start();
        if (pending_points() > 0) close_chunk();
        while (!window_->empty()) write_front();
        const std::uint64_t table_offset = out_.tell();
        out_.write(encode_chunk_table(chunk_bytes_, chunk_points_, vlr_.variable_chunks()));
        const std::uint64_t end = out_.tell();
        std::uint8_t pointer[8];
        util::store_le<std::int64_t>(pointer, static_cast<std::int64_t>(table_offset));
        out_.seek(start_);
        out_.write(pointer);
        out_.seek(end);
    }

  private:
    // A job from those already written, so that their buffers are reused: allocating one
    // per chunk raised enrich's peak RSS at 512M from 189 MB to 970 MB.
    std::shared_ptr<ChunkJob> take_job() {
        std::shared_ptr<ChunkJob> job;
        if (spare_.empty()) {
            job = std::make_shared<ChunkJob>();
        } else {
            job = std::move(spare_.back());
            spare_.pop_back();
        }
        job->records.clear();
        return job;
    }

    std::vector<std::uint8_t>& pending() {
        if (!pending_) {
            pending_ = take_job();
            if (!vlr_.variable_chunks()) {
                pending_->records.reserve(std::size_t{std::min(vlr_.chunk_size, 1u << 20)} *
                                          record_length_);
            }
        }
        return pending_->records;
    }
    std::size_t pending_points() const {
        return pending_ ? pending_->records.size() / record_length_ : 0;
    }

    // The chunk-table pointer goes first; patched in finish().
    void start() {
        if (started_) return;
        started_ = true;
        start_ = out_.tell();
        const std::uint8_t placeholder[8] = {};
        out_.write(placeholder);
    }

    // Hands the pending chunk to the encoders.
    void close_chunk() {
        std::shared_ptr<ChunkJob> job = std::move(pending_);
        job->points = job->records.size() / record_length_;
        submit(std::move(job), [this](ChunkJob& j) {
            auto& encoder = encoders_.local();
            if (!encoder) encoder = make_chunk_encoder(vlr_, point_format_, record_length_);
            j.encoded = encoder->encode(j.records, j.points);
        });
    }

    // Queues `encode(job)` on the encoders; writes finished chunks (in order) while the
    // window is full.
    template <typename Encode>
    void submit(std::shared_ptr<ChunkJob> job, Encode encode) {
        in_flight_.push_back(job);
        window_->push([job = std::move(job), encode] { encode(*job); });
        while (window_->size() >= window_limit_ || window_->front_done()) write_front();
    }

    void write_front() {
        window_->pop_front();
        std::shared_ptr<ChunkJob> job = std::move(in_flight_.front());
        in_flight_.pop_front();
        out_.write(job->encoded);
        chunk_bytes_.push_back(job->encoded.size());
        chunk_points_.push_back(job->points);
        job->encoded = {};
        spare_.push_back(std::move(job));
    }

    util::File& out_;
    std::uint8_t point_format_;
    std::uint16_t record_length_;
    LaszipVlr vlr_;
    bool started_ = false;
    std::uint64_t start_ = 0;
    std::shared_ptr<ChunkJob> pending_;
    std::deque<std::shared_ptr<ChunkJob>> in_flight_;  // the window's chunks, oldest first
    std::vector<std::shared_ptr<ChunkJob>> spare_;
    std::size_t window_limit_ = 1;
    bool fixed_chunk_ended_early_ = false;
    tbb::enumerable_thread_specific<std::unique_ptr<ChunkEncoder>> encoders_;
    std::vector<std::uint64_t> chunk_bytes_;
    std::vector<std::uint64_t> chunk_points_;
    // Last: its jobs use the members above, so it is destroyed (waiting for them) first.
    std::unique_ptr<TaskWindow> window_;
};

}  // namespace

std::unique_ptr<las::RecordWriter> make_laz_record_writer(util::File& out,
                                                          std::uint8_t point_format,
                                                          std::uint16_t record_length,
                                                          std::uint32_t chunk_size,
                                                          unsigned threads) {
    return std::make_unique<LazRecordWriter>(
        out, point_format, record_length,
        LaszipVlr::for_point_format(point_format, record_length, chunk_size), threads);
}

std::unique_ptr<las::RecordWriter> make_laz_record_writer(util::File& out,
                                                          std::uint8_t point_format,
                                                          std::uint16_t record_length,
                                                          const LaszipVlr& vlr, unsigned threads) {
    return std::make_unique<LazRecordWriter>(out, point_format, record_length, vlr, threads);
}

}  // namespace lidarmill::laz
