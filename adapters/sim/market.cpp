#include "adapters/sim/market.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace swaprouter::sim {
namespace {

decimal must_parse(std::string_view text) {
  auto value = decimal::parse(text);
  if (!value) throw std::logic_error("bad built-in decimal " + std::string(text));
  return *value;
}

int digit_count(int128 value) {
  if (value < 0) value = -value;
  int digits = 0;
  while (value != 0) {
    value /= 10;
    ++digits;
  }
  return digits;
}

// The walk's factor as an exact decimal with 15 places: enough that rounding it never shows in a
// 12-significant-digit price, and a fixed text form so the conversion does not depend on how a
// double happens to print.
std::optional<decimal> factor_to_decimal(double factor) {
  char buffer[64];
  auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, factor, std::chars_format::fixed, 15);
  if (ec != std::errc{}) return std::nullopt;
  auto value = decimal::parse(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
  if (!value) return std::nullopt;
  return *value;
}

}  // namespace

decimal round_significant(decimal value, int digits, rounding mode) {
  if (value.is_zero()) return value;
  const int magnitude = digit_count(value.raw()) - decimal::scale;  // digits before the point
  const int places = std::clamp(digits - magnitude, 0, decimal::scale);
  return value.round(places, mode);
}

std::vector<asset_info> default_assets() {
  // Mid prices in USD, rounded plausible values; stablecoins and fiat move at a fraction of the
  // market's volatility, crypto at the full value.
  auto asset = [](std::string code, std::string name, int precision, bool fiat, bool stable,
                  std::string_view price, double volatility_scale) {
    return asset_info{.code = std::move(code),
                      .name = std::move(name),
                      .precision = precision,
                      .is_fiat = fiat,
                      .is_stable = stable,
                      .mid_usd = must_parse(price),
                      .volatility = std::nullopt,
                      .volatility_scale = volatility_scale};
  };
  constexpr double crypto = 1.0;
  constexpr double pegged = 0.05;
  constexpr double fiat = 0.2;
  return {
      asset("BTC", "Bitcoin", 8, false, false, "65000", crypto),
      asset("COPM", "Minteo Colombian Peso", 2, false, true, "0.00025", fiat),
      asset("ETH", "Ethereum", 8, false, false, "3200", crypto),
      asset("EUR", "Euro", 2, true, false, "1.08", fiat),
      asset("LTC", "Litecoin", 8, false, false, "80", crypto),
      asset("NGN", "Nigerian Naira", 2, true, false, "0.00065", fiat),
      asset("TRX", "TRON", 6, false, false, "0.12", crypto),
      asset("USDC", "USD Coin", 6, false, true, "1", pegged),
      asset("USDT", "Tether USD", 6, false, true, "1", pegged),
  };
}

market::market(market_config config) : rates_(std::move(config.rates)), random_(config.seed) {
  if (!(config.volatility >= 0.0) || !std::isfinite(config.volatility)) {
    throw std::invalid_argument("market volatility must be a finite number >= 0");
  }
  for (auto& info : config.assets) {
    if (!info.mid_usd.is_positive()) {
      throw std::invalid_argument("mid price of " + info.code + " must be > 0");
    }
    const double volatility = info.volatility.value_or(config.volatility * info.volatility_scale);
    if (!(volatility >= 0.0) || !std::isfinite(volatility)) {
      throw std::invalid_argument("volatility of " + info.code + " must be a finite number >= 0");
    }
    const decimal price = round_significant(info.mid_usd, significant_digits, rounding::half_even);
    std::string code = info.code;
    auto [it, inserted] = assets_.emplace(
        code, asset_state{.info = std::move(info), .price = price, .volatility = volatility});
    if (!inserted) throw std::invalid_argument("duplicate asset " + code);
  }
  for (const auto& [direction, rate] : rates_) {
    if (!rate.is_positive()) {
      throw std::invalid_argument("rate " + direction.first + "-" + direction.second +
                                  " must be > 0");
    }
  }
}

double market::standard_normal() {
  if (spare_normal_) {
    const double value = *spare_normal_;
    spare_normal_.reset();
    return value;
  }
  // Box-Muller from 53-bit uniforms built by hand: std::normal_distribution and
  // std::uniform_real_distribution are implementation-defined, mt19937_64 is not.
  constexpr double two_to_minus_53 = 1.0 / 9007199254740992.0;
  const double u1 = static_cast<double>((random_() >> 11) + 1) * two_to_minus_53;  // (0, 1]
  const double u2 = static_cast<double>(random_() >> 11) * two_to_minus_53;        // [0, 1)
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  return radius * std::cos(angle);
}

void market::advance(std::chrono::nanoseconds dt) {
  if (dt <= std::chrono::nanoseconds::zero()) return;
  elapsed_ += dt;
  const bool moving = std::any_of(assets_.begin(), assets_.end(),
                                  [](const auto& entry) { return entry.second.volatility > 0.0; });
  if (!moving) return;
  const double seconds = std::chrono::duration<double>(dt).count();
  // One draw per asset in code order whatever its volatility, so changing one asset's volatility
  // does not change the others' paths.
  for (auto& [code, state] : assets_) {
    const double z = standard_normal();
    if (state.volatility == 0.0) continue;
    const double sigma = state.volatility;
    // Clamped so that an absurd volatility cannot overflow or zero a price in one step.
    const double factor = std::clamp(
        std::exp(sigma * std::sqrt(seconds) * z - 0.5 * sigma * sigma * seconds), 1e-3, 1e3);
    const auto exact_factor = factor_to_decimal(factor);
    if (!exact_factor) continue;
    auto moved = state.price.mul(*exact_factor, rounding::half_even);
    if (!moved) continue;
    const decimal price = round_significant(*moved, significant_digits, rounding::half_even);
    if (price.is_positive()) state.price = price;
  }
}

std::vector<std::string> market::asset_codes() const {
  std::vector<std::string> codes;
  codes.reserve(assets_.size());
  for (const auto& [code, state] : assets_) codes.push_back(code);
  return codes;
}

const asset_info* market::find_asset(std::string_view code) const {
  auto it = assets_.find(code);
  return it == assets_.end() ? nullptr : &it->second.info;
}

result<decimal> market::mid_usd(std::string_view code) const {
  auto it = assets_.find(code);
  if (it == assets_.end()) return fail(error_kind::not_found, "unknown asset " + std::string(code));
  return it->second.price;
}

result<decimal> market::mid_rate(std::string_view spend, std::string_view receive) const {
  auto pinned = rates_.find({std::string(spend), std::string(receive)});
  if (pinned != rates_.end()) return pinned->second;
  auto spend_price = mid_usd(spend);
  if (!spend_price) return std::unexpected(spend_price.error());
  auto receive_price = mid_usd(receive);
  if (!receive_price) return std::unexpected(receive_price.error());
  auto rate = spend_price->div(*receive_price, rounding::half_even);
  if (!rate) return std::unexpected(rate.error());
  return round_significant(*rate, significant_digits, rounding::half_even);
}

result<void> market::set_mid_usd(std::string_view code, decimal price) {
  auto it = assets_.find(code);
  if (it == assets_.end()) return fail(error_kind::not_found, "unknown asset " + std::string(code));
  if (!price.is_positive()) {
    return fail(error_kind::invalid_argument, "mid price of " + std::string(code) + " must be > 0");
  }
  it->second.price = round_significant(price, significant_digits, rounding::half_even);
  return {};
}

result<void> market::set_rate(std::string_view spend, std::string_view receive, decimal rate) {
  if (!rate.is_positive()) {
    return fail(error_kind::invalid_argument,
                "rate " + std::string(spend) + "-" + std::string(receive) + " must be > 0");
  }
  rates_[{std::string(spend), std::string(receive)}] = rate;
  return {};
}

void market::clear_rate(std::string_view spend, std::string_view receive) {
  rates_.erase({std::string(spend), std::string(receive)});
}

}  // namespace swaprouter::sim
