#include "adapters/sim/emulator_config.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace swaprouter::sim {

void check_assets(const provider_config& config, const market& market) {
  for (const auto& d : config.directions) {
    if (market.find_asset(d.spend) == nullptr || market.find_asset(d.receive) == nullptr) {
      throw std::invalid_argument("providers." + config.name + ".directions: " + d.code() +
                                  " uses an asset the market does not have");
    }
  }
  for (const auto& [asset, amount] : config.balances) {
    if (market.find_asset(asset) == nullptr) {
      throw std::invalid_argument("providers." + config.name + ".balances: unknown asset " + asset);
    }
  }
}

void set_balances(ledger& account, const provider_config& config) {
  for (const auto& [asset, amount] : config.balances) {
    if (auto ok = account.set(asset, amount); !ok) {
      throw std::invalid_argument("providers." + config.name + ".balances." + asset + ": " +
                                  ok.error().message);
    }
  }
}

std::set<std::string, std::less<>> take_access_keys(provider_config& config) {
  std::set<std::string, std::less<>> keys;
  for (auto& credential : config.credentials) {
    credential.secret.clear();
    if (credential.active) keys.insert(credential.access_key);
  }
  return keys;
}

void check_rate_limit_routes(const provider_config& config,
                             std::span<const std::string_view> routes, std::string_view base_path,
                             std::string_view refusal) {
  for (const auto& [key, limit] : config.rate_limits) {
    const bool known = std::any_of(routes.begin(), routes.end(), [&](std::string_view r) {
      return r.substr(base_path.size()) == key;
    });
    if (!known) {
      throw std::invalid_argument("providers." + config.name + ".rate_limits." + key + ": " +
                                  std::string(refusal));
    }
  }
}

std::optional<std::int64_t> take_rate_limit(sliding_window_limiter& limiter,
                                            const provider_config& config, std::string_view pattern,
                                            std::string_view base_path, std::string_view caller) {
  const auto limit = config.rate_limits.find(std::string(pattern.substr(base_path.size())));
  if (limit == config.rate_limits.end() || limit->second.limit <= 0) return std::nullopt;
  return limiter.take(std::string(caller) + '\n' + std::string(pattern), limit->second.limit,
                      limit->second.window, std::chrono::steady_clock::now());
}

}  // namespace swaprouter::sim
