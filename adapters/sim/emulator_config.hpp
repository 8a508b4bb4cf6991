// What every provider emulator checks and takes from its scenario block alike.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "adapters/sim/ledger.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/rate_window.hpp"
#include "adapters/sim/scenario.hpp"

namespace swaprouter::sim {

/// Throws std::invalid_argument naming the first direction or balance of `config` whose asset
/// `market` lacks. Pure.
void check_assets(const provider_config& config, const market& market);

/// Sets the starting balances of `config` in `account`; throws std::invalid_argument for an
/// amount the ledger refuses.
void set_balances(ledger& account, const provider_config& config);

/// Clears every credential's secret in `config` (an emulator that checks the key alone keeps no
/// secret) and returns the access keys of the active ones: a disabled key is refused like an
/// unknown one.
std::set<std::string, std::less<>> take_access_keys(provider_config& config);

/// Throws std::invalid_argument, "providers.<name>.rate_limits.<key>: <refusal>", for a
/// rate_limits key that is none of `routes` without their leading `base_path`. Pure.
void check_rate_limit_routes(const provider_config& config,
                             std::span<const std::string_view> routes, std::string_view base_path,
                             std::string_view refusal);

/// Counts a request by `caller` to the route `pattern` against config.rate_limits (keyed by the
/// route without its leading `base_path`): nullopt when it may proceed, otherwise the whole
/// seconds for Retry-After. A route without a positive limit is never refused.
std::optional<std::int64_t> take_rate_limit(sliding_window_limiter& limiter,
                                            const provider_config& config, std::string_view pattern,
                                            std::string_view base_path, std::string_view caller);

}  // namespace swaprouter::sim
