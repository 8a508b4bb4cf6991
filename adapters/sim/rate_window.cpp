#include "adapters/sim/rate_window.hpp"

#include <algorithm>

namespace swaprouter::sim {

std::optional<std::int64_t> sliding_window_limiter::take(const std::string& key, int limit,
                                                         std::chrono::milliseconds window,
                                                         clock::time_point now) {
  if (limit <= 0) return std::nullopt;
  auto& hits = windows_[key];
  while (!hits.empty() && hits.front() <= now - window) hits.pop_front();
  if (hits.size() >= static_cast<std::size_t>(limit)) {
    const auto wait = hits.front() + window - now;
    return std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count());
  }
  hits.push_back(now);
  return std::nullopt;
}

}  // namespace swaprouter::sim
