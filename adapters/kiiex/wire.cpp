#include "adapters/kiiex/wire.hpp"

#include <charconv>

#include "engine/hmac.hpp"

namespace swaprouter::kiiex::wire {
namespace {

// Lower-case letters and digits only: "Fully Executed", "fully_executed" and "FullyExecuted" are
// the same name.
std::string normalise(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}

template <std::size_t N>
std::optional<std::size_t> parse_enum(std::string_view text, bool is_number,
                                      const std::array<std::string_view, N>& names) {
  if (is_number) {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value >= N) return std::nullopt;
    return value;
  }
  const std::string wanted = normalise(text);
  for (std::size_t i = 0; i < N; ++i) {
    if (normalise(names[i]) == wanted) return i;
  }
  return std::nullopt;
}

}  // namespace

std::string login_signature(hmac_sha256& keyed_secret, std::string_view nonce,
                            std::string_view user_id, std::string_view api_key) {
  return keyed_secret.sign_hex({nonce, user_id, api_key});
}

std::int64_t client_order_id(std::string_view id) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  const auto value = static_cast<std::int64_t>(hash & 0x7fffffffffffffffull);
  return value == 0 ? 1 : value;
}

std::optional<order_state> parse_order_state(std::string_view text, bool is_number) {
  auto index = parse_enum(text, is_number, order_state_names);
  if (!index) return std::nullopt;
  return static_cast<order_state>(*index);
}

std::optional<side> parse_side(std::string_view text, bool is_number) {
  auto index = parse_enum(text, is_number, side_names);
  if (!index) return std::nullopt;
  return static_cast<side>(*index);
}

std::optional<order_type> parse_order_type(std::string_view text, bool is_number) {
  auto index = parse_enum(text, is_number, order_type_names);
  if (!index) return std::nullopt;
  return static_cast<order_type>(*index);
}

}  // namespace swaprouter::kiiex::wire
