// Walking one side of a KIIEX order book: the arithmetic the client prices with and the emulator's
// matching engine fills with, so a quote on a still book equals the fill exactly.
#pragma once

#include <optional>
#include <vector>

#include "adapters/kiiex/parse.hpp"
#include "adapters/kiiex/wire.hpp"
#include "engine/decimal.hpp"
#include "engine/pricing.hpp"
#include "engine/result.hpp"

namespace swaprouter::kiiex {

/// What fixes the arithmetic of a fill on one instrument: QuantityIncrement, Product1 and
/// Product2 DecimalPlaces, the taker fee percent.
using trade_rules = book_rules;

/// One execution against one price level (project rules; the emulator fills by the same code):
/// value = price x quantity rounded to quote_places (up when the order buys, down when it sells:
/// the venue never gives away a fraction), fee = fee_percent of the received product rounded up
/// to its places (base for a buy, quote for a sell).
using book_fill = swaprouter::book_fill;

/// How far a walk may go: at most `quantity` base, at most `value` quote (a market order by
/// Value, or a spend amount), never beyond `limit_price` (a buy takes asks <= it, a sell bids >=
/// it). Unset bounds do not apply; at least one of quantity and value must be set.
struct walk_bounds {
  std::optional<decimal> quantity;
  std::optional<decimal> value;
  std::optional<decimal> limit_price;
};

struct walk_result {
  std::vector<book_fill> fills;
  decimal quantity;  ///< base executed
  decimal value;     ///< quote paid (buy) or received gross (sell)
  decimal fee;       ///< in the received product
  decimal worst_price;
  /// The quantity bound was reached, or the value bound left less than one increment at the
  /// next level's price: the book had enough depth within the limit.
  bool complete = false;
};

/// Walks `levels` (the opposite side, best first) for an order on `side`: the engine's walk
/// (swaprouter::walk_book, which the planner prices with) over the levels within the limit price.
/// Quantities taken are multiples of the increment: a level's quantity off it is taken in its part
/// on it, and the walk goes on. Pure; errors only on arithmetic overflow or bad rules
/// (invalid_argument).
result<walk_result> walk_book(wire::side side, const std::vector<book_level>& levels,
                              const trade_rules& rules, const walk_bounds& bounds);

}  // namespace swaprouter::kiiex
