// Credential text (API keys, HMAC secrets) that can be handed to a signer but never printed.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace swaprouter::config {

/// Holds the text of a credential. It has no printing path: no operator<< (deleted), no fmt
/// formatter, no conversion to a string; describe functions show where a credential came from,
/// never its value. The only way to the text is reveal(), which adapters call to key an HMAC or
/// set an API-key header. The buffer is cleansed when the value is destroyed, moved from or
/// overwritten. A value type; not thread-safe for concurrent mutation.
class secret {
 public:
  secret() = default;
  explicit secret(std::string text) : text_(std::move(text)) {}
  secret(const secret& other) = default;
  secret(secret&& other) noexcept;
  secret& operator=(const secret& other);
  secret& operator=(secret&& other) noexcept;
  ~secret();

  /// The credential text, for keying a signer or building an auth header; never for output.
  std::string_view reveal() const noexcept { return text_; }
  bool empty() const noexcept { return text_.empty(); }
  std::size_t size() const noexcept { return text_.size(); }

  friend std::ostream& operator<<(std::ostream&, const secret&) = delete;
  /// GoogleTest's printer for a failed assertion: without it gtest dumps the object's bytes,
  /// which would show a short secret stored in place.
  friend void PrintTo(const secret&, std::ostream* os);

 private:
  void cleanse() noexcept;

  std::string text_;
};

}  // namespace swaprouter::config
