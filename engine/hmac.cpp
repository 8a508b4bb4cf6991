// OpenSSL 3 marks the low-level SHA-256 interface deprecated in favour of EVP, but still ships it.
// EVP_MAC costs about 130 ns more per signature here (allocation and provider dispatch on every
// init/final; bench/BENCHMARKS.md), and a signature precedes every provider request, so HMAC is
// built from the same SHA-256 implementation directly.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "engine/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <stdexcept>

#include "engine/redact.hpp"

namespace swaprouter {

namespace {

constexpr std::size_t block_size = SHA256_CBLOCK;

}  // namespace

// The hash states after absorbing (key ^ ipad) and (key ^ opad): key-equivalent secrets.
struct hmac_sha256::state {
  SHA256_CTX inner;
  SHA256_CTX outer;
  SHA256_CTX work;
};

void hmac_sha256::state_deleter::operator()(state* s) const noexcept {
  OPENSSL_cleanse(s, sizeof(state));
  delete s;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  std::size_t i = 0;
  for (const unsigned char b : bytes) {
    out[i++] = digits[b >> 4];
    out[i++] = digits[b & 0x0f];
  }
  return out;
}

hmac_sha256::hmac_sha256(std::string_view key) : state_(new state) {
  register_secret(key);
  // RFC 2104: a key longer than the block is replaced by its hash, a shorter one zero-padded.
  std::array<unsigned char, block_size> block{};
  if (key.size() > block_size) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block.data());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<unsigned char, block_size> pad{};
  for (std::size_t i = 0; i < block_size; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&state_->inner);
  SHA256_Update(&state_->inner, pad.data(), pad.size());
  for (std::size_t i = 0; i < block_size; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&state_->outer);
  SHA256_Update(&state_->outer, pad.data(), pad.size());
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

hmac_sha256::state& hmac_sha256::checked() {
  if (!state_) throw std::logic_error("hmac_sha256: used after move");
  return *state_;
}

hmac_sha256::digest hmac_sha256::sign(std::span<const std::string_view> pieces) {
  state& s = checked();
  s.work = s.inner;
  for (const std::string_view piece : pieces) SHA256_Update(&s.work, piece.data(), piece.size());
  digest inner_digest{};
  SHA256_Final(inner_digest.data(), &s.work);
  s.work = s.outer;
  SHA256_Update(&s.work, inner_digest.data(), inner_digest.size());
  digest out{};
  SHA256_Final(out.data(), &s.work);
  return out;
}

hmac_sha256::digest hmac_sha256::sign(std::string_view data) {
  return sign(std::span<const std::string_view>(&data, 1));
}

hmac_sha256::digest hmac_sha256::sign(std::initializer_list<std::string_view> pieces) {
  return sign(std::span<const std::string_view>(pieces.begin(), pieces.size()));
}

std::string hmac_sha256::sign_hex(std::string_view data) { return to_hex(sign(data)); }

std::string hmac_sha256::sign_hex(std::span<const std::string_view> pieces) {
  return to_hex(sign(pieces));
}

std::string hmac_sha256::sign_hex(std::initializer_list<std::string_view> pieces) {
  return to_hex(sign(pieces));
}

}  // namespace swaprouter
