// KIIEX (AlphaPoint APEX) response parsing: JSON bodies -> plain values, every field validated.
// Keys are matched ignoring ASCII case (APEX 3 camelCase vs APEX 4 PascalCase, VENUES.md 1.1),
// enums are read as numbers or names, and every number is read from its text as an exact decimal
// (RapidJSON kParseNumbersAsStringsFlag through engine/json_read.hpp), never through double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/kiiex/wire.hpp"
#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter::kiiex {

/// The venue id of KIIEX in the engine.
inline constexpr std::string_view provider_id = "kiiex";

/// Bodies longer than this are refused before parsing.
inline constexpr std::size_t max_body_bytes = 4u << 20;

/// AuthenticateUser answer. `authenticated` false is a value (a refused login), not a parse error.
struct login_answer {
  bool authenticated = false;
  bool locked = false;
  bool requires_2fa = false;
  std::string session_token;
  std::int64_t user_id = 0;
  std::int64_t account_id = 0;
  std::int64_t oms_id = 0;
  std::string errormsg;  ///< bounded printable excerpt
};

/// The generic response {result, errormsg, errorcode, detail}.
struct generic_answer {
  bool result = false;
  std::string errormsg;
  std::int64_t errorcode = 0;
  std::string detail;
};

struct instrument {
  std::int64_t instrument_id = 0;
  std::string symbol;
  std::int64_t product1 = 0;
  std::string product1_symbol;  ///< base
  std::int64_t product2 = 0;
  std::string product2_symbol;  ///< quote
  std::string session_status;
  decimal quantity_increment;
  decimal price_increment;
  decimal minimum_quantity;
  bool disabled = false;
};

struct product {
  std::int64_t product_id = 0;
  std::string symbol;
  int decimal_places = 8;
  bool no_fees = false;
  bool disabled = false;
};

/// GetLevel1's best bid and offer. A side with no level has price and size 0: APEX sends its price
/// as decimal.MaxValue (wire::level1_field::no_level_price, VENUES.md 1.1) or 0.
struct level1 {
  std::int64_t instrument_id = 0;
  decimal best_bid;
  decimal best_offer;
  decimal bid_qty;
  decimal ask_qty;
};

/// One price level of a book side: the engine's (engine/pricing.hpp), so that a parsed side
/// becomes the planner's book without a copy.
using book_level = swaprouter::book_level;

/// A GetL2Snapshot answer as two sides, best first: bids by descending price, asks ascending.
/// Entries with ActionType 2 (delete) or a zero quantity are dropped; equal prices are merged.
struct order_book {
  std::int64_t instrument_id = 0;
  std::vector<book_level> bids;
  std::vector<book_level> asks;
};

/// One GetLevel1SummaryMin row (indicative only, never used to decide).
struct level1_summary {
  std::int64_t instrument_id = 0;
  std::string symbol;
  decimal last_traded_px;
  decimal rolling_24h_px_change;
  decimal rolling_24h_px_change_percent;
  decimal rolling_24h_volume;
};

struct order_fee {
  decimal fee;
  std::int64_t product_id = 0;
};

/// SendOrder answer: Accepted with an OrderId, or Rejected with errormsg/errorcode.
struct send_order_answer {
  bool accepted = false;
  std::int64_t order_id = 0;
  std::string errormsg;
  std::int64_t errorcode = 0;
};

/// The order object of GetOrderStatus, GetOpenOrders and GetOrdersHistory.
struct order {
  std::int64_t order_id = 0;
  std::int64_t client_order_id = 0;
  std::int64_t instrument_id = 0;
  std::int64_t account_id = 0;
  wire::side side = wire::side::buy;
  std::string order_type;  ///< the name ("Market") of a known type sent as name or number
  /// nullopt for a state the client does not know: not final, alarmed.
  std::optional<wire::order_state> state;
  std::string state_text;
  decimal price;
  decimal quantity;  ///< remaining
  decimal orig_quantity;
  decimal quantity_executed;
  decimal gross_value_executed;
  decimal avg_price;
  std::string change_reason;
  std::string reject_reason;
};

/// One GetTradesHistory element.
struct trade {
  std::int64_t trade_id = 0;
  std::int64_t order_id = 0;
  std::int64_t client_order_id = 0;
  std::int64_t instrument_id = 0;
  wire::side side = wire::side::buy;
  decimal quantity;
  decimal price;
  decimal value;
  decimal fee;
  std::int64_t fee_product_id = 0;
  std::string maker_taker;
  std::int64_t trade_time_ms = 0;
};

/// One GetAccountPositions element.
struct position {
  std::int64_t product_id = 0;
  std::string product_symbol;
  decimal amount;  ///< total, Hold included
  decimal hold;
  decimal pending_deposits;
  decimal pending_withdraws;
};

// The parse_* functions fail with kind bad_response and a message naming the field
// ("instruments[1].QuantityIncrement: ...") that carries at most a short printable excerpt of the
// body. All are pure and thread-safe, and none throws or recurses on any input.

result<login_answer> parse_login(std::string_view body);
/// The generic shape when `body` is an object with a boolean "result" (any key casing); nullopt
/// for any other body.
std::optional<generic_answer> parse_generic(std::string_view body);
result<std::vector<instrument>> parse_instruments(std::string_view body);
result<instrument> parse_instrument(std::string_view body);
result<std::vector<product>> parse_products(std::string_view body);
result<level1> parse_level1(std::string_view body);
result<order_book> parse_l2_snapshot(std::string_view body, std::int64_t instrument_id);
result<std::vector<level1_summary>> parse_level1_summary_min(std::string_view body);
result<order_fee> parse_order_fee(std::string_view body);
result<send_order_answer> parse_send_order(std::string_view body);
/// GetOrderStatus: a bare order object, or the same wrapped in a one-element array (KIIDOC yaml;
/// VENUES.md 1.4 "accept both").
result<order> parse_order_status(std::string_view body);
result<std::vector<order>> parse_orders(std::string_view body);
result<std::vector<trade>> parse_trades(std::string_view body);
result<std::vector<position>> parse_positions(std::string_view body);

}  // namespace swaprouter::kiiex
