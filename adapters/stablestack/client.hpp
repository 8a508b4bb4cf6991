// StableStack client: request building, firm quotes with refresh, and the venue.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/stablestack/parse.hpp"
#include "engine/circuit_breaker.hpp"
#include "engine/clock_offset.hpp"
#include "engine/decimal.hpp"
#include "engine/http.hpp"
#include "engine/key_gate.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter::stablestack {

/// GET transaction listing filters; unset ones are not sent (order as declared).
struct list_params {
  std::optional<std::string> status;
  std::optional<std::string> transaction_type;
  std::optional<std::string> transaction_mode;
  std::optional<std::string> currency;
  std::optional<wall_time> start_date;  ///< sent as the UTC date YYYY-MM-DD
  std::optional<wall_time> end_date;
  std::optional<int> page;
  std::optional<int> limit;  ///< 1..100
};

/// Builds the exact requests StableStack expects: headers Accept, Content-Type (POST) and
/// x-api-key in that order, compact JSON bodies with amounts as strings, and customer_id first
/// when a customer scope is set. Pure: no I/O, no clock. Never prints the key. Thread-safe for
/// const use.
class request_builder {
 public:
  request_builder(std::string api_key, std::optional<std::string> customer_id);

  /// POST /api/instant-swaps; invalid_argument for a non-positive amount or unusable currency.
  result<http_request> instant_swap(std::string_view from, std::string_view to,
                                    decimal amount) const;
  /// POST /api/swaps/{id}/refresh with from_amount.
  result<http_request> refresh(std::string_view quote_id, std::string_view from,
                               std::string_view to, decimal amount) const;
  /// POST /api/swaps.
  result<http_request> swap(std::string_view from, std::string_view to, decimal amount) const;
  result<http_request> by_ref_id(std::string_view swap_id) const;
  /// by_customer_id/{customer} with a customer scope, GET /api/transactions without.
  result<http_request> transactions(const list_params& params) const;
  /// GET /api/wallets (project assumption), with ?customer_id= in a customer scope.
  http_request wallets() const;

 private:
  http_request make(std::string_view method, std::string target, std::string body) const;
  result<std::string> body(std::string_view amount_key, std::string_view from, std::string_view to,
                           decimal amount) const;

  std::string api_key_;
  std::optional<std::string> customer_id_;
};

/// The amount text sent: exact decimal, no exponent, no trailing zeros ("20", "0.5").
std::string amount_text(decimal amount);

/// The engine's quote of a parsed firm quote asked for `from` -> `to` (what price() answers): the
/// net receive is to_amount rounded down to `receive_precision`; bad_response ("inconsistent")
/// when the quote is for another pair. Pure.
result<quote> quote_of(firm_quote parsed, std::string_view from, std::string_view to,
                       int receive_precision);

/// Tunables of the StableStack client.
struct client_options {
  /// Act for this customer (customer scope); the merchant's own wallets when unset.
  std::optional<std::string> customer_id;
  /// The swap directions: the API lists none, so they come from configuration (VENUES.md 2.7).
  /// Precisions and limits are used; rates are not (quotes are firm per request).
  std::vector<direction> directions;
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(10);
  /// submit() refreshes a cached quote whose remaining life is shorter than this.
  std::chrono::milliseconds refresh_margin{3000};
  /// find() looks this far back before the first ambiguous submit it knows of (or now).
  std::chrono::milliseconds find_window{std::chrono::minutes(10)};
  /// Listing pages find() reads at most (100 transactions each).
  int find_max_pages = 10;
  circuit_breaker_config circuit;
  clock_offset_config clock;
};

using client_clocks = venue_clocks;

/// The StableStack venue (VENUES.md Part 1 "StableStack"). price() asks for a firm quote
/// (POST /instant-swaps; valid_until = expires_at on the provider clock, whose offset is sampled
/// from each quote's updated_at); submit() executes with POST /swaps within the quote's life,
/// first refreshing a cached quote close to expiry; status() reads both legs by reference id.
///
/// POST /swaps carries no client id, so an outcome that is not a documented answer (2xx with a
/// readable, consistent body; 400/422 with a documented validation code; 401 with a documented
/// token code; 429) is unknown_outcome and is never resent. find() then lists the debit
/// transactions of the spend currency in the time window and adopts the one whose amount matches,
/// that no earlier submit returned and that `held` does not give to another leg; two candidates
/// are bad_response ("inconsistent").
///
/// Error mapping elsewhere: 401/403 -> auth; 400/422 -> rejected; 404 -> not_found; 429 ->
/// rate_limited (and the circuit opens); 5xx -> http_status. The API documents no rate numbers,
/// so the client keeps no local budget; a 429 opens the provider-wide circuit.
///
/// Not thread-safe: use from the executor of the http_client, which must outlive it.
class client final : public venue {
 public:
  client(http_client& http, std::string api_key, client_options options = {},
         client_clocks clocks = {});

  std::string_view id() const override { return provider_id; }
  venue_traits traits() const override;
  /// The configured directions (no request).
  task<result<std::vector<direction>>> directions() override;
  /// A firm quote for spending request.amount (rounded down to the spend precision); the
  /// receive side is invalid_argument (StableStack quotes the from amount).
  task<result<quote>> price(const quote_request& request) override;
  /// POST /swaps for the leg's pair and amount, after refreshing leg.quote_id when close to
  /// expiry or superseded. Answers the state of the two legs (open: PENDING). Quotes of the same
  /// pair and amount (price(), refresh()) wait while a submit of them runs, and a submit waits
  /// for those in flight: the swap executes the latest quote of its pair and amount, which must
  /// be the one it checked.
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override;
  /// GET by_ref_id/{swapId}; no legs -> not_found.
  task<result<leg_status>> status(const leg_ref& ref) override;
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override;
  /// StableStack cannot cancel: invalid_argument.
  task<result<leg_status>> cancel(const leg_ref& ref) override;
  /// GET /wallets (project assumption): balance per currency, nothing frozen.
  task<result<std::vector<balance>>> balances() override;

  /// POST /swaps/{id}/refresh for a quote price() returned: same id, new price and expiry.
  task<result<quote>> refresh(const std::string& quote_id);

  std::optional<std::chrono::milliseconds> clock_offset() const { return clock_.offset(); }
  circuit_state circuit() const noexcept { return circuit_.state(); }
  venue_health health() const override {
    return {circuit_.state(), clock_.offset(), circuit_.rate_limited_count()};
  }

 private:
  enum class call_kind : std::uint8_t { read, execute };

  struct cached_quote {
    std::string from;
    std::string to;
    decimal amount;
    int receive_precision = 8;
    wall_time expires_at{};
    std::uint64_t seq = 0;  // order of the answers: POST /swaps executes the latest quote
  };

  // Requests are passed by reference from a named local (GCC PR 99576).
  task<result<http_response>> call(std::string_view endpoint, const result<http_request>& request,
                                   call_kind kind);
  task<result<quote>> quote_call(std::string_view endpoint, const result<http_request>& request,
                                 const std::string& from, const std::string& to, int precision);
  const direction* find_direction(std::string_view from, std::string_view to) const;
  // refresh() within a turn of the quote's pair and amount.
  task<result<quote>> renew(const std::string& quote_id, const cached_quote& cached);

  http_client& http_;
  request_builder builder_;
  client_options options_;
  client_clocks clocks_;
  circuit_breaker circuit_;
  clock_offset_estimator clock_;
  std::map<std::string, cached_quote> quotes_;
  std::uint64_t quote_seq_ = 0;
  std::map<client_id, wall_time> ambiguous_since_;  // provider time before each ambiguous submit
  std::set<std::string> known_swaps_;               // swap ids submit() was answered with
  key_gate turns_;  // by pair and amount: quotes shared, a swap exclusive
};

}  // namespace swaprouter::stablestack
