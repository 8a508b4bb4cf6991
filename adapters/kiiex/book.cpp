#include "adapters/kiiex/book.hpp"

#include <algorithm>
#include <utility>

namespace swaprouter::kiiex {

result<decimal> taker_fee(decimal received, const trade_rules& rules, int places) {
  auto fee = received.mul_div(rules.fee_percent, decimal::from_int(100), rounding::up);
  if (!fee) return fee;
  return fee->checked_round(places, rounding::up);
}

result<walk_result> walk_book(wire::side side, const std::vector<book_level>& levels,
                              const trade_rules& rules, const walk_bounds& bounds) {
  if (!rules.quantity_increment.is_positive() || (!bounds.quantity && !bounds.value)) {
    return fail(error_kind::invalid_argument, "kiiex walk: no increment or no bound");
  }
  const bool buy = side == wire::side::buy;
  const rounding value_rounding = buy ? rounding::up : rounding::down;
  walk_result out;
  bool limited = false;
  for (const book_level& level : levels) {
    if (bounds.limit_price &&
        (buy ? level.price > *bounds.limit_price : level.price < *bounds.limit_price)) {
      limited = true;
      break;
    }
    decimal take = level.quantity;
    if (bounds.quantity) take = std::min(take, *bounds.quantity - out.quantity);
    if (bounds.value) {
      const decimal left = *bounds.value - out.value;
      auto affordable = left.div(level.price, rounding::down);
      if (!affordable) return std::unexpected(affordable.error());
      take = std::min(take, *affordable);
    }
    auto rounded = take.round_to_increment(rules.quantity_increment, rounding::down);
    if (!rounded) return std::unexpected(rounded.error());
    take = *rounded;
    auto value = take.mul(level.price, rounding::down);
    if (!value) return std::unexpected(value.error());
    auto exact_value = value->checked_round(rules.quote_places, value_rounding);
    if (!exact_value) return std::unexpected(exact_value.error());
    // Rounding the value up may overshoot a value bound by a last-place unit: one increment less.
    if (bounds.value && out.value + *exact_value > *bounds.value && take.is_positive()) {
      take -= rules.quantity_increment;
      value = take.mul(level.price, rounding::down);
      if (!value) return std::unexpected(value.error());
      exact_value = value->checked_round(rules.quote_places, value_rounding);
      if (!exact_value) return std::unexpected(exact_value.error());
    }
    if (!take.is_positive()) {
      out.complete = true;
      break;
    }
    auto fee = buy ? taker_fee(take, rules, rules.base_places)
                   : taker_fee(*exact_value, rules, rules.quote_places);
    if (!fee) return std::unexpected(fee.error());
    out.fills.push_back({level.price, take, *exact_value, *fee});
    out.quantity += take;
    out.value += *exact_value;
    out.fee += *fee;
    out.worst_price = level.price;
    if (bounds.quantity && out.quantity >= *bounds.quantity) {
      out.complete = true;
      break;
    }
    if (take < level.quantity) {
      // The value bound stopped inside this level: the next level costs more.
      out.complete = true;
      break;
    }
  }
  if (!out.complete && !limited && !levels.empty()) {
    // Every level was taken: complete when what is left could not take one more increment at the
    // last price anyway, as the planner's walk counts it (engine/pricing.cpp walk()).
    if (bounds.quantity) {
      out.complete = *bounds.quantity - out.quantity < rules.quantity_increment;
    } else {
      auto one = rules.quantity_increment.mul(levels.back().price, rounding::down);
      if (!one) return std::unexpected(one.error());
      out.complete = *bounds.value - out.value < *one;
    }
  }
  return out;
}

}  // namespace swaprouter::kiiex
