#include "config/secret.hpp"

#include <openssl/crypto.h>

#include <ostream>
#include <utility>

namespace swaprouter::config {

secret::secret(secret&& other) noexcept : text_(std::move(other.text_)) { other.cleanse(); }

secret& secret::operator=(const secret& other) {
  if (this != &other) {
    cleanse();
    text_ = other.text_;
  }
  return *this;
}

secret& secret::operator=(secret&& other) noexcept {
  if (this != &other) {
    cleanse();
    text_ = std::move(other.text_);
    other.cleanse();
  }
  return *this;
}

secret::~secret() { cleanse(); }

// Wipes the whole buffer, not only the current size: a moved-from or shortened std::string keeps
// the old bytes in its capacity (the short-string buffer in particular). Growing to the capacity
// never allocates.
void secret::cleanse() noexcept {
  text_.resize(text_.capacity());
  OPENSSL_cleanse(text_.data(), text_.size());
  text_.clear();
}

void PrintTo(const secret& value, std::ostream* os) {
  *os << (value.empty() ? "secret(empty)" : "secret(redacted)");
}

}  // namespace swaprouter::config
