// Every quirky or broken uncompressed file of ../shared/data/odd has a defined outcome:
// read with a warning, or a one-line error naming the file and the problem.
#include <gtest/gtest.h>

#include "common/shared_data.hpp"
#include "las/reader.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace lidarmill::las {
namespace {

using lidarmill::testing::shared_data_dir;

struct Outcome {
    const char* file;
    const char* error;    // substring of the one-line error, or nullptr when readable
    std::int64_t points;  // records delivered when readable
    const char* warning;  // substring of a warning, or nullptr for none expected
};

// The LAZ files of odd/ have outcomes that involve the LAZ layer; see tests/laz.
const Outcome kOutcomes[] = {
    {"odd/1.2-with-color-clipped.las", nullptr, 1064,
     "header says 1065 points but the file holds only 1064"},
    {"odd/1.2-no-points.las", nullptr, 0, "header says 1065 points but the file holds only 0"},
    {"odd/bad_vlr_count.las", nullptr, 10, "VLRs"},
    {"odd/garbage_nVariableLength.las", nullptr, 718, "header says 719 points"},
    {"odd/unregistered_extra_bytes.las", nullptr, 4, "not declared by an extra-bytes VLR"},
    {"odd/1.2-empty-geotiff-vlrs.las", nullptr, 43, nullptr},
    {"odd/gps-time-nan.las", nullptr, 1, nullptr},
    {"odd/spurious.las", nullptr, 1065, nullptr},
    {"odd/bad-ellipsoid.copc.laz", "offset to point data 113098735 lies beyond the end of the file",
     -1, nullptr},
    {"odd/lone-star-invalid-tile-2-2-2-2.laz", "unsupported LAS version 126.203", -1, nullptr},
    {"odd/Semis_2022_0906_6665_LA93_IGN69_nok.laz", "header size 0", -1, nullptr},
};

bool contains_warning(const FileMetadata& m, const char* text) {
    for (const auto& w : m.warnings) {
        if (w.find(text) != std::string::npos) return true;
    }
    return false;
}

TEST(OddFiles, EachHasItsDefinedOutcome) {
    LIDARMILL_REQUIRE_SHARED_DATA();
    const auto expected = lidarmill::testing::expected_records();
    for (const auto& o : kOutcomes) {
        SCOPED_TRACE(o.file);
        const auto path = shared_data_dir() / o.file;
        if (o.error) {
            try {
                Reader reader(path);
                ADD_FAILURE() << "expected an error containing '" << o.error << "'";
            } catch (const util::InputError& e) {
                const std::string message = e.what();
                EXPECT_NE(message.find(o.error), std::string::npos) << message;
                EXPECT_EQ(message.rfind(path.string(), 0), 0u)
                    << "error must name the file: " << message;
                EXPECT_EQ(message.find('\n'), std::string::npos) << "error must be one line";
            }
            continue;
        }
        Reader reader(path);
        util::Sha256 sha;
        std::vector<std::uint8_t> buffer(1024 * reader.record_length());
        std::int64_t points = 0;
        while (const std::size_t n = reader.read(buffer)) {
            sha.update(std::span(buffer).first(n * reader.record_length()));
            points += static_cast<std::int64_t>(n);
        }
        EXPECT_EQ(points, o.points);
        EXPECT_EQ(sha.hex_digest(), expected.at(o.file).sha256);
        if (o.warning) {
            EXPECT_TRUE(contains_warning(reader.metadata(), o.warning))
                << "warnings: "
                << (reader.metadata().warnings.empty() ? "none" : reader.metadata().warnings[0]);
        }
    }
}

}  // namespace
}  // namespace lidarmill::las
