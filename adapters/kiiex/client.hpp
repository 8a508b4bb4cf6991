// KIIEX (AlphaPoint APEX) client: request building, the login session, order-book pricing and the
// venue.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/kiiex/book.hpp"
#include "adapters/kiiex/parse.hpp"
#include "adapters/kiiex/wire.hpp"
#include "engine/circuit_breaker.hpp"
#include "engine/decimal.hpp"
#include "engine/hmac.hpp"
#include "engine/http.hpp"
#include "engine/result.hpp"
#include "engine/single_flight.hpp"
#include "engine/venue.hpp"

namespace swaprouter::kiiex {

/// One instrument with its two products and taker fee: everything pricing and ordering need.
struct market_info {
  instrument inst;
  product base;   ///< Product1
  product quote;  ///< Product2
  decimal fee_percent;

  trade_rules rules() const {
    return {inst.quantity_increment, base.decimal_places, quote.decimal_places, fee_percent};
  }
};

/// The engine direction code of one side of an instrument: "<spend>-<receive>", e.g. "USDT-COPM"
/// sells base USDT of instrument USDTCOPM, "COPM-USDT" buys it.
std::string direction_code(const market_info& market, wire::side side);

/// Prices `request` by walking `book` (VENUES.md Part 1 "KIIEX"; arithmetic in book.hpp). Spend
/// side: buying spends quote (the walk takes as much base as the amount pays for; spend_amount is
/// what it actually pays), selling spends base (rounded down to the quantity increment). Receive
/// side, buying only: the smallest quantity whose net covers the amount. The fee is in the
/// received product; receive_gross and receive_net are exact sums of the per-level fills. Fails
/// with rejected when the book is too thin, the quantity is below MinimumQuantity, or the
/// instrument is disabled. Pure and thread-safe.
result<quote> price_order_book(const market_info& market, wire::side side, const order_book& book,
                               const quote_request& request, wall_time obtained_at);

/// The planner's model of one side of an instrument: the opposite side of `book` (asks for a buy,
/// bids for a sell) with the fee, increments, places and minimum quantity, so that engine pricing
/// (engine/pricing.hpp) gives the same figures as price_order_book. The side's levels move from
/// `book`. With `validity`, the model is valid that long after `obtained_at` (the book is a
/// snapshot: client_options::quote_validity). Pure and thread-safe.
pricing pricing_of(const market_info& market, wire::side side, order_book book,
                   wall_time obtained_at,
                   std::optional<std::chrono::milliseconds> validity = std::nullopt);

/// SendOrder parameters. Amounts are sent as JSON numbers, exactly as given.
struct order_params {
  std::int64_t instrument_id = 0;
  wire::side side = wire::side::buy;
  wire::order_type type = wire::order_type::limit;
  wire::time_in_force time_in_force = wire::time_in_force::ioc;
  std::optional<decimal> quantity;
  std::optional<decimal> value;  ///< market orders only
  std::optional<decimal> limit_price;
  std::int64_t client_order_id = 0;
};

/// Builds the exact requests KIIEX expects. Login: GET /ap/AuthenticateUser with headers Accept,
/// APIKey, Signature, UserId, Nonce. Every other call: POST /ap/<Name> with headers Accept,
/// Content-Type, aptoken, Authorization: Bearer (VENUES.md Part 1 "KIIEX") and a compact JSON body
/// in a fixed field order, OMSId first and AccountId second where the call takes them. Pure: no
/// I/O, no clock. Holds the secret only as the keyed hmac_sha256. Not thread-safe.
class request_builder {
 public:
  request_builder(std::string api_key, std::string user_id, hmac_sha256 secret);

  http_request authenticate(std::string_view nonce);
  /// A POST to /ap/<name> with `body` and both token headers.
  http_request call(std::string_view name, std::string body, std::string_view token) const;

  static std::string oms_body(std::int64_t oms_id);
  /// GetInstruments of every state: disabled ones too (APX4 lists only active ones by default).
  static std::string instruments_body(std::int64_t oms_id);
  static std::string account_body(std::int64_t oms_id, std::int64_t account_id);
  static std::string l2_body(std::int64_t oms_id, std::int64_t instrument_id, int depth);
  static std::string level1_body(std::int64_t oms_id, std::int64_t instrument_id);
  static std::string order_fee_body(std::int64_t oms_id, std::int64_t account_id,
                                    std::int64_t instrument_id, wire::side side);
  /// invalid_argument when a needed amount is missing or not positive.
  static result<std::string> send_order_body(std::int64_t oms_id, std::int64_t account_id,
                                             const order_params& params);
  static std::string order_body(std::int64_t oms_id, std::int64_t account_id,
                                std::int64_t order_id);
  static std::string history_body(std::int64_t oms_id, std::int64_t account_id,
                                  std::int64_t client_order_id);
  /// GetTradesHistory of one order: `depth` trades from `start_index` (0 the newest, APX4).
  static std::string trades_body(std::int64_t oms_id, std::int64_t account_id,
                                 std::int64_t order_id, int depth, std::int64_t start_index);
  static std::string positions_body(std::int64_t oms_id, std::int64_t account_id);

 private:
  std::string api_key_;
  std::string user_id_;
  hmac_sha256 secret_;
};

/// Tunables of the KIIEX client.
struct client_options {
  std::int64_t oms_id = 1;
  /// Levels per side asked of GetL2Snapshot.
  int book_depth = 50;
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(10);
  /// The session is renewed when idle this long: under the documented 1 h idle expiry.
  std::chrono::steady_clock::duration session_refresh = std::chrono::minutes(55);
  /// After a refused login no AuthenticateUser is sent for this long (calls fail with that
  /// refusal): APX4 locks a user after rapid failed attempts, and only an administrator unlocks it.
  std::chrono::steady_clock::duration login_retry = std::chrono::seconds(60);
  /// price() refreshes instruments, products and fees when older than this.
  std::chrono::steady_clock::duration markets_max_age = std::chrono::minutes(5);
  /// A book-walk quote is considered current for this long (KIIEX quotes are not firm).
  std::chrono::milliseconds quote_validity{5000};
  /// Trades asked per GetTradesHistory page (its Depth).
  int trades_page = 100;
  /// Pages of one order's trades read at most: an order with more is an error (bad_response),
  /// never settled on part of its fills.
  int trades_max_pages = 10;
  circuit_breaker_config circuit;
};

/// Where the client reads time and login nonces; tests replace them.
struct client_clocks : venue_clocks {
  /// A fresh nonce per login; empty: a random 63-bit decimal number.
  std::function<std::string()> nonce;
};

/// The KIIEX venue. Logs in with the API key (signature in wire.hpp), keeps the session token and
/// sends it as aptoken and as Bearer; re-logs in before the idle expiry, and once on errorcode 20
/// or HTTP 401 (then resends: nothing was executed). A refused login is not tried again before
/// client_options::login_retry. A provider-wide circuit opens on 429 or
/// repeated host failures. KIIEX documents no rate limits, so there is no local budget.
///
/// Error mapping: generic {result:false} and non-2xx answers: errorcode 20 / 401 / 403 -> auth;
/// 100, 101 -> rejected; 104 / 404 -> not_found; 429 -> rate_limited; anything else ->
/// http_status (5xx) or bad_response. SendOrder: Accepted -> open; Rejected -> rejected with the
/// errormsg as provider code, except Invalid_ClientOrderId (an open order holds the leg's
/// ClientOrderId) -> unknown_outcome; a generic errorcode 100 without a timeout text -> rejected;
/// everything else after the request may have left (transport errors, 5xx, other statuses, an
/// unreadable 2xx) -> unknown_outcome, never resent.
///
/// Not thread-safe: use from the executor of the http_client, which must outlive it.
class client final : public venue {
 public:
  client(http_client& http, std::string api_key, std::string user_id, hmac_sha256 secret,
         client_options options = {}, client_clocks clocks = {});

  std::string_view id() const override { return provider_id; }
  venue_traits traits() const override;
  /// GetInstruments + GetProducts + GetOrderFee per instrument: both sides of each instrument.
  task<result<std::vector<direction>>> directions() override;
  /// Walks GetL2Snapshot (GetLevel1 when the snapshot fails or is empty).
  task<result<quote>> price(const quote_request& request) override;
  /// The order-book model of the pair from a fresh GetL2Snapshot.
  task<result<pricing>> pricing_for(const quote_request& request) override;
  /// SendOrder, IOC, ClientOrderId = wire::client_order_id(id): a sell is a limit order for the
  /// leg's quantity at its slippage bound; a buy is a market order by Value (the leg's amount)
  /// with LimitPrice at its slippage bound, so it fills the quoted book walk exactly and never
  /// spends more than the amount.
  /// The limit is the average price at which the whole amount nets exactly min_receive (rounded to
  /// PriceIncrement toward the safe side); no unit fills at a worse price, so every filled part
  /// nets its share of min_receive but for per-fill rounding, and a bound tighter than the book's
  /// depth gives a partial fill. A sell's limit is the lowest price at which the whole quantity in
  /// one fill, its value and fee rounded, nets min_receive. Selling sends the amount (rounded down
  /// to QuantityIncrement) as Quantity; buying walks a fresh snapshot for the quantity the amount
  /// pays for within the limit, so on a still book the fill equals the quote. Only spend-side legs
  /// with a positive min_receive.
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override;
  /// GetOrderStatus, then GetTradesHistory for the fills when anything executed: every page of
  /// the order's trades (client_options::trades_page rows each), until a page is empty or short
  /// with the trades covering QuantityExecuted. A trade's fee in the product received is
  /// fee_filled; one in the product given (the operator's choice) is in spend_filled, as
  /// spend_fee_filled.
  task<result<leg_status>> status(const leg_ref& ref) override;
  /// GetOpenOrders, then GetOrdersHistory filtered by the ClientOrderId; an order of another
  /// direction or amount under it is bad_response ("inconsistent").
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override;
  /// CancelOrder, then status.
  task<result<leg_status>> cancel(const leg_ref& ref) override;
  /// GetAccountPositions: available = Amount - Hold, frozen = Hold.
  task<result<std::vector<balance>>> balances() override;

  /// Logs in now (also done on demand).
  task<result<void>> login();
  bool logged_in() const noexcept { return !token_.empty(); }
  std::int64_t account_id() const noexcept { return account_id_; }
  /// Logins performed so far (tests).
  int login_count() const noexcept { return logins_; }
  circuit_state circuit() const noexcept { return circuit_.state(); }
  /// KIIEX answers carry no server time: no clock offset.
  venue_health health() const override {
    return {circuit_.state(), std::nullopt, circuit_.rate_limited_count()};
  }

 private:
  enum class call_kind : std::uint8_t { read, send_order };

  // Bodies are passed by reference from named locals: g++ 12 mishandles non-trivial temporaries in
  // a co_await expression (GCC PR 99576).
  task<result<http_response>> call(std::string_view name, const std::string& body, call_kind kind);
  task<result<http_response>> attempt(const std::string& name, const std::string& body,
                                      call_kind kind);
  task<result<void>> shared_login();
  task<result<void>> ensure_markets();
  task<result<void>> refresh_markets();
  task<result<order_book>> book_for(const market_info& market);
  task<result<leg_status>> status_of(std::int64_t order_id, const client_id& client);
  task<result<std::vector<trade>>> order_trades(std::int64_t order_id, decimal executed);
  std::optional<market_info> find_market(std::int64_t instrument_id) const;
  std::optional<std::pair<market_info, wire::side>> find_direction(std::string_view spend,
                                                                   std::string_view receive) const;
  // The market and side of a direction code "SPEND-RECEIVE".
  std::optional<std::pair<market_info, wire::side>> find_direction(std::string_view code) const;
  result<std::pair<market_info, wire::side>> market_for(const quote_request& request) const;
  std::string next_nonce();
  // Moves token_ (when set) to old_tokens_, forgetting the oldest beyond max_old_tokens.
  void retire_token();

  http_client& http_;
  request_builder builder_;
  client_options options_;
  client_clocks clocks_;
  circuit_breaker circuit_;
  std::string token_;
  // Earlier sessions' tokens, oldest first: still blanked in logs, since the exchange may still
  // take one (a re-login does not end a session, a refusal may come from elsewhere).
  std::deque<std::string> old_tokens_;
  std::int64_t account_id_ = 0;
  std::int64_t oms_id_ = 1;
  std::optional<std::chrono::steady_clock::time_point> last_activity_;
  // The last refused login and when: no new attempt before options_.login_retry has passed.
  std::optional<std::pair<std::chrono::steady_clock::time_point, error>> refused_login_;
  int logins_ = 0;
  std::vector<market_info> markets_;
  std::optional<std::chrono::steady_clock::time_point> markets_at_;
  single_flight login_flight_;     // shared_login() of overlapping calls
  single_flight markets_refresh_;  // ensure_markets() of overlapping calls
};

}  // namespace swaprouter::kiiex
