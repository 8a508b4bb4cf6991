// What the emulators' servers logged, counted the way the integration tests assert it: a call sent
// once, shared by overlapping callers, or never.
#pragma once

#include <cstddef>
#include <string_view>

#include "adapters/sim/server.hpp"

namespace swaprouter::test_support {

/// How many logged requests matched the route pattern `route` (and `method` when given).
inline std::size_t count_requests(const sim::server& server, std::string_view route,
                                  std::string_view method = {}) {
  std::size_t n = 0;
  for (const auto& r : server.requests()) {
    n += r.route == route && (method.empty() || r.method == method) ? 1 : 0;
  }
  return n;
}

}  // namespace swaprouter::test_support
