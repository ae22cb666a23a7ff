#pragma once
// Appending bytes to every record of a layered LAZ file (compressor 3) without
// recompressing what is already there. BYTE14 codes each byte of a record in a layer of
// its own, and no layer depends on another item's layers except through the per-point
// scanner channel: new bytes become new layers after the existing ones, which are copied
// as they are. `enrich` uses this to write its features at a fraction of the cost of
// encoding whole records again; the output is the file a full re-encoding would write.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "laz/laszip_vlr.hpp"

namespace lidarmill::laz {

// Why bytes cannot be appended to the records of a file with this LASzip VLR and record
// length (not layered, BYTE14 not the last item, records too long), or empty.
std::string why_layers_cannot_be_appended(const LaszipVlr& input, std::uint16_t record_length,
                                          std::uint16_t appended_bytes);

class LayerAppender {
  public:
    // Throws util::InputError("", why) when why_layers_cannot_be_appended() objects.
    LayerAppender(const LaszipVlr& input, std::uint16_t input_record_length,
                  std::uint16_t appended_bytes);

    // The output's VLR: the input's, its BYTE14 item widened (or one added).
    const LaszipVlr& output_vlr() const { return output_vlr_; }
    std::uint16_t output_record_length() const {
        return static_cast<std::uint16_t>(input_record_length_ + appended_bytes_);
    }

    // One output chunk from one input chunk of `points` points. `appended` holds the new
    // bytes of every point (points x appended_bytes); `channels` the scanner channel of
    // every point (0-3), as decoded. Throws util::InputError("", ...) for a damaged chunk.
    // Thread-safe.
    std::vector<std::uint8_t> append(std::span<const std::uint8_t> input_chunk, std::size_t points,
                                     std::span<const std::uint8_t> appended,
                                     std::span<const std::uint8_t> channels) const;

  private:
    LaszipVlr output_vlr_;
    std::size_t input_record_length_;
    std::size_t appended_bytes_;
    std::size_t input_layers_ = 0;
    bool point_v4_ = false;  // POINT14 version 4 hands every point its channel
    bool byte_v4_ = false;
};

}  // namespace lidarmill::laz
