#pragma once
// SHA-256 over OpenSSL, used to compare decoded point records with reference digests.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace lidarmill::util {

// Incremental SHA-256. Throws std::runtime_error if OpenSSL fails (out of memory).
class Sha256 {
  public:
    Sha256();
    void update(std::span<const std::uint8_t> bytes);
    // Digest of everything passed to update() so far. Does not end the hash: more update()
    // calls may follow, and a later digest covers all bytes.
    std::array<std::uint8_t, 32> digest() const;
    // digest() as 64 lowercase hex digits.
    std::string hex_digest() const;

  private:
    struct ContextDeleter {
        void operator()(EVP_MD_CTX* context) const;
    };
    std::unique_ptr<EVP_MD_CTX, ContextDeleter> context_;
};

// One-shot SHA-256 of a buffer, as 64 lowercase hex digits.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

// Lowercase hex text of a byte buffer.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace lidarmill::util
