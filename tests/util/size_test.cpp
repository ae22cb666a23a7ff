#include "util/size.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "util/error.hpp"

namespace lidarmill::util {
namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = KiB * 1024;
constexpr std::uint64_t GiB = MiB * 1024;

TEST(ParseSize, AcceptsTheDocumentedForms) {
    EXPECT_EQ(parse_size("4G"), 4 * GiB);
    EXPECT_EQ(parse_size("512M"), 512 * MiB);
    EXPECT_EQ(parse_size("1.5G"), 3 * GiB / 2);
    EXPECT_EQ(parse_size("256MB"), 256 * MiB);
    EXPECT_EQ(parse_size("2GiB"), 2 * GiB);
    EXPECT_EQ(parse_size("1024"), 1024u);
    EXPECT_EQ(parse_size("64k"), 64 * KiB);
}

TEST(ParseSize, UnitsAreCaseInsensitiveAndBlanksAreAllowed) {
    EXPECT_EQ(parse_size("2gib"), 2 * GiB);
    EXPECT_EQ(parse_size(" 3 mb "), 3 * MiB);
    EXPECT_EQ(parse_size("100B"), 100u);
    EXPECT_EQ(parse_size("1T"), 1024 * GiB);
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size(".5K"), 512u);
}

TEST(ParseSize, TruncatesFractionalBytes) {
    EXPECT_EQ(parse_size("1.5"), 1u);
    EXPECT_EQ(parse_size("0.3K"), 307u);  // 307.2
}

TEST(ParseSize, AcceptsTheLargestValueAndRejectsOverflow) {
    EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(parse_size("15E"), 15ull << 60);
    EXPECT_THROW(parse_size("18446744073709551616"), UsageError);
    EXPECT_THROW(parse_size("16E"), UsageError);
    EXPECT_THROW(parse_size("99999999999999999999999G"), UsageError);
}

TEST(ParseSize, RejectsMalformedTextWithAOneLineMessage) {
    for (const char* bad :
         {"", "  ", "G", "abc", "-1G", "4X", "4GG", "1.2.3", ".", "4 G B", "1e9", "4KiBs", "+5"}) {
        SCOPED_TRACE(bad);
        try {
            parse_size(bad);
            FAIL() << "accepted";
        } catch (const UsageError& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find("invalid size \"" + std::string(bad) + "\""), std::string::npos)
                << message;
            EXPECT_EQ(message.find('\n'), std::string::npos);
        }
    }
}

TEST(FormatSize, UsesTheLargestUnitNotAboveTheValue) {
    EXPECT_EQ(format_size(0), "0 B");
    EXPECT_EQ(format_size(900), "900 B");
    EXPECT_EQ(format_size(1023), "1023 B");
    EXPECT_EQ(format_size(1024), "1 KiB");
    EXPECT_EQ(format_size(512 * MiB), "512 MiB");
    EXPECT_EQ(format_size(3 * GiB / 2), "1.50 GiB");
    EXPECT_EQ(format_size(1536), "1.50 KiB");
    EXPECT_EQ(format_size(UINT64_MAX), "16.00 EiB");
}

TEST(FormatSize, RoundsUpToTheNextUnitInsteadOfPrinting1024) {
    EXPECT_EQ(format_size(GiB - 1), "1.00 GiB");
    EXPECT_EQ(format_size(MiB + 1), "1.00 MiB");
}

TEST(FormatSize, RoundTripsThroughParseSizeForExactValues) {
    for (std::uint64_t value : {std::uint64_t{900}, 64 * KiB, 512 * MiB, 4 * GiB}) {
        std::string text = format_size(value);
        EXPECT_EQ(parse_size(text), value) << text;
    }
}

}  // namespace
}  // namespace lidarmill::util
