// Text parsing that every emulator's request reading shares.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace swaprouter::sim {

/// The whole of `text` as a base-10 integer; nullopt when it is empty, has anything besides the
/// number, or is out of range. Pure.
inline std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace swaprouter::sim
