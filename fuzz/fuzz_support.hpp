// What every fuzz target shares: the input split into a selector byte and a body, and the checks
// whose failure is a finding (abort, so libFuzzer and the replay tests both report it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/result.hpp"

namespace swaprouter::fuzz {

/// The first byte picks an entry point ('a' the first, 'b' the second, ... wrapping around), the
/// rest is the body. Corpus files are readable: "a{...}" feeds `{...}` to the first parser.
struct input {
  unsigned which = 0;
  std::string_view body;
};

inline input split(const std::uint8_t* data, std::size_t size, unsigned entry_points) {
  if (size == 0) return {};
  const auto first = static_cast<unsigned>(static_cast<std::uint8_t>(data[0] - 'a'));
  return {first % entry_points,
          std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

/// Provider text reaches error messages only through excerpt(): printable ASCII and bounded, so
/// any message is safe in a log line (FAULTS.md security rule 7).
inline bool printable_and_bounded(std::string_view text, std::size_t limit = 1024) {
  if (text.size() > limit) return false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

template <class T>
void check_error(const result<T>& r) {
  if (!r) require(printable_and_bounded(r.error().message), "error message not a safe excerpt");
}

}  // namespace swaprouter::fuzz
