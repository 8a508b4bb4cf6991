// OxaPay client: request building, indicative quotes, and the venue.
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

#include "adapters/oxapay/parse.hpp"
#include "adapters/oxapay/wire.hpp"
#include "engine/circuit_breaker.hpp"
#include "engine/decimal.hpp"
#include "engine/http.hpp"
#include "engine/result.hpp"
#include "engine/single_flight.hpp"
#include "engine/venue.hpp"

namespace swaprouter::oxapay {

/// GET /general/swap filters; unset ones are not sent (order as declared).
struct history_params {
  std::optional<std::string> track_id;
  std::optional<std::string> from_currency;
  std::optional<std::string> to_currency;
  std::optional<wall_time> from_date;  ///< sent as unix seconds
  std::optional<wall_time> to_date;
  std::optional<int> page;
  std::optional<int> size;
};

/// Builds the exact requests OxaPay expects: headers Accept, Content-Type (POST) and
/// general_api_key in that order; compact JSON bodies with amounts as JSON numbers written from
/// the exact decimal text. Pure; never prints the key.
class request_builder {
 public:
  explicit request_builder(std::string api_key);

  result<http_request> swap(std::string_view from, std::string_view to, decimal amount) const;
  result<http_request> calculate(std::string_view from, std::string_view to, decimal amount) const;
  result<http_request> rate(std::string_view from, std::string_view to) const;
  http_request pairs(int page) const;
  result<http_request> history(const history_params& params) const;
  http_request balance() const;

 private:
  http_request make(std::string_view method, std::string target, std::string body) const;
  std::string api_key_;
};

/// The engine's quote of spending `amount` on the pair `code` (what price() answers): indicative,
/// the fee inside the rate (VENUES.md 3.2), `gross` the receive OxaPay answered and the net that
/// rounded down to `precision`. Pure.
quote quote_of(std::string_view code, std::string_view spend_asset, std::string_view receive_asset,
               decimal amount, decimal gross, int precision, wall_time obtained_at);

struct client_options {
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(10);
  /// Decimal places sent and expected for every currency (the API documents none).
  int precision = wire::amount_places;
  /// price() refreshes the cached pairs when older than this.
  std::chrono::steady_clock::duration pairs_max_age = std::chrono::minutes(5);
  /// directions() reads at most this many pages of the pairs; a listing with more is an error.
  int pairs_max_pages = 20;
  /// find() looks this far back before the first ambiguous submit it knows of (or now).
  std::chrono::milliseconds find_window{std::chrono::minutes(10)};
  int find_max_pages = 10;
  circuit_breaker_config circuit;
};

using client_clocks = venue_clocks;

/// The OxaPay venue (VENUES.md Part 1 "OxaPay"). directions() from GET /general/swap/pairs, every
/// page up to pairs_max_pages (a listing running past them is bad_response, never a short list);
/// price() from POST /general/swap/calculate (indicative: no id, no expiry, the fee inside the
/// rate), or rate x amount from POST /general/swap/rate when calculate answers 429 (that 429 is
/// treated as the endpoint's own limit and does not open the circuit); submit() is
/// POST /general/swap, final at once; status() reads the history by track_id.
///
/// POST /general/swap has no idempotency key: anything but a 2xx swap, a 400 envelope naming an
/// error (validation, below minimum, insufficient balance, currency), a 401 or a 429 is
/// unknown_outcome and is never resent. find() then searches the history by pair and time and
/// adopts the swap whose from_amount matches, that no earlier submit returned and that `held`
/// does not give to another leg; two candidates are bad_response ("inconsistent").
///
/// Not thread-safe: use from the executor of the http_client, which must outlive it.
class client final : public venue {
 public:
  client(http_client& http, std::string api_key, client_options options = {},
         client_clocks clocks = {});

  std::string_view id() const override { return provider_id; }
  venue_traits traits() const override;
  task<result<std::vector<direction>>> directions() override;
  task<result<quote>> price(const quote_request& request) override;
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override;
  task<result<leg_status>> status(const leg_ref& ref) override;
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override;
  /// OxaPay swaps are final at once: invalid_argument.
  task<result<leg_status>> cancel(const leg_ref& ref) override;
  task<result<std::vector<balance>>> balances() override;

  circuit_state circuit() const noexcept { return circuit_.state(); }
  /// Quote 429s do not open the circuit but count here; OxaPay measures no clock offset.
  venue_health health() const override {
    return {circuit_.state(), std::nullopt, circuit_.rate_limited_count() + quote_rate_limited_};
  }

 private:
  enum class call_kind : std::uint8_t { read, execute, quote };
  task<result<http_response>> call(std::string_view endpoint, const result<http_request>& request,
                                   call_kind kind);
  std::unexpected<error> cut_listing() const;

  http_client& http_;
  request_builder builder_;
  client_options options_;
  client_clocks clocks_;
  circuit_breaker circuit_;
  std::uint64_t quote_rate_limited_ = 0;  // 429s of the quote endpoint (not in the circuit)
  std::vector<direction> directions_;
  std::optional<std::chrono::steady_clock::time_point> directions_at_;
  bool pairs_cut_ = false;       // the last listing ran past pairs_max_pages
  single_flight pairs_refresh_;  // price()'s listing of the pairs, for overlapping calls
  std::map<client_id, wall_time> ambiguous_since_;
  std::set<std::string> known_swaps_;
};

}  // namespace swaprouter::oxapay
