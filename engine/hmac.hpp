// HMAC-SHA256 request signing with a keyed OpenSSL context that is reused across calls.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace swaprouter {

/// Lowercase hexadecimal text of `bytes`, two characters per byte. Thread-safe (pure function).
std::string to_hex(std::span<const unsigned char> bytes);

/// HMAC-SHA256 (RFC 2104) under one secret key, built on OpenSSL 3 EVP_MAC. The key is absorbed
/// into an OpenSSL context once, at construction; every signature re-initialises that context
/// instead of re-keying or duplicating it, which is the cheapest EVP_MAC path (see
/// bench/hmac_bench.cpp).
///
/// The key is a secret: this class keeps no copy of it outside OpenSSL's context (which OpenSSL
/// cleanses when the context is freed), offers no accessor and no printing, and is move-only so
/// it cannot be copied by value into a log record or an error. A moved-from object may only be
/// destroyed or assigned to; signing with it throws std::logic_error.
///
/// Not thread-safe: signing mutates the context. Use one object per thread (the engine signs on
/// its single io_context thread). Construction and OpenSSL failures, which mean a broken OpenSSL
/// installation, throw std::runtime_error.
class hmac_sha256 {
 public:
  static constexpr std::size_t digest_size = 32;
  using digest = std::array<unsigned char, digest_size>;

  /// Keys the context with `key` (any length, empty included). The caller's copy of the key is
  /// not retained.
  explicit hmac_sha256(std::string_view key);
  ~hmac_sha256() = default;
  hmac_sha256(hmac_sha256&& other) noexcept = default;
  hmac_sha256& operator=(hmac_sha256&& other) noexcept = default;
  hmac_sha256(const hmac_sha256&) = delete;
  hmac_sha256& operator=(const hmac_sha256&) = delete;

  /// The MAC of `data`.
  digest sign(std::string_view data);
  /// The MAC of the concatenation of `pieces`, computed without building the concatenated string:
  /// sign({access_key, path, timestamp, body}).
  digest sign(std::initializer_list<std::string_view> pieces);
  digest sign(std::span<const std::string_view> pieces);

  /// The same MACs as lowercase hex (64 characters).
  std::string sign_hex(std::string_view data);
  std::string sign_hex(std::initializer_list<std::string_view> pieces);
  std::string sign_hex(std::span<const std::string_view> pieces);

 private:
  struct ctx_deleter {
    void operator()(EVP_MAC_CTX* ctx) const noexcept;
  };
  void begin();
  void update(std::string_view piece);
  digest finish();

  std::unique_ptr<EVP_MAC_CTX, ctx_deleter> ctx_;
};

}  // namespace swaprouter
