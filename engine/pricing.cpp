#include "engine/pricing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace swaprouter {
namespace {

const decimal hundred = decimal::from_int(100);

std::unexpected<price_error> failure(price_failure reason, decimal amount = {},
                                     decimal limit = {}) {
  return std::unexpected(price_error{reason, amount, limit});
}

// A precision outside 0..18 never prices (usable refuses it), but the planner takes units
// before it asks: such a unit is clamped to the range instead of overflowing.
decimal unit_at(int places) { return decimal::unit(std::clamp(places, 0, decimal::scale)); }

bool valid_places(int places) { return places >= 0 && places <= decimal::scale; }

bool positive_or_unset(const std::optional<decimal>& d) { return !d || d->is_positive(); }

bool usable(const pricing& p) {
  if (!valid_places(p.spend_precision) || !valid_places(p.receive_precision)) return false;
  if (!positive_or_unset(p.spend_increment) || !positive_or_unset(p.receive_increment)) {
    return false;
  }
  if (p.fee_percent.is_negative() || p.fee_percent >= hundred || p.fee_fixed.is_negative()) {
    return false;
  }
  if (p.model == pricing_model::order_book) {
    if (p.book.levels.empty() || !p.book.quantity_increment.is_positive()) return false;
    return std::all_of(p.book.levels.begin(), p.book.levels.end(), [](const book_level& l) {
      return l.price.is_positive() && l.quantity.is_positive();
    });
  }
  return p.rate_spend.is_positive() && p.rate_receive.is_positive();
}

// usable(p), known without scanning the book's levels when p's sums have a level: sums_of sums
// only a usable pricing's book.
bool known_usable(const pricing& p, const book_sums* sums) {
  return (sums && !sums->whole.empty()) || usable(p);
}

// `v` at `places`, then at `increment` when there is one; none on overflow.
std::optional<decimal> round_at(decimal v, int places, const std::optional<decimal>& increment,
                                rounding mode) {
  auto r = v.try_round(places, mode);
  if (r && increment) r = r->try_round_to_increment(*increment, mode);
  return r;
}

// Spend amounts are rounded down (what we send never exceeds what was asked).
priced<decimal> round_spend(const pricing& p, decimal spend) {
  if (auto r = round_at(spend, p.spend_precision, p.spend_increment, rounding::down)) return *r;
  return failure(price_failure::overflow, spend);
}

// The credited amount is rounded down: we never expect more than arrives.
priced<decimal> round_net(const pricing& p, decimal net) {
  if (auto r = round_at(net, p.receive_precision, p.receive_increment, rounding::down)) return *r;
  return failure(price_failure::overflow, net);
}

// 001k documents the fee as a percent of the gross and reports it unrounded; the other providers
// do not document a fee rounding, so the fee is rounded up at 18 places (it can only cost us).
priced<price> finish_from_gross(const pricing& p, decimal spend, decimal gross, decimal pct_fee) {
  const decimal fee = pct_fee + p.fee_fixed;
  auto rest = gross.try_sub(fee);
  if (!rest) return failure(price_failure::overflow, gross);
  if (!rest->is_positive()) return failure(price_failure::zero_receive, gross, fee);
  auto net = round_net(p, *rest);
  if (!net) return std::unexpected(net.error());
  if (!net->is_positive()) return failure(price_failure::zero_receive, gross, fee);
  return price{spend, gross, fee, *net, 0, false};
}

using balance = std::optional<decimal>;

std::optional<price_error> check_limits(const pricing& p, const price& q,
                                        const balance& available) {
  if (q.spend < p.min_spend) return price_error{price_failure::min_spend, q.spend, p.min_spend};
  if (p.max_spend && q.spend > *p.max_spend) {
    return price_error{price_failure::max_spend, q.spend, *p.max_spend};
  }
  if (q.gross < p.min_receive) {
    return price_error{price_failure::min_receive, q.gross, p.min_receive};
  }
  if (p.max_receive && q.gross > *p.max_receive) {
    return price_error{price_failure::max_receive, q.gross, *p.max_receive};
  }
  if (available && q.spend > *available) {
    return price_error{price_failure::balance, q.spend, *available};
  }
  return std::nullopt;
}

priced<price> checked(const pricing& p, priced<price> q, const balance& available) {
  if (!q) return q;
  if (auto e = check_limits(p, *q, available)) return std::unexpected(*e);
  return q;
}

priced<decimal> percent_fee(const pricing& p, decimal received, int places) {
  return percent_fee(p.fee_percent, received, places);
}

priced<price> rate_for_spend(const pricing& p, decimal spend) {
  auto gross = spend.try_mul_div(p.rate_receive, p.rate_spend, rounding::down);
  if (!gross) return failure(price_failure::overflow, spend);
  auto fee = percent_fee(p, *gross, decimal::scale);
  if (!fee) return std::unexpected(fee.error());
  auto q = finish_from_gross(p, spend, *gross, *fee);
  if (q && p.firm && p.quoted_spend && spend == *p.quoted_spend) q->firm = true;
  return q;
}

// The planner's walk of p's book for a spend of `amount`, in spend and receive terms.
struct book_walk {
  decimal spent;
  decimal received;
  decimal fee;
  int levels = 0;
  bool complete = false;
};

// p's book rules: a buy spends the quote and receives the base, a sell the other way round.
book_rules rules_of(const pricing& p) {
  const bool buy = p.book.side == book_side::buy;
  return {p.book.quantity_increment, buy ? p.receive_precision : p.spend_precision,
          buy ? p.spend_precision : p.receive_precision, p.fee_percent};
}

// Of a level's quantity, the part on the increment a walk can take. Venues send levels on it: a
// remainder test spares those the rounding.
std::optional<decimal> on_increment(decimal quantity, decimal increment) {
  if (quantity.is_positive() && increment.is_positive() &&
      static_cast<__uint128_t>(quantity.raw()) % static_cast<__uint128_t>(increment.raw()) == 0) {
    return quantity;
  }
  return quantity.try_round_to_increment(increment, rounding::down);
}

// What a taker who has `taken` so far takes of `level`: a multiple of the increment within the
// level and the bounds whose value, rounded as documented at order_book, stays within the value
// bound; a fill of zero quantity when there is none. `bounded` tells whether a bound, not the
// level, set the take. The fee is left to the caller.
priced<book_fill> take_level(book_side side, const book_level& level, const book_rules& rules,
                             const book_bounds& bounds, const book_taken& taken, bool& bounded) {
  const bool buy = side == book_side::buy;
  decimal take = level.quantity;
  if (bounds.quantity && *bounds.quantity - taken.quantity < take) {
    take = *bounds.quantity - taken.quantity;
    bounded = true;
  }
  if (bounds.value) {
    const decimal left = *bounds.value - taken.value;
    auto affordable = left.try_div(level.price, rounding::down);
    if (!affordable) return failure(price_failure::overflow, left);
    if (*affordable < take) {
      take = *affordable;
      bounded = true;
    }
  }
  // A level's quantity off the increment is taken in its part on it.
  auto rounded = on_increment(take, rules.quantity_increment);
  if (!rounded) return failure(price_failure::overflow, take);
  const auto fill_of = [&](decimal quantity) -> priced<book_fill> {
    auto value = quantity.try_mul(level.price, rounding::down);
    if (!value) return failure(price_failure::overflow, quantity);
    auto exact = value->try_round(rules.quote_places, buy ? rounding::up : rounding::down);
    if (!exact) return failure(price_failure::overflow, quantity);
    return book_fill{level.price, quantity, *exact, {}};
  };
  auto fill = fill_of(*rounded);
  if (!fill || !bounds.value || taken.value + fill->value <= *bounds.value) return fill;
  // A buy's value rounded up overshot what is left (left off the quote's places): a take within
  // what is left at those places stays within it once rounded.
  bounded = true;
  auto left = (*bounds.value - taken.value).try_round(rules.quote_places, rounding::down);
  auto affordable = left ? left->try_div(level.price, rounding::down) : std::nullopt;
  auto within = affordable ? std::min(*rounded, *affordable)
                                 .try_round_to_increment(rules.quantity_increment, rounding::down)
                           : std::nullopt;
  if (!within) return failure(price_failure::overflow, *rounded);
  return fill_of(*within);
}

// walk_book from level `first` on, with `w` what the levels before it took.
priced<book_taken> walk_levels(book_side side, std::span<const book_level> levels,
                               const book_rules& rules, const book_bounds& bounds, book_taken w,
                               std::size_t first, std::vector<book_fill>* fills) {
  const bool buy = side == book_side::buy;
  for (std::size_t i = first; i < levels.size(); ++i) {
    const book_level& level = levels[i];
    // A level below one increment has nothing a taker can take; the levels after it do.
    if (level.quantity < rules.quantity_increment) continue;
    bool bounded = false;
    auto fill = take_level(side, level, rules, bounds, w, bounded);
    if (!fill) return std::unexpected(fill.error());
    if (!fill->quantity.is_positive()) {
      w.complete = true;
      return w;
    }
    auto fee = buy ? percent_fee(rules.fee_percent, fill->quantity, rules.base_places)
                   : percent_fee(rules.fee_percent, fill->value, rules.quote_places);
    if (!fee) return std::unexpected(fee.error());
    fill->fee = *fee;
    w.quantity += fill->quantity;
    w.value += fill->value;
    w.fee += *fee;
    ++w.levels;
    if (fills) fills->push_back(*fill);
    // A bound stopped inside this level (the next one is worse), or the quantity is reached.
    if (bounded || (bounds.quantity && w.quantity >= *bounds.quantity)) {
      w.complete = true;
      return w;
    }
  }
  w.exhausted = true;
  if (levels.empty()) return w;
  // The levels ran out: complete only when what is left could not take one more increment at the
  // last price anyway.
  if (bounds.quantity) {
    w.complete = *bounds.quantity - w.quantity < rules.quantity_increment;
  } else {
    auto one = rules.quantity_increment.try_mul(levels.back().price, rounding::down);
    if (!one) return failure(price_failure::overflow, *bounds.value);
    w.complete = *bounds.value - w.value < *one;
  }
  return w;
}

// The walk of a level taken whole after `spent` was spent on the levels before it: the least
// amount that takes it so (`reach`), and what it spends, receives and charges. None when a walk
// could take it in part whatever the amount, or a figure does not fit.
struct whole_take {
  decimal reach;
  decimal spent;
  decimal received;
  decimal fee;
};

std::optional<whole_take> take_whole(const pricing& p, const book_level& level, decimal spent) {
  const decimal q = level.quantity;
  auto whole = on_increment(q, p.book.quantity_increment);
  if (!whole || *whole != q || !q.is_positive()) return std::nullopt;
  auto value = q.try_mul(level.price, rounding::down);
  if (!value) return std::nullopt;
  whole_take t;
  decimal need;
  if (p.book.side == book_side::buy) {
    // take_level takes the level whole when what is left buys all of it (left / price >= q:
    // left >= q x price rounded up to 18 places) and covers its value rounded up.
    auto rounded = value->try_round(p.spend_precision, rounding::up);
    auto exact = q.try_mul(level.price, rounding::up);
    if (!rounded || !exact) return std::nullopt;
    need = std::max(*rounded, *exact);
    t.spent = *rounded;
    t.received = q;
  } else {
    need = q;
    t.spent = q;
    t.received = value->round(p.receive_precision, rounding::down);
  }
  auto fee = percent_fee(p, t.received, p.receive_precision);
  auto reach = spent.try_add(need);
  if (!fee || !reach) return std::nullopt;
  t.reach = *reach;
  t.fee = *fee;
  return t;
}

// Appends the sums of the next level taken whole; false when there is none (the book ends, or a
// walk could take that level in part whatever the amount, or its figures would not fit).
bool extend_sums(const pricing& p, book_sums& s) {
  if (s.whole.size() >= p.book.levels.size()) return false;
  const book_level& level = p.book.levels[s.whole.size()];
  const book_sums::level before = s.whole.empty() ? book_sums::level{} : s.whole.back();
  auto t = take_whole(p, level, before.spent);
  if (!t) return false;
  auto spent = before.spent.try_add(t->spent);
  auto received = before.received.try_add(t->received);
  auto fee = before.fee.try_add(t->fee);
  if (!spent || !received || !fee) return false;
  if (p.book.side == book_side::buy) {
    // take_level divides what is left by the price: the sums serve amounts for which every
    // such division fits, below price x 10^20 (a price above 1.7 sets no limit).
    constexpr int128 e19 = 10'000'000'000'000'000'000u;
    if (auto limit = level.price.try_mul(decimal::from_raw(e19 * e19), rounding::down)) {
      if (!s.below || *limit < *s.below) s.below = *limit;
    }
  }
  // A level is taken whole only once every level before it was.
  s.whole.push_back({std::max(before.reach, t->reach), *spent, *received, *fee});
  return true;
}

priced<book_walk> walk(const pricing& p, decimal amount, const book_sums* sums) {
  const bool buy = p.book.side == book_side::buy;
  book_taken start;
  std::size_t first = 0;
  if (sums && !sums->whole.empty() && (!sums->below || amount < *sums->below)) {
    // The levels this walk takes whole, summed as walk_levels would sum them.
    const auto end =
        std::upper_bound(sums->whole.begin(), sums->whole.end(), amount,
                         [](decimal a, const book_sums::level& l) { return a < l.reach; });
    first = static_cast<std::size_t>(end - sums->whole.begin());
    if (first > 0) {
      const book_sums::level& s = sums->whole[first - 1];
      start.quantity = buy ? s.received : s.spent;
      start.value = buy ? s.spent : s.received;
      start.fee = s.fee;
      start.levels = static_cast<int>(first);
    }
  }
  book_bounds bounds;
  (buy ? bounds.value : bounds.quantity) = amount;
  auto t = walk_levels(p.book.side, p.book.levels, rules_of(p), bounds, start, first, nullptr);
  if (!t) return std::unexpected(t.error());
  return book_walk{buy ? t->value : t->quantity, buy ? t->quantity : t->value, t->fee, t->levels,
                   t->complete};
}

decimal book_capacity(const pricing& p) {
  decimal total;
  for (const book_level& level : p.book.levels) {
    // What a walk can take of the level: its quantity on the increment.
    const decimal whole =
        on_increment(level.quantity, p.book.quantity_increment).value_or(level.quantity);
    if (p.book.side == book_side::sell) {
      total += whole;
      continue;
    }
    auto value = whole.try_mul(level.price, rounding::up);
    if (value) total += value->round(p.spend_precision, rounding::up);
  }
  return total;
}

priced<price> book_for_spend(const pricing& p, decimal spend, const book_sums* sums) {
  auto w = walk(p, spend, sums);
  if (!w) return std::unexpected(w.error());
  if (!w->complete) return failure(price_failure::depth, spend, book_capacity(p));
  if (!w->spent.is_positive()) return failure(price_failure::precision, spend);
  auto q = finish_from_gross(p, w->spent, w->received, w->fee);
  if (q) q->levels = w->levels;
  return q;
}

priced<price> price_rounded_spend(const pricing& p, decimal spend, const balance& available,
                                  const book_sums* sums) {
  return checked(p,
                 p.model == pricing_model::order_book ? book_for_spend(p, spend, sums)
                                                      : rate_for_spend(p, spend),
                 available);
}

priced<decimal> round_up_receive(const pricing& p, decimal net) {
  if (auto r = round_at(net, p.receive_precision, p.receive_increment, rounding::up)) return *r;
  return failure(price_failure::overflow, net);
}

// 001k's exact receive (adapters/onek): the smallest gross at receive_precision whose net covers
// the target, charged gross x rate_spend / rate_receive rounded up to the spend precision.
priced<price> provider_exact_receive(const pricing& p, decimal target, const balance& available) {
  const decimal step = unit_at(p.receive_precision);
  auto estimate = (target + p.fee_fixed).try_mul_div(hundred, hundred - p.fee_percent, rounding::up);
  if (!estimate) return failure(price_failure::overflow, target);
  auto rounded = estimate->try_round(p.receive_precision, rounding::up);
  if (!rounded) return failure(price_failure::overflow, target);
  const auto at_gross = [&](decimal gross) -> priced<price> {
    auto fee = percent_fee(p, gross, decimal::scale);
    if (!fee) return std::unexpected(fee.error());
    return finish_from_gross(p, decimal{}, gross, *fee);
  };
  decimal gross = std::max(*rounded, step);
  auto q = at_gross(gross);
  constexpr int max_steps = 64;
  for (int i = 0; !q || q->net < target; ++i) {
    if (i == max_steps) return failure(price_failure::overflow, target);
    gross += step;
    q = at_gross(gross);
  }
  for (int i = 0; i < max_steps && gross > step; ++i) {
    auto lower = at_gross(gross - step);
    if (!lower || lower->net < target) break;
    gross -= step;
    q = lower;
  }
  auto spend = gross.try_mul_div(p.rate_spend, p.rate_receive, rounding::up);
  if (!spend) return failure(price_failure::overflow, target);
  auto charged = round_at(*spend, p.spend_precision, p.spend_increment, rounding::up);
  if (!charged) return failure(price_failure::overflow, target);
  q->spend = *charged;
  return checked(p, q, available);
}

// A first guess of the spend that nets `target`, from the rate or the best book level.
decimal spend_estimate(const pricing& p, decimal target) {
  decimal per_spend;  // gross receive per unit of spend
  decimal per_unit = decimal::from_int(1);
  if (p.model != pricing_model::order_book) {
    per_spend = p.rate_receive;
    per_unit = p.rate_spend;
  } else if (p.book.side == book_side::sell) {
    per_spend = p.book.levels.front().price;
  } else {
    per_spend = decimal::from_int(1);
    per_unit = p.book.levels.front().price;
  }
  auto gross = (target + p.fee_fixed).try_mul_div(hundred, hundred - p.fee_percent, rounding::up);
  if (!gross) return target;
  auto spend = gross->try_mul_div(per_unit, per_spend, rounding::up);
  return spend ? *spend : target;
}

bool blocks_from_above(price_failure f) {
  return f == price_failure::max_spend || f == price_failure::max_receive ||
         f == price_failure::balance || f == price_failure::depth || f == price_failure::overflow ||
         f == price_failure::invalid;
}

// Whether every spend below min_spend prices to a min_spend failure or another failure that does
// not block from above (precision, zero receive): a rate model whose min_spend prices without
// overflow, and a sell book deep enough for min_spend (its walk then completes) whose values
// there cannot overflow. A buy book is not monotone and keeps its plain search.
bool min_spend_is_quiet(const pricing& p) {
  if (p.model != pricing_model::order_book) {
    return p.min_spend.try_mul_div(p.rate_receive, p.rate_spend, rounding::down).has_value();
  }
  if (p.book.side != book_side::sell || p.book.levels.empty()) return false;
  decimal depth;
  decimal top;
  for (const book_level& level : p.book.levels) {
    auto whole = on_increment(level.quantity, p.book.quantity_increment);
    if (!whole) return false;
    auto deeper = depth.try_add(*whole);
    if (!deeper) return false;
    depth = *deeper;
    top = std::max(top, level.price);
  }
  return p.min_spend <= depth && p.min_spend.try_mul(top, rounding::up).has_value();
}

// The smallest spend (a multiple of the spend unit) whose net covers `target`, by doubling from
// the estimate and bisecting: the net never falls when the spend grows.
priced<price> search_exact_receive(const pricing& p, decimal target, const balance& available,
                                   const book_sums* sums) {
  const int128 unit = spend_unit(p).raw();
  const auto at = [&](int128 units) -> priced<price> {
    // The doubling can reach 2^101 units: beyond the decimal range for a coarse unit.
    int128 raw = 0;
    if (__builtin_mul_overflow(units, unit, &raw)) return failure(price_failure::overflow, target);
    return price_rounded_spend(p, decimal::from_raw(raw), available, sums);
  };
  const auto covers = [&](const priced<price>& q) { return q && q->net >= target; };
  int128 high = std::max<int128>(1, spend_estimate(p, target).raw() / unit + 1);
  // Below min_spend a rate model neither covers nor fails from above, as long as pricing
  // min_spend cannot overflow: the spends there are known without pricing them. A per-amount
  // model (min = max = the amount quoted, 18 places) would otherwise be priced some 70 times.
  int128 below = 0;  // spends of fewer units are below min_spend
  if (p.min_spend.is_positive() && min_spend_is_quiet(p)) {
    below = p.min_spend.raw() / unit + (p.min_spend.raw() % unit == 0 ? 0 : 1);
  }
  int i = 0;
  for (; high < below; ++i) {
    if (i == 96 || high > (int128{1} << 100)) return failure(price_failure::overflow, target);
    high *= 2;
  }
  // A rate model's net never falls as the spend grows, nor does a sell book's (each level's take,
  // value and fee rounding only grow with it). A buy book's can (each fill's value is rounded up
  // to the spend precision), so a buy book keeps the plain bisection from zero and its answer.
  const bool monotone = p.model != pricing_model::order_book || p.book.side == book_side::sell;
  int128 low = std::max<int128>(0, below - 1);  // never covers
  auto q = at(high);
  // Prices `units`: the new high and answer when it covers, else the new low.
  const auto narrow = [&](int128 units) {
    auto m = at(units);
    if (!covers(m)) {
      low = units;
      return false;
    }
    high = units;
    q = std::move(m);
    return true;
  };
  int128 short_of = low;  // the last spend doubled from: it does not cover
  bool capped = false;
  for (; !covers(q); ++i) {
    if (!q && blocks_from_above(q.error().reason)) {
      // Doubling can step over the whole range a maximum leaves (a minimum receive of 170 and a
      // maximum spend of 261 lie between 163.84 and 327.68): the highest spend the limits allow
      // is the last one to try.
      const auto cap = bounds_of(p, available).high;
      const int128 top = cap ? cap->raw() / unit : 0;
      if (capped || top <= short_of) return std::unexpected(q.error());
      capped = true;
      high = top;
      q = at(high);
      continue;
    }
    if (i == 96 || high > (int128{1} << 100)) return failure(price_failure::overflow, target);
    // Monotone: no spend up to this one covers either.
    if (monotone) low = std::max(low, high);
    short_of = high;
    high *= 2;
    q = at(high);
  }
  // Nothing below min_spend covers: when no spend from it up was found short, min_spend itself is
  // the answer whenever it covers (a per-amount quote or a book whose estimate lies far below
  // min_spend would otherwise step down some 20 strides to it).
  if (monotone && below > 0 && low == below - 1 && high - low > 1) narrow(below);
  // A monotone model's estimate is usually a few units above the answer: step down from it by
  // doubling strides until a spend does not cover, then bisect that gap. A handful of prices
  // instead of the log2(high) of a bisection from zero, and the same least covering spend.
  for (int128 stride = 1; monotone && high - low > 1; stride *= 2) {
    const int128 probe = high - stride;
    if (probe <= low || !narrow(probe)) break;
  }
  while (high - low > 1) narrow(low + (high - low) / 2);
  return q;
}

}  // namespace

priced<decimal> percent_fee(decimal fee_percent, decimal received, int places) {
  auto fee = received.try_mul_div(fee_percent, hundred, rounding::up);
  if (!fee) return failure(price_failure::overflow, received);
  if (places < decimal::scale) {
    fee = fee->try_round(places, rounding::up);
    if (!fee) return failure(price_failure::overflow, received);
  }
  return *fee;
}

std::string_view to_string(price_failure failure) noexcept {
  switch (failure) {
    case price_failure::invalid:
      return "invalid";
    case price_failure::precision:
      return "precision";
    case price_failure::min_spend:
      return "min_spend";
    case price_failure::max_spend:
      return "max_spend";
    case price_failure::min_receive:
      return "min_receive";
    case price_failure::max_receive:
      return "max_receive";
    case price_failure::depth:
      return "depth";
    case price_failure::balance:
      return "balance";
    case price_failure::zero_receive:
      return "zero_receive";
    case price_failure::overflow:
      return "overflow";
  }
  return "unknown";
}

std::string describe(const price_error& e) {
  const std::string amount = e.amount.to_string();
  const std::string limit = e.limit.to_string();
  switch (e.reason) {
    case price_failure::invalid:
      return "invalid: unusable rate, fee, precision or book";
    case price_failure::precision:
      return fmt::format("precision: {} rounds to 0", amount);
    case price_failure::min_spend:
      return fmt::format("min_spend: spend {} below {}", amount, limit);
    case price_failure::max_spend:
      return fmt::format("max_spend: spend {} above {}", amount, limit);
    case price_failure::min_receive:
      return fmt::format("min_receive: gross receive {} below {}", amount, limit);
    case price_failure::max_receive:
      return fmt::format("max_receive: gross receive {} above {}", amount, limit);
    case price_failure::depth:
      return fmt::format("depth: spend {} beyond the book's {}", amount, limit);
    case price_failure::balance:
      return fmt::format("balance: spend {} above the {} available", amount, limit);
    case price_failure::zero_receive:
      return fmt::format("zero_receive: fees {} take the gross {}", limit, amount);
    case price_failure::overflow:
      return fmt::format("overflow: pricing {}", amount);
  }
  return "unknown";
}

decimal spend_unit(const pricing& p) {
  if (p.spend_increment) return *p.spend_increment;
  if (p.model == pricing_model::order_book && p.book.side == book_side::sell) {
    return std::max(p.book.quantity_increment, unit_at(p.spend_precision));
  }
  return unit_at(p.spend_precision);
}

decimal receive_unit(const pricing& p) {
  return p.receive_increment ? *p.receive_increment : unit_at(p.receive_precision);
}

priced<book_taken> walk_book(book_side side, std::span<const book_level> levels,
                             const book_rules& rules, const book_bounds& bounds,
                             std::vector<book_fill>* fills) {
  if (!rules.quantity_increment.is_positive() || (!bounds.quantity && !bounds.value)) {
    return failure(price_failure::invalid);
  }
  return walk_levels(side, levels, rules, bounds, book_taken{}, 0, fills);
}

priced<price> price_spend(const pricing& p, decimal spend) {
  return price_spend(p, spend, p.available);
}

priced<price> price_spend(const pricing& p, decimal spend, const std::optional<decimal>& available,
                          const book_sums* sums) {
  if (!known_usable(p, sums) || spend.is_negative()) {
    return failure(price_failure::invalid, spend);
  }
  auto rounded = round_spend(p, spend);
  if (!rounded) return std::unexpected(rounded.error());
  if (p.model == pricing_model::order_book && p.book.side == book_side::sell) {
    auto whole = rounded->try_round_to_increment(p.book.quantity_increment, rounding::down);
    if (!whole) return failure(price_failure::overflow, spend);
    rounded = *whole;
  }
  if (!rounded->is_positive()) return failure(price_failure::precision, spend);
  return price_rounded_spend(p, *rounded, available, sums);
}

priced<price> price_receive(const pricing& p, decimal net) {
  return price_receive(p, net, p.available);
}

priced<price> price_receive(const pricing& p, decimal net, const std::optional<decimal>& available,
                            const book_sums* sums) {
  if (!known_usable(p, sums) || !net.is_positive()) return failure(price_failure::invalid, net);
  auto target = round_up_receive(p, net);
  if (!target) return std::unexpected(target.error());
  if (p.exact_receive && p.model == pricing_model::rate_table) {
    return provider_exact_receive(p, *target, available);
  }
  return search_exact_receive(p, *target, available, sums);
}

bool receive_within(const pricing& p, decimal net, decimal spend,
                    const std::optional<decimal>& available, const book_sums* sums,
                    price* at_spend) {
  const bool searched = p.model == pricing_model::order_book
                            ? p.book.side == book_side::sell
                            : !(p.exact_receive && p.model == pricing_model::rate_table);
  if (!searched || !net.is_positive()) return false;
  auto target = round_up_receive(p, net);
  if (!target) return false;
  // price_spend's rounding yields a multiple of the search's spend unit: a spend it tries.
  auto q = price_spend(p, spend, available, sums);
  if (!q || q->net < *target) return false;
  if (at_spend) *at_spend = *q;
  return true;
}

book_sums sums_of(const pricing& p) {
  book_sums s;
  if (p.model != pricing_model::order_book || !usable(p)) return s;
  s.whole.reserve(p.book.levels.size());
  while (extend_sums(p, s)) continue;
  return s;
}

spend_bounds bounds_of(const pricing& p) { return bounds_of(p, p.available); }

spend_bounds bounds_of(const pricing& p, const std::optional<decimal>& available) {
  spend_bounds b;
  b.low = std::max(p.min_spend, spend_unit(p));
  const auto lower_high = [&](decimal value, price_failure why) {
    if (!b.high || value < *b.high) {
      b.high = value;
      b.high_reason = why;
    }
  };
  if (p.max_spend) lower_high(*p.max_spend, price_failure::max_spend);
  if (available) lower_high(*available, price_failure::balance);
  // A spend is rounded down to the unit before it prices: below the least multiple of the unit
  // at or above a minimum, it prices below the minimum, and above the greatest one at or below
  // a maximum it spends no more than that multiple.
  const auto at_unit = [&] {
    const decimal unit = spend_unit(p);
    if (auto up = b.low.try_round_to_increment(unit, rounding::up)) b.low = *up;
    if (b.high) b.high = b.high->try_round_to_increment(unit, rounding::down).value_or(*b.high);
    return b;
  };
  if (p.model == pricing_model::order_book) {
    if (!p.book.levels.empty()) lower_high(book_capacity(p), price_failure::depth);
    return at_unit();
  }
  if (!p.rate_receive.is_positive()) return at_unit();
  if (p.min_receive.is_positive()) {
    auto low = p.min_receive.try_mul_div(p.rate_spend, p.rate_receive, rounding::up);
    if (low) b.low = std::max(b.low, *low);
  }
  if (p.max_receive) {
    // The largest spend whose gross stays within max_receive (gross is rounded down).
    auto high = p.max_receive->try_mul_div(p.rate_spend, p.rate_receive, rounding::down);
    if (high) lower_high(*high, price_failure::max_receive);
  }
  return at_unit();
}

pricing worst_case(const pricing& p) {
  pricing w = p;
  if (p.firm || !p.slippage_percent.is_positive()) return w;
  const decimal worse = hundred - p.slippage_percent;
  const decimal better = hundred + p.slippage_percent;
  if (p.model != pricing_model::order_book) {
    auto r = p.rate_receive.try_mul_div(worse, hundred, rounding::down);
    w.rate_receive = r && r->is_positive() ? *r : decimal::from_raw(1);
    return w;
  }
  const bool buy = p.book.side == book_side::buy;
  for (book_level& level : w.book.levels) {
    auto moved =
        level.price.try_mul_div(buy ? better : worse, hundred, buy ? rounding::up : rounding::down);
    if (moved) level.price = *moved;
  }
  return w;
}

}  // namespace swaprouter
