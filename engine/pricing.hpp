// The normalised pricing model of one provider direction (DESIGN.md s.3 "One normalised quote").
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

/// One price level of an order book.
struct book_level {
  decimal price;     ///< quote asset per unit of base asset
  decimal quantity;  ///< base asset available at this price
};

/// Which side of the book the taker hits. The base asset is the one `quantity` counts.
/// - buy: the taker spends the quote asset and receives the base; levels are asks, best (lowest
///   price) first; per level the taker spends price x quantity and receives quantity.
/// - sell: the taker spends the base asset and receives the quote; levels are bids, best (highest
///   price) first; per level the taker spends quantity and receives price x quantity.
enum class book_side : std::uint8_t { buy, sell };

/// An order book ladder as the taker walks it (KIIEX). Quantities taken per level are multiples
/// of quantity_increment (of a quantity off it, the part on it); the value of each fill is
/// rounded to the quote asset's precision (up when the taker buys, down when it sells: the venue
/// never gives a fraction away) and the fee of each fill is rounded up to the received asset's
/// precision (VENUES.md KIIEX, adapters/kiiex).
struct order_book {
  book_side side = book_side::buy;
  std::vector<book_level> levels;
  decimal quantity_increment;
};

/// Everything the planner needs to price one provider direction for any amount: the pricing
/// model, precision, limits, fees, rate or book, balance, validity and execution latency. A plain
/// value, safe to copy between threads.
struct pricing {
  std::string provider;
  std::string direction_code;
  std::string spend_asset;
  std::string receive_asset;
  pricing_model model = pricing_model::rate_table;

  int spend_precision = 8;                   ///< decimal places of the spend amount
  int receive_precision = 8;                 ///< decimal places of the receive amount
  std::optional<decimal> spend_increment;    ///< the spend is a multiple of it, when set
  std::optional<decimal> receive_increment;  ///< the net receive is a multiple of it, when set

  decimal min_spend;
  std::optional<decimal> max_spend;
  decimal min_receive;                 ///< on the gross receive
  std::optional<decimal> max_receive;  ///< on the gross receive

  decimal fee_percent;  ///< "0.25" = 0.25 % of the gross receive, in the receive asset
  decimal fee_fixed;    ///< an absolute fee per swap, in the receive asset

  /// Rate proportion (rate_table, firm_quote, indicative): spending rate_spend yields
  /// rate_receive gross. A firm quote carries its from_amount and to_amount here.
  decimal rate_spend = decimal::from_int(1);
  decimal rate_receive;
  order_book book;  ///< order_book model only

  /// The spend asset available at this provider; unset means not bounded by a balance.
  std::optional<decimal> available;

  wall_time obtained_at{};               ///< provider clock
  std::optional<wall_time> valid_until;  ///< provider clock; none for rate tables and indicative
  bool firm = false;                     ///< binding price for quoted_spend until valid_until
  std::string quote_id;
  std::optional<decimal> quoted_spend;  ///< the amount a firm quote is binding for
  /// The provider fixes the receive amount itself (001k receive_amount): exact-receive prices
  /// follow its rule instead of searching the smallest spend.
  bool exact_receive = false;

  std::chrono::milliseconds execution_p95{0};  ///< the provider's recent p95 execution latency
  /// Worst adverse price move assumed for a non-firm price, in percent of the rate.
  decimal slippage_percent;
};

/// Which rule a price broke.
enum class price_failure : std::uint8_t {
  invalid,       ///< unusable model (zero rate, bad precision, empty book, negative amount)
  precision,     ///< the amount rounds to zero at the provider's precision or increment
  min_spend,     ///< amount = spend, limit = min_spend
  max_spend,     ///< amount = spend, limit = max_spend
  min_receive,   ///< amount = gross, limit = min_receive
  max_receive,   ///< amount = gross, limit = max_receive
  depth,         ///< amount = spend asked, limit = what the book can take
  balance,       ///< amount = spend, limit = available
  zero_receive,  ///< the fees take the whole receive
  overflow,      ///< arithmetic beyond the decimal range
};

std::string_view to_string(price_failure failure) noexcept;

/// Why a price failed, cheap to build (no allocation): the rule, the amount that broke it and the
/// limit it broke.
struct price_error {
  price_failure reason = price_failure::invalid;
  decimal amount;
  decimal limit;
};

/// "max_spend: spend 12 above 10" style text.
std::string describe(const price_error& e);

template <class T>
using priced = std::expected<T, price_error>;

/// Every figure of one price. All amounts are at the provider's precision except gross and fee,
/// which are what the provider reports (001k keeps them exact).
struct price {
  decimal spend;      ///< spend actually used (at most the amount asked on the spend side)
  decimal gross;      ///< receive before fees
  decimal fee;        ///< percent fee + fixed fee, in the receive asset
  decimal net;        ///< what is credited
  int levels = 0;     ///< order-book levels consumed (0 for the other models)
  bool firm = false;  ///< binding: a firm quote priced for exactly its quoted amount
};

/// How a walk of an order book rounds and charges (KIIEX: an instrument's QuantityIncrement, its
/// products' DecimalPlaces and the taker fee).
struct book_rules {
  decimal quantity_increment;  ///< base quantities taken are multiples of it (> 0)
  int base_places = 8;
  int quote_places = 8;
  decimal fee_percent;  ///< of what the taker receives
};

/// How far a walk may go: at most `quantity` base and at most `value` quote. An unset bound does
/// not apply; at least one must be set.
struct book_bounds {
  std::optional<decimal> quantity;
  std::optional<decimal> value;
};

/// One execution against one level, rounded as documented at order_book.
struct book_fill {
  decimal price;
  decimal quantity;  ///< base
  decimal value;     ///< quote
  decimal fee;       ///< in the received asset
};

/// A percent fee: `fee_percent` of `received`, rounded up to `places` (18: unrounded). How every
/// model and a book's fills charge it; fails beyond the decimal range (overflow). Pure.
priced<decimal> percent_fee(decimal fee_percent, decimal received, int places);

/// What a walk took, summed over its fills.
struct book_taken {
  decimal quantity;  ///< base
  decimal value;     ///< quote
  decimal fee;       ///< in the received asset
  int levels = 0;    ///< levels with a fill
  /// A bound was reached, or what it leaves could not take one more increment at the last
  /// level's price: the book had the depth.
  bool complete = false;
  /// The walk took every level whole without reaching a bound (the levels ran out first).
  bool exhausted = false;
};

/// The one book walk: the planner prices order books with it (price_spend, price_receive), the
/// KIIEX adapter quotes and its emulator fills with it (adapters/kiiex/book.hpp). Walks `levels`
/// (the opposite side, best first) for a taker on `side`, within `bounds`, as documented at
/// order_book; appends each fill to `fills` when given. Fails on bad rules or bounds (invalid) or
/// arithmetic beyond the decimal range (overflow). Pure and thread-safe.
priced<book_taken> walk_book(book_side side, std::span<const book_level> levels,
                             const book_rules& rules, const book_bounds& bounds,
                             std::vector<book_fill>* fills = nullptr);

/// An order book's levels taken whole, summed once per pricing value (sums_of): a walk that takes
/// its first k levels whole starts from their sums at level k, a binary search instead of k exact
/// takes, with the same figures. Only for the pricing it was made from.
struct book_sums {
  struct level {
    /// The least amount for which a walk takes this level and every one before it whole.
    decimal reach;
    decimal spent;  ///< what those levels spend, receive and charge in fees, summed
    decimal received;
    decimal fee;
  };
  /// whole[i]: levels 0..i; ends before the first level a walk could take in part whatever the
  /// amount (a quantity off the increment) or whose figures would not fit.
  std::vector<level> whole;
  /// Buy books: the sums serve only amounts below it (dividing one by a level's price fits).
  std::optional<decimal> below;
};

/// The whole-level sums of p's book; empty for another model or an unusable pricing.
book_sums sums_of(const pricing& p);

/// Prices spending `spend` (rounded down to the spend precision and increment). Rate models:
/// gross = spend x rate_receive / rate_spend rounded down to 18 places; fee = fee_percent of the
/// gross rounded up to 18 places (001k reports it exact) plus fee_fixed; net = gross - fee rounded
/// down to receive_precision and receive_increment. Order books: walked as documented at
/// order_book, fee_fixed once per swap. Limits: min/max spend on the spend used, min/max receive
/// on the gross, available on the spend used. Pure and thread-safe.
priced<price> price_spend(const pricing& p, decimal spend);
/// As above with `available` in place of p.available (the router's view of the balance), and
/// `sums`, when given, sums_of(p) (the same price, sooner).
priced<price> price_spend(const pricing& p, decimal spend, const std::optional<decimal>& available,
                          const book_sums* sums = nullptr);

/// Prices receiving at least `net` (rounded up to the receive precision): the smallest spend
/// whose net covers it. With exact_receive on a rate table, the provider's rule instead (001k):
/// the smallest gross at receive_precision whose net covers it, and a spend of gross x
/// rate_spend / rate_receive rounded up to the spend precision. Pure and thread-safe.
priced<price> price_receive(const pricing& p, decimal net);
priced<price> price_receive(const pricing& p, decimal net, const std::optional<decimal>& available,
                            const book_sums* sums = nullptr);

/// Whether price_receive(p, net, available) cannot answer more than `spend`: spending `spend`
/// nets at least `net` (rounded up as price_receive rounds it) and p's exact-receive price is
/// the least covering spend (a rate model without the provider's own rule, or a sell book), so
/// that price answers at most `spend` or fails. One price instead of a search, for a caller that
/// only needs the larger of the two. When it answers true and `at_spend` is given, *at_spend is
/// the price it made: price_spend(p, spend, available, sums).
bool receive_within(const pricing& p, decimal net, decimal spend,
                    const std::optional<decimal>& available, const book_sums* sums = nullptr,
                    price* at_spend = nullptr);

/// The spend interval in which p can price at all as far as its limits, balance, depth and
/// precision tell without pricing (both ends multiples of spend_unit; the exact price may still
/// fail at the edges by rounding), and which rule bounds it from above (max_spend, max_receive,
/// balance or depth; invalid when none).
struct spend_bounds {
  decimal low;
  std::optional<decimal> high;
  price_failure high_reason = price_failure::invalid;
};
spend_bounds bounds_of(const pricing& p);
spend_bounds bounds_of(const pricing& p, const std::optional<decimal>& available);

/// One unit of the last place of the spend (the increment when set, else 10^-spend_precision).
decimal spend_unit(const pricing& p);
/// One unit of the last place of the net receive.
decimal receive_unit(const pricing& p);

/// The same pricing after its worst assumed adverse move: rates and book prices worse by
/// slippage_percent. A firm quote (firm and priced for its amount) does not move. Pure.
pricing worst_case(const pricing& p);

}  // namespace swaprouter
