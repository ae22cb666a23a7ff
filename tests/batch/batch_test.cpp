// `lidarmill enrich` over directory trees, through the binary: mirroring, metadata copy,
// failure isolation (exit code 3), skipping, --force, --dry-run, the report, and recovery
// after a run killed with SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "batch/discover.hpp"
#include "batch/planner.hpp"
#include "cli/cli_support.hpp"
#include "common/shared_data.hpp"
#include "common/temp_dir.hpp"
#include "io/discover.hpp"
#include "util/error.hpp"
#include "util/scratch_dir.hpp"

namespace lidarmill::batch {
namespace {

namespace fs = std::filesystem;
using lidarmill::testing::run_lidarmill;
using lidarmill::testing::shared_data_dir;
using lidarmill::testing::shell_quote;

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// Hidden entries (temporaries, scratch folders) anywhere under `folder`.
std::vector<fs::path> leftovers(const fs::path& folder) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
        if (entry.path().filename().string().starts_with(".")) found.push_back(entry.path());
    }
    return found;
}

class BatchTest : public testing::TempDirTest {
  protected:
    // in/stats.json, in/readme.txt, in/a/tile1.laz (+ tile1.json), in/a/b/tile2.laz,
    // in/tile3.copc.laz.
    fs::path make_tree() {
        const fs::path in = dir_ / "in";
        fs::create_directories(in / "a" / "b");
        fs::copy_file(shared_data_dir() / "ign/crop_duplicate.laz", in / "a" / "tile1.laz");
        write_text(in / "a" / "tile1.json", R"({"tile": 1})");
        fs::copy_file(shared_data_dir() / "ign/test_data_77055_627755_LA93_IGN69.laz",
                      in / "a" / "b" / "tile2.laz");
        fs::copy_file(shared_data_dir() / "copc/autzen_clip_native.copc.laz",
                      in / "tile3.copc.laz");
        write_text(in / "stats.json", R"({"tiles": 3})");
        write_text(in / "readme.txt", "sample tree\n");
        return in;
    }

    std::string enrich_args(const fs::path& in, const fs::path& out,
                            const std::string& extra = "") {
        return "enrich --input " + shell_quote(in.string()) + " --output " +
               shell_quote(out.string()) + " --progress none --threads 2 " + extra;
    }
};

TEST_F(BatchTest, MirrorsTheTreeAndCopiesMetadata) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path in = make_tree(), out = dir_ / "out";
    const auto r = run_lidarmill(enrich_args(in, out, "--mode building"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* name : {"a/tile1.laz", "a/tile1.json", "a/b/tile2.laz", "tile3.laz",
                             "stats.json", "readme.txt", "enrich-report.json"}) {
        EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
    }
    EXPECT_EQ(file_bytes(out / "stats.json"), file_bytes(in / "stats.json"));
    EXPECT_EQ(file_bytes(out / "a" / "tile1.json"), file_bytes(in / "a" / "tile1.json"));
    EXPECT_TRUE(leftovers(out).empty());

    const auto report = nlohmann::json::parse(std::ifstream(out / "enrich-report.json"));
    EXPECT_EQ(report["enriched"], 3);
    EXPECT_EQ(report["failed"], 0);
    ASSERT_EQ(report["files"].size(), 3u);
    // Smallest file first.
    EXPECT_NE(report["files"][0]["input"].get<std::string>().find("tile3"), std::string::npos);
    for (const auto& f : report["files"]) {
        EXPECT_EQ(f["status"], "enriched");
        EXPECT_GT(f["points"].get<std::uint64_t>(), 0u);
        EXPECT_GT(f["peak_memory_bytes"].get<std::uint64_t>(), 0u);
        EXPECT_GE(f["chunks"].get<int>(), 1);
        EXPECT_TRUE(f["features"].contains("wall_score"));
    }
    const auto info = lidarmill::testing::info_json(out / "a" / "b" / "tile2.laz");
    EXPECT_EQ(info.dump().find("exit_code"), std::string::npos) << info.dump();

    // Second run: complete outputs are skipped; --force redoes them, byte-identically.
    const auto again = run_lidarmill(enrich_args(in, out, "--mode building"));
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto second = nlohmann::json::parse(std::ifstream(out / "enrich-report.json"));
    EXPECT_EQ(second["skipped"], 3);
    const auto before = file_bytes(out / "a" / "b" / "tile2.laz");
    const auto forced = run_lidarmill(enrich_args(in, out, "--mode building --force"));
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_EQ(nlohmann::json::parse(std::ifstream(out / "enrich-report.json"))["enriched"], 3);
    EXPECT_EQ(before, file_bytes(out / "a" / "b" / "tile2.laz"));
}

TEST_F(BatchTest, ACorruptTileFailsAloneWithExitCode3) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path in = make_tree(), out = dir_ / "out";
    fs::copy_file(shared_data_dir() / "odd/broken_coder.laz", in / "a" / "broken.laz");
    // A truncated copy of a good tile: its header is fine, its point data is not.
    {
        const auto bytes =
            file_bytes(shared_data_dir() / "ign/test_data_77055_627755_LA93_IGN69.laz");
        std::ofstream cut(in / "cut.laz", std::ios::binary);
        cut.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size() / 2));
    }
    const auto r = run_lidarmill(enrich_args(in, out, "--num-workers 2"));
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("broken.laz"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_regular_file(out / "a" / "tile1.laz"));
    EXPECT_TRUE(fs::is_regular_file(out / "a" / "b" / "tile2.laz"));
    EXPECT_TRUE(fs::is_regular_file(out / "tile3.laz"));
    EXPECT_FALSE(fs::exists(out / "a" / "broken.laz"));
    EXPECT_FALSE(fs::exists(out / "cut.laz"));
    EXPECT_TRUE(leftovers(out).empty());
    const auto report = nlohmann::json::parse(std::ifstream(out / "enrich-report.json"));
    EXPECT_EQ(report["enriched"], 3);
    EXPECT_EQ(report["failed"], 2);
    for (const auto& f : report["files"]) {
        if (f["status"] == "failed") {
            EXPECT_FALSE(f["reason"].get<std::string>().empty());
        }
    }
}

TEST_F(BatchTest, DryRunPrintsThePlanAndWritesNothing) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path in = make_tree(), out = dir_ / "out";
    const auto r = run_lidarmill(enrich_args(in, out, "--dry-run --memory-budget 512M"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("memory budget 512 MiB"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("workers:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("tile2.laz"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(BatchTest, BadOptionsAreUsageErrors) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path in = make_tree();
    EXPECT_EQ(run_lidarmill(enrich_args(in, dir_ / "o", "--memory-budget lots")).exit_code, 1);
    EXPECT_EQ(run_lidarmill(enrich_args(in, dir_ / "o", "--features planarity,bogus")).exit_code,
              1);
    EXPECT_EQ(run_lidarmill(enrich_args(dir_ / "missing", dir_ / "o")).exit_code, 1);
    EXPECT_EQ(run_lidarmill(enrich_args(dir_ / "empty_dir_absent", dir_ / "o")).exit_code, 1);
}

TEST_F(BatchTest, AKilledRunLeavesNothingThatSpoilsTheNextOne) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const fs::path in = dir_ / "in", out = dir_ / "out", reference = dir_ / "reference";
    fs::create_directories(in);
    fs::copy_file(shared_data_dir() / "ign/test_semis_2023_0292_6833_LA93_IGN69.laz",
                  in / "big.laz");
    fs::copy_file(shared_data_dir() / "ign/Semis_2022_0906_6665_LA93_IGN69_ok.laz",
                  in / "small.laz");
    // Out of core so that the scratch folder holds buckets when the kill lands.
    const std::string options = "--memory-budget 64M --num-workers 1 --mode building";
    ASSERT_EQ(run_lidarmill(enrich_args(in, reference, options)).exit_code, 0);

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::execl(LIDARMILL_BINARY, LIDARMILL_BINARY, "-q", "enrich", "--input", in.c_str(),
                "--output", out.c_str(), "--progress", "none", "--threads", "2", "--memory-budget",
                "64M", "--num-workers", "1", "--mode", "building", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Kill it once it has scratch files on disk.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool started = false;
    while (!started && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (fs::exists(out)) {
            for (const auto& e : fs::recursive_directory_iterator(out)) {
                // Bucket files live in scratch folders only.
                started |= e.path().extension() == ".bin";
            }
        }
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(started) << "the run finished or never began writing before the kill";
    EXPECT_FALSE(fs::exists(out / "big.laz"));  // never a half-written output

    const auto r = run_lidarmill(enrich_args(in, out, options));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(leftovers(out).empty());
    for (const char* name : {"big.laz", "small.laz"}) {
        EXPECT_EQ(file_bytes(out / name), file_bytes(reference / name)) << name;
    }
    const auto report = nlohmann::json::parse(std::ifstream(out / "enrich-report.json"));
    EXPECT_GE(report["stale_temporaries_removed"].get<int>(), 1);
}

TEST(BatchDiscovery, OutputNamesDropCopcAndFollowTheFormat) {
    EXPECT_EQ(output_relative_path("a/b/t.copc.laz", OutputFormat::laz), fs::path("a/b/t.laz"));
    EXPECT_EQ(output_relative_path("t.LAS", OutputFormat::laz), fs::path("t.laz"));
    EXPECT_EQ(output_relative_path("x/t.laz", OutputFormat::las), fs::path("x/t.las"));
    EXPECT_TRUE(io::is_point_file("A.LAZ"));
    EXPECT_FALSE(io::is_point_file("a.json"));
    EXPECT_THROW(parse_output_format("copc"), util::UsageError);
}

TEST(BatchDiscovery, StaleNamesAreThoseOfDeadProcesses) {
    const std::string mine = std::to_string(::getpid());
    EXPECT_FALSE(
        util::is_stale_scratch_name(std::string(util::kScratchPrefix) + mine + "-0-1-run"));
    EXPECT_TRUE(
        util::is_stale_scratch_name(std::string(util::kScratchPrefix) + "999999999-0-1-run"));
    EXPECT_TRUE(util::is_stale_scratch_name(".tile.laz.tmp-999999999-3"));
    EXPECT_FALSE(util::is_stale_scratch_name(".tile.laz.tmp-" + mine + "-3"));
    EXPECT_FALSE(util::is_stale_scratch_name("tile.laz"));
    EXPECT_FALSE(util::is_stale_scratch_name(".hidden"));
}

TEST(BatchPlanner, WorkersTimesBudgetStaysWithinTheBudget) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    std::vector<Job> jobs;
    for (const char* name : {"ign/test_semis_2023_0292_6833_LA93_IGN69.laz",
                             "ign/crop_duplicate.laz", "odd/broken_coder.laz"}) {
        Job job;
        job.input = shared_data_dir() / name;
        job.relative = fs::path(name).filename();
        job.file_size = fs::file_size(job.input);
        jobs.push_back(job);
    }
    enrich::EnrichOptions enrich;
    PlanOptions options;
    options.memory_budget = std::uint64_t{300} << 20;
    options.workers = 8;
    options.threads = 2;
    const auto plan = plan_batch(jobs, enrich, options);
    EXPECT_GE(plan.workers, 1u);
    EXPECT_LE(plan.workers * plan.worker_budget, *options.memory_budget);
    ASSERT_EQ(plan.files.size(), 3u);
    EXPECT_EQ(plan.files[0].job, 2u);  // smallest first
    for (const auto& f : plan.files) {
        if (f.readable) {
            EXPECT_LE(f.tile.estimated_peak_bytes, plan.worker_budget) << f.job;
        }
    }
    EXPECT_FALSE(plan.decisions.empty());
}

}  // namespace
}  // namespace lidarmill::batch
