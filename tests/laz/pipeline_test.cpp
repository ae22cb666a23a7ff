// The parallel chunk pipeline: TaskWindow ordering, errors and progress without workers,
// and reader/writer results that do not depend on the thread count.
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "laz/laz_reader.hpp"
#include "laz/laz_test_support.hpp"
#include "laz/laz_writer.hpp"
#include "laz/task_window.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

namespace lidarmill::laz {
namespace {

using namespace lidarmill::laz::testing;

// Pushes `jobs` jobs through a window of at most `limit`, consuming in order; returns
// the consumption order and checks every job ran exactly once.
std::vector<int> run_jobs(unsigned threads, int jobs, std::size_t limit) {
    std::vector<std::atomic<int>> runs(static_cast<std::size_t>(jobs));
    std::vector<int> values(static_cast<std::size_t>(jobs), -1);
    std::vector<int> consumed;
    TaskWindow window(threads);
    int next_pop = 0;
    const auto pop = [&] {
        window.pop_front();
        consumed.push_back(values[static_cast<std::size_t>(next_pop++)]);
    };
    for (int i = 0; i < jobs; ++i) {
        window.push([&, i] {
            // Uneven job lengths so that workers finish out of order.
            volatile unsigned spin = 0;
            for (int k = 0; k < (i % 3) * 20000; ++k) spin = spin + 1;
            values[static_cast<std::size_t>(i)] = i;
            ++runs[static_cast<std::size_t>(i)];
        });
        while (window.size() >= limit) pop();
    }
    while (!window.empty()) pop();
    for (int i = 0; i < jobs; ++i) EXPECT_EQ(runs[static_cast<std::size_t>(i)].load(), 1) << i;
    return consumed;
}

std::vector<int> iota(int n) {
    std::vector<int> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
    return v;
}

TEST(TaskWindow, ConsumesInSubmissionOrder) {
    EXPECT_EQ(run_jobs(1, 50, 1), iota(50));
    EXPECT_EQ(run_jobs(2, 200, 4), iota(200));
    EXPECT_EQ(run_jobs(4, 200, 8), iota(200));
}

TEST(TaskWindow, ProgressesWithoutAnyTbbWorker) {
    // No worker may join: the consuming thread must run every job itself.
    tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    EXPECT_EQ(run_jobs(4, 40, 8), iota(40));
}

TEST(TaskWindow, RethrowsTheFailingJobsErrorInOrder) {
    for (unsigned threads : {1u, 2u}) {
        TaskWindow window(threads);
        window.push([] {});
        window.push([] { throw std::runtime_error("job 1 failed"); });
        window.push([] {});
        EXPECT_NO_THROW(window.pop_front()) << threads;
        try {
            window.pop_front();
            ADD_FAILURE() << "job 1 should have thrown, threads " << threads;
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "job 1 failed");
        }
        EXPECT_NO_THROW(window.pop_front()) << threads;
        EXPECT_TRUE(window.empty());
    }
}

TEST(TaskWindow, DestroyedWithJobsInFlight) {
    std::atomic<int> ran{0};
    {
        TaskWindow window(2);
        for (int i = 0; i < 16; ++i) window.push([&] { ++ran; });
    }
    // Unstarted jobs may be skipped, started ones finished: never more than pushed.
    EXPECT_LE(ran.load(), 16);
}

// Writes `records` as LAZ point data (after an 8-byte prefix) with `threads` encoder
// threads, feeding the writer in uneven pieces; returns the file bytes.
std::vector<std::uint8_t> encode_with(const std::filesystem::path& path,
                                      const std::vector<std::uint8_t>& records, const LasInfo& las,
                                      unsigned threads) {
    {
        util::File out(path, util::File::Mode::write);
        out.write(std::vector<std::uint8_t>(8, 0));
        auto writer = make_laz_record_writer(out, las.point_format, las.record_length,
                                             kDefaultChunkSize, threads);
        std::size_t at = 0;
        for (std::size_t piece = 1; at < records.size(); piece = piece * 3 + 7) {
            const std::size_t take =
                std::min(records.size() - at, (piece % 70001 + 1) * las.record_length);
            writer->write(std::span(records).subspan(at, take));
            at += take;
        }
        writer->finish();
    }
    return read_file(path);
}

TEST(LazPipeline, WriterBytesDoNotDependOnThreads) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // 110000 points: 3 chunks, the last one partial; pf3 through the pointwise codec.
    const auto las_bytes = read_file(shared_data() / "legacy/autzen_trim.las");
    const LasInfo las = parse_las(las_bytes);
    const auto records = las_records(las_bytes, las);
    // A longer input than the window so that chunks are written while others encode.
    std::vector<std::uint8_t> repeated;
    for (int i = 0; i < 6; ++i) repeated.insert(repeated.end(), records.begin(), records.end());
    const auto path = std::filesystem::temp_directory_path() /
                      ("lidarmill_pipeline_" + std::to_string(::getpid()) + ".laz");
    const auto single = encode_with(path, repeated, las, 1);
    for (unsigned threads : {2u, 3u, 8u}) {
        EXPECT_EQ(encode_with(path, repeated, las, threads), single) << threads << " threads";
    }
    std::filesystem::remove(path);
}

TEST(LazPipeline, ReaderRecordsDoNotDependOnThreads) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    // 518862 points in 11 chunks: more chunks than the window holds.
    const auto path = shared_data() / "legacy/lone-star.laz";
    const LasInfo info = parse_las(read_file(path));
    for (unsigned threads : {1u, 2u, 5u}) {
        auto file = std::make_shared<util::File>(path, util::File::Mode::read);
        auto reader = make_laz_record_reader(file, point_data_of(info, path.string()), threads);
        std::vector<std::uint8_t> records(info.point_count * info.record_length);
        // Odd read sizes: reads straddle chunk boundaries.
        const std::size_t piece = 33333 * info.record_length;
        std::size_t got = 0;
        while (got < records.size()) {
            const std::size_t n = reader->read(
                std::span(records).subspan(got, std::min(piece, records.size() - got)));
            if (n == 0) break;
            got += n * info.record_length;
        }
        EXPECT_EQ(got, records.size()) << threads;
        EXPECT_EQ(util::sha256_hex(records),
                  "29178e5d5621e60aa11b25c399e17d27e4163cb95bda4eedef8633a5cbb0d02f")
            << threads << " threads";
        // A reader dropped mid-file (chunks still in flight) must close cleanly.
        auto early = make_laz_record_reader(file, point_data_of(info, path.string()), threads);
        std::vector<std::uint8_t> some(1000 * info.record_length);
        EXPECT_EQ(early->read(some), 1000u);
    }
}

}  // namespace
}  // namespace lidarmill::laz
