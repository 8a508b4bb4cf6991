// 001k ("onek") client: request building and signing, rate-table pricing, and the venue.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/onek/parse.hpp"
#include "engine/circuit_breaker.hpp"
#include "engine/clock_offset.hpp"
#include "engine/decimal.hpp"
#include "engine/hmac.hpp"
#include "engine/http.hpp"
#include "engine/rate_budget.hpp"
#include "engine/result.hpp"
#include "engine/single_flight.hpp"
#include "engine/venue.hpp"

namespace swaprouter::onek {

/// Prices `request` against one 001k direction (VENUES.md Part 1 "001k"). Spend side: the spend
/// is rounded down to spend_precision; gross = spend * receive_rate_value / spend_rate_value
/// (exact); fee = fee_percent % of the gross (exact, in the receive currency); net = gross - fee
/// rounded down to receive_precision. Receive side: the request's amount is the net wanted; the
/// gross is the smallest at receive_precision whose net covers it (what submit() sends as
/// receive_amount) and the spend is what 001k charges for that gross, gross * spend_rate_value /
/// receive_rate_value rounded up to spend_precision. Limits: min/max_spend_amount on the spend,
/// min/max_receive_amount on the gross; outside them the answer is an error of kind rejected.
/// receive_gross and fee are exact (the provider reports them unrounded), receive_net is rounded
/// and is what the provider credits. valid_until is left empty (a rate table is not a firm
/// quote). Pure and thread-safe.
/// The planner's model of a 001k direction: a rate table with its fee, limits and precision.
pricing pricing_of(const direction& dir, wall_time obtained_at);

/// The direction spend_asset -> receive_asset among 001k's `directions`; rejected ("onek: no
/// direction A -> B") when it lists none. Pure and thread-safe.
result<direction> find_direction(const std::vector<direction>& directions,
                                 std::string_view spend_asset, std::string_view receive_asset);

/// What client::pricing_for answers from `directions` read at `obtained_at` (provider clock): the
/// model of the direction spend_asset -> receive_asset, valid until obtained_at + `valid_for`;
/// rejected when there is no such direction or it is disabled. Pure and thread-safe.
result<pricing> pricing_for_pair(const std::vector<direction>& directions,
                                 std::string_view spend_asset, std::string_view receive_asset,
                                 wall_time obtained_at, wall_time::duration valid_for);

result<quote> price_rate_table(const direction& dir, const quote_request& request,
                               wall_time obtained_at);

/// POST /swap/open parameters. `amount` must be exact at `precision` (the direction's spend or
/// receive precision per `side`): the builder never rounds. On the receive side `amount` is the
/// GROSS receive_amount, before the fee (project decision, see wire.hpp open_field); client::submit
/// converts a leg's net into it.
struct open_params {
  std::string direction;
  amount_side side = amount_side::spend;
  decimal amount;
  int precision = 8;
  std::optional<std::string> callback_url;
  std::string custom_id;
  std::chrono::milliseconds time_to_live{30000};
};

/// GET /swap filters; unset ones are not sent. Times are sent as format_timestamp() text.
struct list_params {
  std::optional<std::string> custom_id;
  std::optional<std::string> status;
  std::optional<std::string> direction;
  std::optional<wall_time> start_at;
  std::optional<wall_time> end_at;
  std::optional<int> limit;   ///< 1..200
  std::optional<int> offset;  ///< 0..10000
};

/// Builds the exact requests 001k expects: method, target (path and query exactly as signed),
/// headers (Accept, Content-Type for POST, X-Access-Key, X-Timestamp, X-Signature, in that order)
/// and compact JSON bodies. Pure: no I/O, no clock; the timestamp (provider clock, ms) is passed
/// in. Holds the secret only as the keyed hmac_sha256 and never prints the access key.
/// Not thread-safe (signing mutates the keyed context).
class request_builder {
 public:
  request_builder(std::string access_key, hmac_sha256 secret);

  /// GET /api/v1/status, unauthenticated.
  http_request status() const;
  /// GET /api/v1/currency, unauthenticated.
  http_request currency() const;
  http_request balance(std::int64_t timestamp_ms);
  http_request swap_directions(std::int64_t timestamp_ms);
  /// invalid_argument when the amount is not positive or not exact at its precision, the
  /// precision is outside 0..18, the time-to-live is not positive, or an id is unusable.
  result<http_request> swap_open(const open_params& params, std::int64_t timestamp_ms);
  result<http_request> swap_cancel(std::string_view code, std::int64_t timestamp_ms);
  /// GET /api/v1/swap/{code}; invalid_argument unless the code is 1..64 of [A-Za-z0-9_-].
  result<http_request> swap_item(std::string_view code, std::int64_t timestamp_ms);
  result<http_request> swap_list(const list_params& params, std::int64_t timestamp_ms);

 private:
  http_request signed_request(std::string_view method, std::string target, std::string body,
                              std::int64_t timestamp_ms);

  std::string access_key_;
  hmac_sha256 secret_;
};

/// Percent-encodes a query value: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase).
std::string url_encode(std::string_view value);

/// Tunables of the 001k client.
struct client_options {
  /// Sent with every swap when set: 001k POSTs status changes there (a hint, never trusted).
  std::optional<std::string> callback_url;
  /// Deadline of each HTTP exchange.
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(10);
  /// price() refreshes the cached directions when they are older than this. Below the engine's
  /// quote_max_age (5 s): the planner refuses a rate table obtained longer ago as stale, so a
  /// longer cache would leave 001k unpriceable for the rest of it (FAULTS.md 18 found it).
  std::chrono::steady_clock::duration directions_max_age = std::chrono::seconds(4);
  /// Prices refresh the listing once it is this close to the end of its validity (obtained +
  /// directions_max_age), so that every price keeps at least this much: the planner refuses one
  /// with less left than the provider's p95 execution latency, which left 001k unpriceable for
  /// the last p95 of every listing. 1 s: a listing every 3 s under steady demand, 20 of the
  /// endpoint's 30 a minute.
  std::chrono::steady_clock::duration directions_refresh_lead = std::chrono::seconds(1);
  /// GET /status is re-sampled for the clock offset when the last sample is older than this.
  std::chrono::steady_clock::duration clock_sync_interval = std::chrono::minutes(5);
  circuit_breaker_config circuit;
  clock_offset_config clock;
};

using client_clocks = venue_clocks;

/// The 001k venue. Signs every authenticated request with a timestamp on the provider's clock
/// (offset from GET /status, re-synced on timestamp.invalid), keeps one token bucket per endpoint
/// below the documented limits, and opens a provider-wide circuit on 429 / Retry-After or repeated
/// host failures.
///
/// When a bucket is empty or the circuit is open the call fails at once without sending, with
/// kind rate_limited or circuit_open, may_have_reached = false and retry_after_seconds: the
/// engine's poller schedules inside the budget, so waiting here would only hide that.
///
/// Error mapping: 401/403 -> auth (provider_code = the 001k code); 400/422 -> rejected;
/// 404 -> not_found; 429 -> rate_limited; 5xx -> http_status; transport errors pass through.
/// timestamp.invalid (nothing was executed) clears the offset, re-syncs via /status and re-signs
/// and resends exactly once, POST /swap/open included. On POST /swap/open everything that is not a
/// documented answer (2xx swap, 400/422 validation body, 401/403 auth code, 429) is
/// unknown_outcome and is never resent: 5xx, other statuses, transport errors after the
/// connection was up, an unparseable or inconsistent 2xx body.
///
/// Not thread-safe: use from the executor of the http_client. The http_client must outlive it.
class client final : public venue {
 public:
  client(http_client& http, std::string access_key, hmac_sha256 secret, client_options options = {},
         client_clocks clocks = {});

  std::string_view id() const override { return provider_id; }
  venue_traits traits() const override;
  /// GET /swap-directions, refreshing the cache price() uses.
  task<result<std::vector<direction>>> directions() override;
  /// Prices from the cached directions (refreshed when older than directions_max_age less
  /// directions_refresh_lead). valid_until = the provider time of the refresh +
  /// directions_max_age.
  task<result<quote>> price(const quote_request& request) override;
  /// The rate-table row of the pair from the cached directions (refreshed like price()).
  task<result<pricing>> pricing_for(const quote_request& request) override;
  /// POST /swap/open with custom_id = `id` and time_to_live from the leg. Spend side: the amount
  /// rounded down to spend_precision. Receive side: the leg's amount is the net wanted; the
  /// request carries the gross whose net covers it (see price_rate_table), and an answer that does
  /// not echo that gross or whose net falls short is unknown_outcome (inconsistent).
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override;
  /// GET /swap/{code}.
  task<result<leg_status>> status(const leg_ref& ref) override;
  /// GET /swap?custom_id=...&limit=2: none -> nullopt; more than one, or one for another
  /// direction, pair or amount (spend side: another spend; receive side: a net short of the
  /// leg's, or a unit or more beyond what the smallest covering gross gives at the swap's own fee)
  /// -> bad_response "inconsistent".
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override;
  /// POST /swap/cancel {"code"}: the status changes later (cancel_requested_at is set).
  task<result<leg_status>> cancel(const leg_ref& ref) override;
  task<result<std::vector<balance>>> balances() override;

  /// Sets the callback URL later swaps carry (the listener's URL is known only once it is bound).
  void set_callback_url(std::optional<std::string> url) { options_.callback_url = std::move(url); }
  /// GET /status now and adds a clock-offset sample.
  task<result<void>> sync_clock();
  /// Provider clock minus ours; nullopt before the first sample.
  std::optional<std::chrono::milliseconds> clock_offset() const { return clock_.offset(); }
  circuit_state circuit() const noexcept { return circuit_.state(); }
  venue_health health() const override {
    return {circuit_.state(), clock_.offset(), circuit_.rate_limited_count()};
  }
  /// The local budget of GET /swap-directions for directions, and for prices while the cached
  /// directions are due for a refresh (prices are read from them); GET /balance's for balances.
  std::chrono::steady_clock::duration poll_wait(poll_kind kind,
                                                std::int64_t reserve) const override;

 private:
  /// Whether prices may still be read from the cached directions at `now`: younger than
  /// directions_max_age less directions_refresh_lead.
  bool prices_fresh(std::chrono::steady_clock::time_point now) const;
  /// Refreshes the directions unless prices_fresh.
  task<result<void>> fresh_directions();
  task<result<direction>> direction_for(std::string spend_asset, std::string receive_asset);
  wall_time directions_valid_until() const;
  enum class call_kind : std::uint8_t { read, open };
  using builder_fn = std::function<result<http_request>(request_builder&, std::int64_t)>;

  // Builders are passed by reference from a named local: g++ 12 mishandles non-trivial temporaries
  // in a co_await expression (GCC PR 99576).
  task<result<http_response>> call(std::string_view endpoint, const builder_fn& build,
                                   call_kind kind);
  task<result<http_response>> attempt(std::string_view endpoint, const builder_fn& build,
                                      call_kind kind);
  task<result<direction>> cached_direction(std::string_view code);
  std::int64_t provider_now_ms() const;

  http_client& http_;
  request_builder builder_;
  client_options options_;
  client_clocks clocks_;
  rate_budget budget_;
  circuit_breaker circuit_;
  clock_offset_estimator clock_;
  std::optional<std::chrono::steady_clock::time_point> last_clock_attempt_;
  std::vector<direction> directions_;
  std::optional<std::chrono::steady_clock::time_point> directions_at_;
  wall_time directions_provider_time_{};
  single_flight directions_refresh_;  // fresh_directions() of overlapping calls
};

}  // namespace swaprouter::onek
