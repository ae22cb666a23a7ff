#include "util/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace lidarmill::util {

namespace {

void check(int openssl_result, const char* what) {
    if (openssl_result != 1) throw std::runtime_error(std::string("OpenSSL ") + what + " failed");
}

}  // namespace

void Sha256::ContextDeleter::operator()(EVP_MD_CTX* context) const {
    EVP_MD_CTX_free(context);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (!context_) throw std::runtime_error("OpenSSL EVP_MD_CTX_new failed");
    check(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

void Sha256::update(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    check(EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()), "EVP_DigestUpdate");
}

// Finalizes a copy so the running hash stays usable.
std::array<std::uint8_t, 32> Sha256::digest() const {
    std::unique_ptr<EVP_MD_CTX, ContextDeleter> copy(EVP_MD_CTX_new());
    if (!copy) throw std::runtime_error("OpenSSL EVP_MD_CTX_new failed");
    check(EVP_MD_CTX_copy_ex(copy.get(), context_.get()), "EVP_MD_CTX_copy_ex");
    std::array<std::uint8_t, 32> result{};
    unsigned int length = 0;
    check(EVP_DigestFinal_ex(copy.get(), result.data(), &length), "EVP_DigestFinal_ex");
    return result;
}

std::string Sha256::hex_digest() const {
    return to_hex(digest());
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.hex_digest();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (std::uint8_t byte : bytes) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 0x0f];
    }
    return text;
}

}  // namespace lidarmill::util
