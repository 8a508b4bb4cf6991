// The simulated market every provider emulator prices from: assets with mid prices in USD that
// move by a seeded geometric random walk.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"

namespace swaprouter::sim {

/// One asset of the market: its identity, display data and its starting mid price in USD.
struct asset_info {
  std::string code;   ///< "BTC", "USDT", ...
  std::string name;   ///< "Bitcoin"
  int precision = 8;  ///< decimal places of balances and amounts in this asset
  bool is_fiat = false;
  bool is_stable = false;
  decimal mid_usd;  ///< starting mid price in USD (> 0)
  /// Volatility per sqrt(second) of this asset's walk; none = the market's default times
  /// volatility_scale.
  std::optional<double> volatility;
  /// Scales the market's default volatility for this asset (stablecoins and fiat move less), so
  /// a market volatility of 0 fixes every asset without its own volatility.
  double volatility_scale = 1.0;
};

/// The built-in assets (USDT, USDC, COPM, BTC, ETH, TRX, LTC, EUR, NGN) with plausible mid prices,
/// used when a scenario does not override them.
std::vector<asset_info> default_assets();

/// Everything a market starts from.
struct market_config {
  std::uint64_t seed = 1;
  /// Default volatility per sqrt(second) of every asset's walk: after `dt` seconds a price is
  /// multiplied by exp(sigma * sqrt(dt) * Z - sigma^2 * dt / 2), Z standard normal. 0 = fixed.
  double volatility = 0.0;
  std::vector<asset_info> assets;
  /// Explicit per-direction rates that replace the mid rate: (spend, receive) -> units of receive
  /// per unit of spend. They do not move with the walk.
  std::map<std::pair<std::string, std::string>, decimal> rates;
};

/// A market of assets with mid prices in USD, moved by a seeded geometric random walk that the
/// caller drives with advance(dt), so a test gets the same prices for the same seed and the same
/// sequence of advance() calls.
///
/// Exactness: the walk draws its random factor as a double (Box-Muller over mt19937_64, both fully
/// specified, so the sequence is the same on every platform up to the last bit of libm's exp/log),
/// but that factor is converted to an exact decimal rounded to 15 places before it touches a
/// price, and every price and rate handed out is an exact decimal rounded explicitly (prices and
/// rates to 12 significant digits, half-even). No emulator amount is ever computed in double.
///
/// Not thread-safe: use it from one executor (simulate runs every emulator on one io_context).
class market {
 public:
  /// Significant digits kept in every price and mid rate.
  static constexpr int significant_digits = 12;

  /// Throws std::invalid_argument for a non-positive price, a negative volatility or a duplicate
  /// asset (configuration errors).
  explicit market(market_config config);

  /// Moves every price by one step of the walk covering `dt` (no effect for dt <= 0 or when every
  /// volatility is 0).
  void advance(std::chrono::nanoseconds dt);
  /// Total time advanced so far.
  std::chrono::nanoseconds elapsed() const noexcept { return elapsed_; }

  /// Codes of every asset, sorted.
  std::vector<std::string> asset_codes() const;
  /// The asset, or nullptr when the market does not know it.
  const asset_info* find_asset(std::string_view code) const;

  /// The current mid price of `code` in USD; not_found for an unknown asset.
  result<decimal> mid_usd(std::string_view code) const;
  /// Units of `receive` one unit of `spend` is worth at mid (or the explicit rate set for that
  /// direction), rounded half-even to significant_digits; not_found for an unknown asset.
  result<decimal> mid_rate(std::string_view spend, std::string_view receive) const;

  /// Sets the mid price of `code` now (the walk continues from it); invalid_argument when not > 0.
  result<void> set_mid_usd(std::string_view code, decimal price);
  /// Pins the rate of one direction (not its reverse); invalid_argument when not > 0.
  result<void> set_rate(std::string_view spend, std::string_view receive, decimal rate);
  /// Removes a pinned rate; the direction goes back to the mid rate.
  void clear_rate(std::string_view spend, std::string_view receive);

 private:
  struct asset_state {
    asset_info info;
    decimal price;
    double volatility = 0.0;
  };
  double standard_normal();

  std::map<std::string, asset_state, std::less<>> assets_;
  std::map<std::pair<std::string, std::string>, decimal> rates_;
  std::mt19937_64 random_;
  std::optional<double> spare_normal_;
  std::chrono::nanoseconds elapsed_{0};
};

/// `value` rounded to `digits` significant digits by `mode` (keeping at most 18 places); zero
/// stays zero. Thread-safe (pure function).
decimal round_significant(decimal value, int digits, rounding mode);

}  // namespace swaprouter::sim
