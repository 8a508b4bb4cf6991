// Provider-neutral values the engine exchanges with providers: directions, quotes, legs and their
// states, balances. No I/O; see engine/venue.hpp for the provider interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"

namespace swaprouter {

using wall_time = std::chrono::system_clock::time_point;

/// Which side of a swap an amount fixes: what we spend, or what we receive.
enum class amount_side : std::uint8_t { spend, receive };

/// "spend" or "receive", as the journal, the status and the control API write it.
std::string_view to_string(amount_side side) noexcept;

/// How a provider prices: a rate table (001k), a firm quote with an id and expiry (StableStack),
/// an order book walked for the amount (KIIEX), or an indicative rate (OxaPay).
enum class pricing_model : std::uint8_t { rate_table, firm_quote, order_book, indicative };

/// A swap direction a provider offers, with its limits, precision and pricing as last read.
struct direction {
  std::string provider;
  std::string code;  ///< the provider's identifier (001k "BTC-USDT", a KIIEX instrument id, ...)
  std::string spend_asset;
  std::string receive_asset;
  bool enabled = false;
  int spend_precision = 8;    ///< decimal places accepted for the spend amount
  int receive_precision = 8;  ///< decimal places of the receive amount
  decimal fee_percent;        ///< "0.25" = 0.25 % of the gross receive
  decimal min_spend;
  std::optional<decimal> max_spend;
  decimal min_receive;  ///< applies to the gross receive (VENUES.md, 001k)
  std::optional<decimal> max_receive;
  /// Rate proportion: spending spend_rate_value yields receive_rate_value gross.
  decimal spend_rate_value;
  decimal receive_rate_value;
};

/// Ask for a price: spend exactly `amount` of spend_asset, or receive exactly `amount`.
struct quote_request {
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal amount;
};

/// One provider's answer to "spend s of A: how much B net of every fee, within which limits,
/// precision and validity?" Every amount is already rounded to the provider's precision toward
/// the safe side (spend and receive down).
struct quote {
  std::string provider;
  std::string direction_code;
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal spend_amount;   ///< what we spend
  decimal receive_gross;  ///< before the fee
  decimal fee;            ///< in fee_asset
  std::string fee_asset;
  decimal receive_net;  ///< what we receive
  pricing_model model = pricing_model::rate_table;
  bool firm = false;
  std::string quote_id;  ///< firm quotes only
  wall_time obtained_at{};                ///< on the provider's clock
  std::optional<wall_time> valid_until;  ///< on the provider's clock; none for indicative prices
};

/// A leg to execute at one provider.
struct leg {
  std::string provider;
  std::string direction_code;
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal amount;       ///< spend or receive amount, per `side`, at the provider's precision
  decimal min_receive;  ///< worst acceptable net receive
  std::string quote_id;
  std::chrono::milliseconds time_to_live{30000};
};

/// Our idempotency key for a leg: deterministic from intent, leg and attempt.
using client_id = std::string;

/// How a submitted leg is found again at its provider.
struct leg_ref {
  std::string provider_ref;  ///< the provider's id (001k swap code, KIIEX OrderId, ...)
  client_id client;
};

/// A provider's view of a leg, mapped to engine terms.
enum class leg_state : std::uint8_t {
  open,              ///< accepted, not final
  filled,            ///< final: fully executed
  partially_filled,  ///< final: executed in part
  expired,           ///< final: time-to-live passed, nothing executed
  cancelled,         ///< final: cancelled, nothing executed
  failed,            ///< final: failed (see reason)
  unrecognised,      ///< a status string we do not know: treated as not final, alarmed
};

bool is_final(leg_state state) noexcept;
std::string_view to_string(leg_state state) noexcept;

struct leg_status {
  leg_ref ref;
  leg_state state = leg_state::open;
  std::string provider_status;  ///< the raw status string, for logs and alarms
  std::string direction_code;
  decimal spend_amount;
  decimal receive_amount;
  /// What the account paid in the spend asset: what it traded plus a fee charged in the spend
  /// asset (spend_fee_filled), so that what is left of the amount is amount - spend_filled.
  decimal spend_filled;
  decimal spend_fee_filled;  ///< the fee inside spend_filled (KIIEX: fee product = the one given)
  decimal receive_filled;    ///< gross, in the receive asset
  decimal fee_filled;        ///< taken from receive_filled: the net is their difference
  std::string reason_code;
  std::string reason_message;
  wall_time created_at{};
  std::optional<wall_time> valid_until;
  std::optional<wall_time> cancel_requested_at;
};

struct balance {
  std::string asset;
  decimal available;
  decimal frozen;
};

/// What a provider can do.
struct venue_traits {
  bool firm_quotes = false;    ///< quotes carry an id and a binding price
  bool cancel = false;         ///< an open swap can be cancelled
  bool client_id = false;      ///< the provider deduplicates by our client id
  bool exact_receive = false;  ///< a swap can fix the receive amount
};

}  // namespace swaprouter
