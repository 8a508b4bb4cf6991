#include "adapters/kiiex/book.hpp"

#include <cstddef>
#include <span>
#include <utility>

namespace swaprouter::kiiex {

result<walk_result> walk_book(wire::side side, const std::vector<book_level>& levels,
                              const trade_rules& rules, const walk_bounds& bounds) {
  const bool buy = side == wire::side::buy;
  // Levels are best first: those within the limit price are a prefix (a buy takes asks <= it, a
  // sell bids >= it).
  std::size_t within = 0;
  while (within < levels.size() &&
         (!bounds.limit_price || (buy ? levels[within].price <= *bounds.limit_price
                                      : levels[within].price >= *bounds.limit_price))) {
    ++within;
  }
  walk_result out;
  auto taken =
      swaprouter::walk_book(buy ? book_side::buy : book_side::sell, std::span(levels).first(within),
                            rules, book_bounds{bounds.quantity, bounds.value}, &out.fills);
  if (!taken) {
    return fail(error_kind::invalid_argument, "kiiex walk: " + describe(taken.error()));
  }
  out.quantity = taken->quantity;
  out.value = taken->value;
  out.fee = taken->fee;
  if (!out.fills.empty()) out.worst_price = out.fills.back().price;
  // Levels beyond the limit price are left in the book: running out of those within it is no
  // completion, however little the bounds leave.
  out.complete = taken->complete && !(within < levels.size() && taken->exhausted);
  return out;
}

}  // namespace swaprouter::kiiex
