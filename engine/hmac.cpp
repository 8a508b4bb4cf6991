#include "engine/hmac.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <stdexcept>

namespace swaprouter {

namespace {

const unsigned char* bytes_of(std::string_view text) noexcept {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

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

void hmac_sha256::ctx_deleter::operator()(EVP_MAC_CTX* ctx) const noexcept {
  // EVP_MAC_CTX_free cleanses the key material OpenSSL holds for HMAC.
  EVP_MAC_CTX_free(ctx);
}

hmac_sha256::hmac_sha256(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw std::runtime_error("hmac_sha256: OpenSSL has no HMAC");
  ctx_.reset(EVP_MAC_CTX_new(mac));
  // The context holds its own reference to the algorithm.
  EVP_MAC_free(mac);
  if (!ctx_) throw std::runtime_error("hmac_sha256: EVP_MAC_CTX_new failed");

  // OSSL_PARAM wants a mutable buffer even though it only reads the name.
  std::string digest_name = "SHA256";
  const std::array<OSSL_PARAM, 2> params{
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name.data(), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to EVP_MAC_init, so an empty key must still
  // come with a valid pointer.
  static constexpr unsigned char empty_key = 0;
  const unsigned char* key_bytes = key.empty() ? &empty_key : bytes_of(key);
  if (EVP_MAC_init(ctx_.get(), key_bytes, key.size(), params.data()) != 1) {
    throw std::runtime_error("hmac_sha256: EVP_MAC_init failed");
  }
}

void hmac_sha256::begin() {
  if (!ctx_) throw std::logic_error("hmac_sha256: used after move");
  // Without a key, EVP_MAC_init restarts from the precomputed keyed state: no re-keying and no
  // context allocation, measurably cheaper than EVP_MAC_CTX_dup per call.
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1) {
    throw std::runtime_error("hmac_sha256: EVP_MAC_init failed");
  }
}

void hmac_sha256::update(std::string_view piece) {
  if (piece.empty()) return;
  if (EVP_MAC_update(ctx_.get(), bytes_of(piece), piece.size()) != 1) {
    throw std::runtime_error("hmac_sha256: EVP_MAC_update failed");
  }
}

hmac_sha256::digest hmac_sha256::finish() {
  digest out{};
  std::size_t written = 0;
  if (EVP_MAC_final(ctx_.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
    throw std::runtime_error("hmac_sha256: EVP_MAC_final failed");
  }
  return out;
}

hmac_sha256::digest hmac_sha256::sign(std::string_view data) {
  begin();
  update(data);
  return finish();
}

hmac_sha256::digest hmac_sha256::sign(std::span<const std::string_view> pieces) {
  begin();
  for (const std::string_view piece : pieces) update(piece);
  return finish();
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
