#include "enrich/feeds.hpp"

#include <cstring>

#include "util/bytes.hpp"

namespace lidarmill::enrich {

void InMemoryFeed::next(std::size_t count, std::vector<std::uint8_t>& features,
                        std::vector<std::uint8_t>& channels) {
    const std::uint8_t* f = features_.get() + position_ * feature_bytes_;
    features.insert(features.end(), f, f + count * feature_bytes_);
    if (!channels_.empty()) {
        const auto c = std::span(channels_).subspan(position_, count);
        channels.insert(channels.end(), c.begin(), c.end());
    }
    position_ += count;
}

MergeFeed::MergeFeed(std::unique_ptr<util::ScratchDir> scratch, std::size_t chunks,
                     std::size_t buffer_bytes, std::size_t feature_bytes)
    : scratch_(std::move(scratch)),
      sequence_(bucket_file_name(scratch_->path(), "sequence", 0), 1 << 20),
      feature_bytes_(feature_bytes) {
    for (std::size_t c = 0; c < chunks; ++c) {
        streams_.push_back(std::make_unique<SequentialReader>(
            bucket_file_name(scratch_->path(), "out", c), buffer_bytes));
    }
}

void MergeFeed::next(std::size_t count, std::vector<std::uint8_t>& features,
                     std::vector<std::uint8_t>& channels) {
    const std::size_t first_feature = features.size(), first_channel = channels.size();
    features.resize(first_feature + count * feature_bytes_);
    channels.resize(first_channel + count);
    std::uint8_t* feature_out = features.data() + first_feature;
    std::uint8_t* channel_out = channels.data() + first_channel;
    for (std::size_t i = 0; i < count; ++i) {
        const auto entry = util::load_le<std::uint32_t>(sequence_.next(4));
        const std::uint8_t* bytes = streams_[entry & kChunkMask]->next(feature_bytes_);
        std::memcpy(feature_out + i * feature_bytes_, bytes, feature_bytes_);
        channel_out[i] = static_cast<std::uint8_t>(entry >> kChannelShift);
    }
}

}  // namespace lidarmill::enrich
