#pragma once
// The emulators' per-key request limits (VENUES.md): a sliding window, as the providers document.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace swaprouter::sim {

/// At most `limit` requests per key in any `window`.
class sliding_window_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// Counts a request for `key` at `now` and returns nullopt; when the window is already full
  /// counts nothing and returns the whole seconds (at least 1) until a slot frees, for
  /// Retry-After. A limit of 0 or less never refuses.
  std::optional<std::int64_t> take(const std::string& key, int limit,
                                   std::chrono::milliseconds window, clock::time_point now);

 private:
  std::map<std::string, std::deque<clock::time_point>> windows_;
};

}  // namespace swaprouter::sim
