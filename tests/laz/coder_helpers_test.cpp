// The coders that several LAZ items share (GPS time sequences, RGB byte differences, wave
// packet descriptors) on their own: whatever one item's encoder writes, the same helper's
// decoder must read back, including the rare branches (sequence switches, 64-bit jumps,
// grey pixels, raw offsets) that real files seldom reach.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "laz/arithmetic.hpp"
#include "laz/gps_time_coder.hpp"
#include "laz/rgb_coder.hpp"
#include "laz/wave_packet_coder.hpp"

namespace lidarmill::laz {
namespace {

// Two interleaved flight lines far apart, steady and irregular steps, repeats, reversals,
// and jumps too large for 32 bits.
std::vector<std::uint64_t> gps_times(bool with_repeats) {
    std::mt19937 rng(7);
    std::vector<std::uint64_t> times;
    std::uint64_t line_a = 0x41D0000000000000ull;
    std::uint64_t line_b = line_a + (std::uint64_t{1} << 40);
    for (int i = 0; i < 4000; ++i) {
        std::uint64_t& line = (i / 50) % 2 == 0 ? line_a : line_b;
        const std::uint32_t kind = rng() % 10;
        if (kind < 6) {
            line += 1000;
        } else if (kind < 8) {
            line += rng() % 100000;
        } else if (kind == 8) {
            line -= rng() % 5000;
        } else if (!with_repeats) {
            line += 1;
        }
        if (i % 700 == 699) line += std::uint64_t{1} << 36;
        times.push_back(line);
    }
    return times;
}

template <class Codes>
void expect_gps_round_trip(const std::vector<std::uint64_t>& times) {
    detail::GpsTimeCoder<Codes> encoder(true);
    encoder.init(times.front());
    ArithmeticEncoder enc;
    for (std::size_t i = 1; i < times.size(); ++i) encoder.encode(enc, times[i]);
    enc.done();

    detail::GpsTimeCoder<Codes> decoder(false);
    decoder.init(times.front());
    ArithmeticDecoder dec;
    dec.init(enc.bytes());
    for (std::size_t i = 1; i < times.size(); ++i) {
        decoder.decode(dec);
        ASSERT_EQ(decoder.time(), times[i]) << "time " << i;
    }
}

TEST(CoderHelpers, GpsTimesRoundTripUnderTheGpstime11Codes) {
    expect_gps_round_trip<detail::Gpstime11Codes>(gps_times(true));
}

TEST(CoderHelpers, GpsTimesRoundTripUnderThePoint14Codes) {
    // POINT14 codes a time only when it changed.
    expect_gps_round_trip<detail::Point14GpsCodes>(gps_times(false));
}

TEST(CoderHelpers, RgbTriplesRoundTripIncludingGreyOnes) {
    std::mt19937 rng(3);
    std::vector<std::array<std::uint16_t, 3>> colors(5000);
    std::array<std::uint16_t, 3> walk{30000, 20000, 10000};
    for (auto& c : colors) {
        const std::uint32_t kind = rng() % 4;
        if (kind == 0) {
            const auto grey = static_cast<std::uint16_t>(rng());
            walk = {grey, grey, grey};
        } else if (kind == 1) {
            for (auto& v : walk) v = static_cast<std::uint16_t>(rng());
        } else if (kind == 2) {
            for (auto& v : walk) v = static_cast<std::uint16_t>(v + rng() % 7 - 3);
        }
        c = walk;
    }

    detail::RgbModels enc_models(true);
    enc_models.init();
    ArithmeticEncoder enc;
    std::array<std::uint16_t, 3> last{};
    for (const auto& c : colors) {
        detail::encode_rgb(enc, enc_models, last.data(), c.data());
        last = c;
    }
    enc.done();

    detail::RgbModels dec_models(false);
    dec_models.init();
    ArithmeticDecoder dec;
    dec.init(enc.bytes());
    last = {};
    for (std::size_t i = 0; i < colors.size(); ++i) {
        std::array<std::uint16_t, 3> out{};
        detail::decode_rgb(dec, dec_models, last.data(), out.data());
        ASSERT_EQ(out, colors[i]) << "colour " << i;
        last = out;
    }
}

template <detail::NextPacketTest kTest>
void expect_wave_packet_round_trip() {
    std::mt19937 rng(5);
    std::vector<std::array<std::uint8_t, 29>> items(3000);
    detail::WavePacket packet{1000, 256, 0, 0, 0, 0};
    for (std::size_t i = 0; i < items.size(); ++i) {
        switch (rng() % 4) {
            case 0:  // the next packet
                packet.offset += packet.packet_size;
                break;
            case 1:  // a 32-bit jump
                packet.offset += rng() % 100000;
                break;
            case 2:  // beyond 32 bits
                packet.offset += std::uint64_t{rng()} << 20;
                break;
            default:  // the same waveform
                break;
        }
        packet.packet_size = 128 + rng() % 512;
        packet.return_point = static_cast<std::int32_t>(rng());
        packet.x = static_cast<std::int32_t>(rng() % 1000);
        packet.y = -packet.x;
        packet.z = static_cast<std::int32_t>(rng());
        items[i][0] = static_cast<std::uint8_t>(rng() % 3);
        packet.store(items[i].data());
    }

    detail::WavePacketModels enc_models(true);
    enc_models.init();
    ArithmeticEncoder enc;
    detail::WavePacket last;
    for (const auto& item : items)
        last = detail::encode_wave_packet<kTest>(enc, enc_models, last, item.data());
    enc.done();

    detail::WavePacketModels dec_models(false);
    dec_models.init();
    ArithmeticDecoder dec;
    dec.init(enc.bytes());
    last = {};
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::array<std::uint8_t, 29> out{};
        last = detail::decode_wave_packet(dec, dec_models, last, out.data());
        ASSERT_EQ(out, items[i]) << "packet " << i;
    }
}

TEST(CoderHelpers, WavePacketsRoundTripUnderBothNextPacketTests) {
    expect_wave_packet_round_trip<detail::NextPacketTest::signed_size>();
    expect_wave_packet_round_trip<detail::NextPacketTest::offsets>();
}

}  // namespace
}  // namespace lidarmill::laz
