// HMAC-SHA256 request signing with a keyed OpenSSL context that is reused across calls.
#pragma once


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

/// HMAC-SHA256 (RFC 2104) under one secret key. The key is absorbed once, at construction, into
/// the two SHA-256 states after the inner and outer pads; every signature starts from copies of
/// those states, so a signature costs the hashing of the data and nothing else (see
/// bench/hmac_bench.cpp and bench/BENCHMARKS.md).
///
/// The key is a secret: this class keeps no copy of it, only the padded-key hash states, which it
/// cleanses on destruction; it offers no accessor and no printing, and is move-only so it cannot
/// be copied by value into a log record or an error. A moved-from object may only be destroyed or
/// assigned to; signing with it throws std::logic_error.
///
/// Not thread-safe: signing mutates the working state. Use one object per thread (the engine
/// signs on its single io_context thread).
class hmac_sha256 {
 public:
  static constexpr std::size_t digest_size = 32;
  using digest = std::array<unsigned char, digest_size>;

  /// Keys the signer with `key` (any length, empty included). The caller's copy of the key is
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
  struct state;
  struct state_deleter {
    void operator()(state* s) const noexcept;
  };
  state& checked();
  std::unique_ptr<state, state_deleter> state_;
};

}  // namespace swaprouter
