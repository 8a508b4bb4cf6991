// 001k response parsing: JSON bodies -> engine values, every field validated.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter::onek {

/// The venue id of 001k in the engine (identifiers cannot start with a digit).
inline constexpr std::string_view provider_id = "onek";

/// Bodies longer than this are refused before parsing (a 200-swap list is about 200 KB).
inline constexpr std::size_t max_body_bytes = 4u << 20;
/// Arrays and objects nested deeper than this are refused while parsing (001k answers nest 3).
inline constexpr int max_json_depth = 32;

/// A 001k swap object with every field the client reads. Pure value.
struct swap {
  std::string code;
  std::string custom_id;  ///< empty when absent or null
  std::string direction;
  std::string spend_currency;
  std::string receive_currency;
  decimal spend_amount;
  decimal receive_amount;        ///< gross, before the fee
  std::string amount_parameter;  ///< "spend", "receive" or empty when absent
  decimal fee_amount;
  std::string fee_currency;
  decimal spend_filled;  ///< 0 when absent (the seed's open sample has no *_filled fields)
  decimal receive_filled;
  decimal spend_fee_filled;
  decimal receive_fee_filled;
  bool fills_reported = false;        ///< spend_filled and receive_filled were both present
  bool receive_fee_reported = false;  ///< receive_fee_filled was present (not null)
  std::string status;
  std::string reason_code;
  std::string reason_message;
  wall_time created_at{};
  std::optional<wall_time> valid_till;  ///< valid_till, else expires_at
  std::optional<wall_time> done_at;
  std::optional<wall_time> cancel_requested_at;
};

/// The error answer as far as it could be read. Never fails: a body that is not the project's
/// {"code","message"} shape gives an empty code and a short printable excerpt as the message.
struct provider_error {
  std::string code;
  std::string message;
};

/// ISO 8601 date-time as 001k sends it: "2023-01-15T14:30:15Z", with optional fractional seconds
/// (up to nanoseconds kept, further digits ignored) and "Z" or a "+hh:mm" / "-hhmm" offset. A time
/// without a zone is refused (it cannot be placed). Errors are invalid_argument.
result<wall_time> parse_timestamp(std::string_view text);

/// Formats as "2023-01-15T14:30:15Z", with ".mmm" when the time has milliseconds.
std::string format_timestamp(wall_time time);

// The parse_* functions below fail with kind bad_response and a message naming the field
// ("swap_directions[1].fee_percent: ...") that carries at most a short printable excerpt of the
// body. All are pure and thread-safe, and none throws or recurses on any input.

/// GET /status: {"timestamp": <ms>} -> the provider's clock.
result<wall_time> parse_status(std::string_view body);
/// GET /swap-directions: array of directions (extra fields ignored).
result<std::vector<direction>> parse_directions(std::string_view body);
/// One swap object (POST /swap/open, /swap/cancel, GET /swap/{code}).
result<swap> parse_swap(std::string_view body);
/// GET /swap: array of swap objects.
result<std::vector<swap>> parse_swap_list(std::string_view body);
/// GET /balance: array of {currency, available, frozen, updated_at}.
result<std::vector<balance>> parse_balances(std::string_view body);
/// Any non-2xx body.
provider_error parse_error_body(std::string_view body);

/// The engine's state for a 001k swap. open -> open; success -> filled, or partially_filled when
/// the provider reports both spend_filled < spend_amount and receive_filled < receive_amount
/// (001k swaps are all-or-nothing, so that only happens on a settlement the engine must alarm on;
/// reporting it as partial keeps the accounting on what the provider says it executed); failed ->
/// partially_filled when it reports a spend or receive filled (money moved), else expired /
/// cancelled by reason_code, failed otherwise; any other status -> unrecognised.
leg_state map_state(const swap& s);

/// The part of the swap's fee_amount taken from the receive: all of it when fee_currency is the
/// receive currency or absent (VENUES.md 001k: the fee comes off the gross receive), none when
/// the fee is charged in another currency (the spend). Pure.
decimal receive_fee(const swap& s);

/// The engine's view of a swap: ref = {code, custom_id}; fee_filled is receive_fee_filled, the
/// fee taken from receive_filled (the engine's net is their difference; a spend-currency fee,
/// spend_fee_filled, does not lower it). A success without *_filled fields reports the swap's
/// own amounts and receive_fee() as filled (all-or-nothing). Fills without receive_fee_filled
/// take receive_fee()'s share of receive_filled / receive_amount, rounded up.
leg_status to_leg_status(const swap& s);

}  // namespace swaprouter::onek
