#include "engine/venue.hpp"

#include <fmt/format.h>

#include <utility>

namespace swaprouter {

error unread_history(std::string_view provider, int pages) {
  error e;
  e.kind = error_kind::bad_response;
  e.message = fmt::format(
      "{}: the history in the window runs past the {} pages read: nothing "
      "concluded",
      provider, pages);
  return e;
}

bool is_final(leg_state state) noexcept {
  switch (state) {
    case leg_state::open:
    case leg_state::unrecognised:
      return false;
    default:
      return true;
  }
}

std::string_view to_string(amount_side side) noexcept {
  return side == amount_side::spend ? "spend" : "receive";
}

std::string_view to_string(leg_state state) noexcept {
  switch (state) {
    case leg_state::open: return "open";
    case leg_state::filled: return "filled";
    case leg_state::partially_filled: return "partially_filled";
    case leg_state::expired: return "expired";
    case leg_state::cancelled: return "cancelled";
    case leg_state::failed: return "failed";
    case leg_state::unrecognised: return "unrecognised";
  }
  return "unrecognised";
}

pricing quote_pricing(quote q, decimal asked) {
  pricing p;
  p.provider = std::move(q.provider);
  p.direction_code = std::move(q.direction_code);
  p.spend_asset = std::move(q.spend_asset);
  p.receive_asset = std::move(q.receive_asset);
  p.model = q.model;
  p.spend_precision = decimal::scale;
  // A provider that priced the amount rounded down to its precision (a firm quote for 123.456789
  // when asked for 123.456789123) has that precision: the planner rounds the same way and leaves
  // the dust unspent instead of finding the whole amount above the quote (DESIGN.md s.3).
  if (q.spend_amount < asked) {
    for (int places = 0; places < decimal::scale; ++places) {
      if (asked.round(places, rounding::down) == q.spend_amount) {
        p.spend_precision = places;
        break;
      }
    }
  }
  p.receive_precision = decimal::scale;
  // The fee is inside the proportion, and the model holds only for the amount priced: the planner
  // may neither stretch it beyond that amount nor give it a sliver of a split.
  p.rate_spend = q.spend_amount;
  p.rate_receive = q.receive_net;
  p.min_spend = q.spend_amount;
  p.max_spend = q.spend_amount;
  p.firm = q.firm;
  p.quote_id = std::move(q.quote_id);
  if (q.firm) p.quoted_spend = q.spend_amount;
  p.obtained_at = q.obtained_at;
  p.valid_until = q.valid_until;
  return p;
}

task<result<pricing>> venue::pricing_for(const quote_request& request) {
  // Read before the first suspension: the caller's request may not outlive it.
  const decimal asked = request.amount;
  auto answer = co_await price(request);
  if (!answer) co_return std::unexpected(std::move(answer.error()));
  co_return quote_pricing(std::move(*answer), asked);
}

}  // namespace swaprouter
