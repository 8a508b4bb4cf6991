#include "adapters/kiiex/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>
#include <utility>

#include "engine/guarded_call.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"
#include "engine/redact.hpp"

namespace swaprouter::kiiex {
namespace {

using steady_time = std::chrono::steady_clock::time_point;

// What an order for a leg of `amount` spends: a sell's quantity, rounded down to the quantity
// increment; a buy's value, rounded down to the quote product's places (submit() and find()).
result<decimal> order_spend(const market_info& market, wire::side side, decimal amount) {
  if (side == wire::side::sell) {
    return amount.round_to_increment(market.rules().quantity_increment, rounding::down);
  }
  // checked: the places come from the exchange's GetProducts.
  return amount.checked_round(market.quote.decimal_places, rounding::down);
}

// An AlphaPoint request body: one object, numbers written from exact decimal text (AlphaPoint
// takes JSON numbers).
class body_writer {
 public:
  body_writer() { json_.begin_object(); }
  body_writer& integer(std::string_view key, std::int64_t v) {
    json_.field_int(key, v);
    return *this;
  }
  body_writer& number(std::string_view key, decimal v) {
    json_.field(key, v);
    return *this;
  }
  body_writer& boolean(std::string_view key, bool v) {
    json_.key(key).boolean(v);
    return *this;
  }
  body_writer& text(std::string_view key, std::string_view v) {
    json_.field(key, v);
    return *this;
  }
  std::string take() { return json_.end_object().take(); }

 private:
  json_out json_;
};

bool mentions_timeout(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  for (std::string_view word : {"timeout", "timed out", "time out", "time-out"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

error unknown_outcome(std::string message, bool may_have_reached = true) {
  error e = make_error(error_kind::unknown_outcome, std::move(message));
  e.may_have_reached = may_have_reached;
  return e;
}

// Fractional digits of an increment such as 0.0001 (4).
int places_of(decimal increment) {
  const std::string text = increment.to_string();
  const auto dot = text.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

leg_state map_state(const order& o) {
  using st = wire::order_state;
  if (!o.state) return leg_state::unrecognised;
  const bool executed = o.quantity_executed.is_positive();
  switch (*o.state) {
    case st::working:
      return leg_state::open;
    case st::fully_executed:
      return leg_state::filled;
    case st::canceled:
      return executed ? leg_state::partially_filled : leg_state::cancelled;
    case st::expired:
      return executed ? leg_state::partially_filled : leg_state::expired;
    case st::rejected:
      return leg_state::failed;
    case st::unknown:
      break;
  }
  return leg_state::unrecognised;
}

}  // namespace

std::string direction_code(const market_info& market, wire::side side) {
  return side == wire::side::buy ? market.quote.symbol + "-" + market.base.symbol
                                 : market.base.symbol + "-" + market.quote.symbol;
}

result<quote> price_order_book(const market_info& market, wire::side side, const order_book& book,
                               const quote_request& request, wall_time obtained_at) {
  const std::string code = direction_code(market, side);
  const auto reject = [&](std::string why) {
    return fail(error_kind::rejected, fmt::format("kiiex {}: {}", code, why));
  };
  if (!request.amount.is_positive()) {
    return fail(error_kind::invalid_argument, fmt::format("kiiex {}: amount {} is not positive",
                                                          code, request.amount.to_string()));
  }
  if (market.inst.disabled || market.base.disabled || market.quote.disabled) {
    return reject("instrument disabled");
  }
  if (market.fee_percent.is_negative() || market.fee_percent >= decimal::from_int(100)) {
    return reject("unusable fee");
  }
  const trade_rules rules = market.rules();
  const bool buy = side == wire::side::buy;
  const std::vector<book_level>& levels = buy ? book.asks : book.bids;
  walk_result walk;
  if (request.side == amount_side::spend) {
    walk_bounds bounds;
    if (buy) {
      bounds.value = request.amount.round(market.quote.decimal_places, rounding::down);
    } else {
      auto quantity = request.amount.round_to_increment(rules.quantity_increment, rounding::down);
      if (!quantity) return std::unexpected(quantity.error());
      bounds.quantity = *quantity;
    }
    if (!(bounds.value.value_or(decimal{}).is_positive() ||
          bounds.quantity.value_or(decimal{}).is_positive())) {
      return reject(fmt::format("amount {} rounds to nothing", request.amount.to_string()));
    }
    auto walked = walk_book(side, levels, rules, bounds);
    if (!walked) return std::unexpected(walked.error());
    walk = std::move(*walked);
  } else {
    if (!buy) return reject("an exact receive is only priced when buying the base");
    auto target = request.amount.checked_round(market.base.decimal_places, rounding::up);
    if (!target) return std::unexpected(target.error());
    // Estimate gross = net / (1 - fee), then step up by increments until the net covers it.
    auto gross = target->mul_div(decimal::from_int(100),
                                 decimal::from_int(100) - market.fee_percent, rounding::up);
    if (!gross) return std::unexpected(gross.error());
    auto quantity = gross->round_to_increment(rules.quantity_increment, rounding::up);
    if (!quantity) return std::unexpected(quantity.error());
    constexpr int max_steps = 64;
    for (int i = 0;; ++i) {
      auto walked = walk_book(side, levels, rules,
                              walk_bounds{.quantity = *quantity, .value = {}, .limit_price = {}});
      if (!walked) return std::unexpected(walked.error());
      walk = std::move(*walked);
      if (!walk.complete || walk.quantity - walk.fee >= *target) break;
      if (i == max_steps) {
        return fail(error_kind::internal, fmt::format("kiiex {}: no quantity found", code));
      }
      *quantity += rules.quantity_increment;
    }
  }
  if (!walk.complete) {
    return reject(fmt::format("the book is too thin: {} executable", walk.quantity.to_string()));
  }
  if (walk.quantity < market.inst.minimum_quantity) {
    return reject(fmt::format("quantity {} is below MinimumQuantity {}", walk.quantity.to_string(),
                              market.inst.minimum_quantity.to_string()));
  }
  quote q;
  q.provider = std::string(provider_id);
  q.direction_code = code;
  q.spend_asset = buy ? market.quote.symbol : market.base.symbol;
  q.receive_asset = buy ? market.base.symbol : market.quote.symbol;
  q.side = request.side;
  q.spend_amount = buy ? walk.value : walk.quantity;
  q.receive_gross = buy ? walk.quantity : walk.value;
  q.fee = walk.fee;
  q.fee_asset = q.receive_asset;
  const int receive_places = buy ? market.base.decimal_places : market.quote.decimal_places;
  q.receive_net = (q.receive_gross - q.fee).round(receive_places, rounding::down);
  if (!q.receive_net.is_positive()) return reject("the net receive rounds to 0");
  q.model = pricing_model::order_book;
  q.firm = false;
  q.obtained_at = obtained_at;
  return q;
}

// --- request_builder --------------------------------------------------------------------------

request_builder::request_builder(std::string api_key, std::string user_id, hmac_sha256 secret)
    : api_key_(std::move(api_key)), user_id_(std::move(user_id)), secret_(std::move(secret)) {
  register_secret(api_key_);
}

http_request request_builder::authenticate(std::string_view nonce) {
  http_request r = json_request("GET", wire::path(wire::fn::authenticate_user));
  r.headers.emplace_back(wire::header::api_key, api_key_);
  r.headers.emplace_back(wire::header::signature,
                         wire::login_signature(secret_, nonce, user_id_, api_key_));
  r.headers.emplace_back(wire::header::user_id, user_id_);
  r.headers.emplace_back(wire::header::nonce, nonce);
  return r;
}

http_request request_builder::call(std::string_view name, std::string body,
                                   std::string_view token) const {
  http_request r = json_request("POST", wire::path(name), std::move(body));
  r.headers.emplace_back(wire::header::aptoken, token);
  r.headers.emplace_back(wire::header::authorization,
                         std::string(wire::bearer_prefix) + std::string(token));
  return r;
}

std::string request_builder::oms_body(std::int64_t oms_id) {
  return body_writer().integer(wire::field::oms_id, oms_id).take();
}

std::string request_builder::instruments_body(std::int64_t oms_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .text(wire::field::instrument_state, wire::field::instrument_state_both)
      .take();
}

std::string request_builder::account_body(std::int64_t oms_id, std::int64_t account_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .take();
}

std::string request_builder::l2_body(std::int64_t oms_id, std::int64_t instrument_id, int depth) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::instrument_id, instrument_id)
      .integer(wire::field::depth, depth)
      .take();
}

std::string request_builder::level1_body(std::int64_t oms_id, std::int64_t instrument_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::instrument_id, instrument_id)
      .take();
}

std::string request_builder::order_fee_body(std::int64_t oms_id, std::int64_t account_id,
                                            std::int64_t instrument_id, wire::side side) {
  // Buying 100 base at price 1: the estimated fee is the fee percentage itself (both sides pay
  // the percentage of what they receive, VENUES.md 1.4 "Fees").
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .integer(wire::field::instrument_id, instrument_id)
      .number(wire::field::quantity, decimal::from_int(100))
      .number(wire::field::price, decimal::from_int(1))
      .integer(wire::field::order_type, static_cast<int>(wire::order_type::limit))
      .text(wire::field::maker_taker, "Taker")
      .integer(wire::field::side, static_cast<int>(side))
      .take();
}

result<std::string> request_builder::send_order_body(std::int64_t oms_id, std::int64_t account_id,
                                                     const order_params& p) {
  const auto bad = [](std::string why) {
    return fail(error_kind::invalid_argument, "kiiex SendOrder: " + why);
  };
  const bool market = p.type == wire::order_type::market;
  if (p.quantity.has_value() == p.value.has_value()) return bad("give Quantity or Value");
  if (p.value && !market) return bad("Value is for market orders only");
  if (p.quantity && !p.quantity->is_positive()) return bad("Quantity must be positive");
  if (p.value && !p.value->is_positive()) return bad("Value must be positive");
  if (!market && (!p.limit_price || !p.limit_price->is_positive())) {
    return bad("a limit order needs a positive LimitPrice");
  }
  if (p.client_order_id < 0) return bad("ClientOrderId must be >= 0");
  // APX4's market-order example order: InstrumentId, OMSId, AccountId, TimeInForce,
  // ClientOrderId, OrderIdOCO, UseDisplayQuantity, Side, OrderType, then the amounts.
  body_writer w;
  w.integer(wire::field::instrument_id, p.instrument_id)
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .integer(wire::field::time_in_force, static_cast<int>(p.time_in_force))
      .integer(wire::field::client_order_id, p.client_order_id)
      .integer(wire::field::order_id_oco, 0)
      .boolean(wire::field::use_display_quantity, false)
      .integer(wire::field::side, static_cast<int>(p.side))
      .integer(wire::field::order_type, static_cast<int>(p.type));
  if (p.quantity) w.number(wire::field::quantity, *p.quantity);
  if (p.value) w.number(wire::field::value, *p.value);
  if (p.limit_price) w.number(wire::field::limit_price, *p.limit_price);
  return w.take();
}

std::string request_builder::order_body(std::int64_t oms_id, std::int64_t account_id,
                                        std::int64_t order_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .integer(wire::field::order_id, order_id)
      .take();
}

std::string request_builder::history_body(std::int64_t oms_id, std::int64_t account_id,
                                          std::int64_t client_order_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .integer(wire::field::client_order_id, client_order_id)
      .take();
}

std::string request_builder::trades_body(std::int64_t oms_id, std::int64_t account_id,
                                         std::int64_t order_id, int depth,
                                         std::int64_t start_index) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .integer(wire::field::order_id, order_id)
      .integer(wire::field::depth, depth)
      .integer(wire::field::start_index, start_index)
      .take();
}

std::string request_builder::positions_body(std::int64_t oms_id, std::int64_t account_id) {
  return body_writer()
      .integer(wire::field::oms_id, oms_id)
      .integer(wire::field::account_id, account_id)
      .boolean(wire::field::include_pending, true)
      .take();
}

// --- client -----------------------------------------------------------------------------------

client::client(http_client& http, std::string api_key, std::string user_id, hmac_sha256 secret,
               client_options options, client_clocks clocks)
    : http_(http),
      builder_(std::move(api_key), std::move(user_id), std::move(secret)),
      options_(std::move(options)),
      clocks_(std::move(clocks)),
      circuit_(options_.circuit),
      oms_id_(options_.oms_id) {}

venue_traits client::traits() const {
  // KIIEX refuses a ClientOrderId only while another open order holds it (VENUES.md, APX 4.2),
  // and our IOC orders close at once: a resend after the grace window could make a second order
  // if the first was executed and its history lagged. No deduplication, so never resent.
  return venue_traits{
      .firm_quotes = false, .cancel = true, .client_id = false, .exact_receive = false};
}

std::string client::next_nonce() {
  if (clocks_.nonce) return clocks_.nonce();
  std::random_device device;
  const std::uint64_t value =
      ((static_cast<std::uint64_t>(device()) << 32) | device()) & 0x7fffffffffffffffull;
  return std::to_string(value);
}

task<result<void>> client::login() {
  const auto now = clocks_.steady();
  if (refused_login_ && now - refused_login_->first < options_.login_retry) {
    error e = refused_login_->second;
    e.message += " (not tried again yet: repeated refusals lock the user)";
    co_return std::unexpected(std::move(e));
  }
  if (!circuit_.allow(now)) {
    co_return fail(error_kind::circuit_open, "kiiex AuthenticateUser: circuit open");
  }
  const std::string nonce = next_nonce();
  http_request request = builder_.authenticate(nonce);
  auto response = co_await http_.send(std::move(request), options_.request_timeout);
  const auto after = clocks_.steady();
  if (!response) {
    circuit_.record_failure(after);
    error e = std::move(response.error());
    e.message = "kiiex AuthenticateUser: " + e.message;
    co_return std::unexpected(std::move(e));
  }
  if (response->status >= 500) {
    circuit_.record_failure(after);
  } else {
    circuit_.record_success(after);
  }
  auto answer = parse_login(response->body);
  if (!answer) {
    if (response->status >= 200 && response->status < 300) {
      co_return std::unexpected(std::move(answer.error()));
    }
    error e = status_error(*response);
    if (response->status == 401 || response->status == 403) {
      e.kind = error_kind::auth;
      refused_login_.emplace(after, e);
    }
    if (response->status == 429) e.kind = error_kind::rate_limited;
    co_return std::unexpected(std::move(e));
  }
  if (!answer->authenticated || answer->requires_2fa) {
    error e = make_error(
        error_kind::auth,
        fmt::format("kiiex AuthenticateUser refused{}: {}", answer->locked ? " (user locked)" : "",
                    answer->requires_2fa ? "2FA required" : answer->errormsg));
    e.provider_code = answer->locked ? "Locked" : "";
    e.http_status = response->status;
    refused_login_.emplace(after, e);
    co_return std::unexpected(std::move(e));
  }
  refused_login_.reset();
  // The session token authenticates like the key: blanked wherever a provider echoes it, and so
  // is each earlier one this process held (retire_token).
  if (token_ != answer->session_token) retire_token();
  token_ = answer->session_token;
  register_secret(token_);
  std::erase(old_tokens_, token_);
  account_id_ = answer->account_id;
  if (answer->oms_id > 0) oms_id_ = answer->oms_id;
  last_activity_ = after;
  ++logins_;
  co_return result<void>{};
}

task<result<http_response>> client::attempt(const std::string& name, const std::string& body,
                                            call_kind kind) {
  guarded_call_spec spec;
  spec.provider = "kiiex";
  spec.endpoint = name;
  spec.timeout = options_.request_timeout;
  spec.execute = kind == call_kind::send_order;
  const bool send_order = spec.execute;
  // Every answer is read here: a 2xx in the generic shape may still be an error.
  const answer_mapper read_answer =
      [&name, send_order](const http_response& response,
                          std::optional<std::chrono::seconds> retry_after) -> std::optional<error> {
    const int status = response.status;
    const auto generic = parse_generic(response.body);
    const bool ok_status = status >= 200 && status < 300;
    // A 2xx in the generic shape with result:false (or a non-zero errorcode other than 107
    // "Operation In Process") is an error (VENUES.md 1.3, KIIDOC's result:true + errorcode 100).
    const bool generic_failure =
        generic &&
        (!generic->result || (generic->errorcode != wire::errorcode::success &&
                              generic->errorcode != wire::errorcode::operation_in_process));
    if (ok_status && !generic_failure) return std::nullopt;
    error e;
    e.http_status = status;
    const std::int64_t code = generic ? generic->errorcode : 0;
    if (generic) e.provider_code = std::to_string(code);
    const std::string text =
        generic ? generic->errormsg + (generic->detail.empty() ? "" : ": " + generic->detail)
                : excerpt(response.body, 200);
    e.message = fmt::format("kiiex {} answered {} errorcode {}: {}", name, status, code, text);
    if (code == wire::errorcode::not_authorized ||
        (!send_order && (status == 401 || status == 403))) {
      // Refused before anything was executed: safe to log in again and resend, even SendOrder,
      // for which only the exchange's own answer (errorcode 20) says so; a bare 401 or 403 on
      // SendOrder could come from anything on the way, and stays unknown (FAULTS.md 8).
      e.kind = error_kind::auth;
    } else if (status == 429) {
      e.kind = error_kind::rate_limited;
      if (retry_after) e.retry_after_seconds = retry_after->count();
    } else if (send_order) {
      // FAULTS.md #8: only a documented validation answer is a rejection; a disguised timeout
      // or anything else leaves the order's existence unknown.
      const bool documented = generic && code == wire::errorcode::invalid_request &&
                              !mentions_timeout(generic->errormsg) &&
                              !mentions_timeout(generic->detail) && status < 500;
      e.kind = documented ? error_kind::rejected : error_kind::unknown_outcome;
    } else if (status == 404 || code == wire::errorcode::resource_not_found) {
      e.kind = error_kind::not_found;
    } else if (code == wire::errorcode::invalid_request ||
               code == wire::errorcode::operation_failed) {
      e.kind = error_kind::rejected;
    } else if (!ok_status) {
      e.kind = error_kind::http_status;
    } else {
      e.kind = error_kind::bad_response;
    }
    e.may_have_reached = e.kind == error_kind::unknown_outcome;
    return e;
  };
  const call_guard guard{&circuit_, nullptr, &clocks_.wall, &clocks_.steady};
  auto response =
      co_await guarded_call(http_, guard, builder_.call(name, body, token_), spec, read_answer);
  if (response) last_activity_ = clocks_.steady();
  co_return response;
}

task<result<http_response>> client::call(std::string_view name, const std::string& body,
                                         call_kind kind) {
  const std::string function(name);
  const std::string payload = body;
  const auto now = clocks_.steady();
  if (token_.empty() || !last_activity_ || now - *last_activity_ >= options_.session_refresh) {
    auto logged = co_await shared_login();
    if (!logged) co_return std::unexpected(std::move(logged.error()));
  }
  // attempt() sends the token as it is when called.
  std::string sent_token = token_;
  auto answer = co_await attempt(function, payload, kind);
  const auto refused = [&] { return !answer && answer.error().kind == error_kind::auth; };
  if (!refused()) co_return answer;
  // errorcode 20 / 401: the session expired or was dropped; nothing was executed. An overlapping
  // call may have logged in again while this one waited: that session is tried first, rather
  // than replaced by another login (which could in turn get that call's retry refused).
  if (!token_.empty() && token_ != sent_token) {
    sent_token = token_;
    answer = co_await attempt(function, payload, kind);
    if (!refused()) co_return answer;
  }
  if (token_ == sent_token) retire_token();
  if (token_.empty()) {
    auto logged = co_await shared_login();
    if (!logged) co_return std::unexpected(std::move(logged.error()));
  }
  co_return co_await attempt(function, payload, kind);
}

void client::retire_token() {
  // A bound on the secrets a process that logs in for months keeps: a session older than the
  // last few has long expired at the exchange.
  constexpr std::size_t max_old_tokens = 8;
  if (token_.empty()) return;
  if (std::find(old_tokens_.begin(), old_tokens_.end(), token_) == old_tokens_.end()) {
    old_tokens_.push_back(std::move(token_));
  }
  token_.clear();
  while (old_tokens_.size() > max_old_tokens) {
    forget_secret(old_tokens_.front());
    old_tokens_.pop_front();
  }
}

task<result<void>> client::shared_login() {
  // Overlapping calls that find no session share one AuthenticateUser.
  task<result<void>> fresh = login();
  co_return co_await login_flight_.run(std::move(fresh));
}

task<result<void>> client::ensure_markets() {
  const auto now = clocks_.steady();
  if (markets_at_ && now - *markets_at_ < options_.markets_max_age && !markets_.empty()) {
    co_return result<void>{};
  }
  // Overlapping calls that find the list stale share one refresh (GetInstruments, GetProducts and
  // a GetOrderFee per instrument) instead of each sending it again.
  task<result<void>> refresh = refresh_markets();
  co_return co_await markets_refresh_.run(std::move(refresh));
}

task<result<void>> client::refresh_markets() {
  if (token_.empty()) {
    auto logged = co_await shared_login();
    if (!logged) co_return std::unexpected(std::move(logged.error()));
  }
  // Disabled instruments too: an order placed before its instrument was disabled is still read
  // through it (status_of), and its directions show as disabled rather than vanish.
  const std::string listing = request_builder::instruments_body(oms_id_);
  auto instruments_answer = co_await call(wire::fn::get_instruments, listing, call_kind::read);
  if (!instruments_answer) co_return std::unexpected(std::move(instruments_answer.error()));
  auto instruments = parse_instruments(instruments_answer->body);
  if (!instruments) co_return std::unexpected(std::move(instruments.error()));
  const std::string oms = request_builder::oms_body(oms_id_);
  auto products_answer = co_await call(wire::fn::get_products, oms, call_kind::read);
  if (!products_answer) co_return std::unexpected(std::move(products_answer.error()));
  auto products = parse_products(products_answer->body);
  if (!products) co_return std::unexpected(std::move(products.error()));
  std::vector<market_info> fresh;
  for (const auto& inst : *instruments) {
    const auto find = [&](std::int64_t id) -> const product* {
      for (const auto& p : *products) {
        if (p.product_id == id) return &p;
      }
      return nullptr;
    };
    const product* base = find(inst.product1);
    const product* quote_product = find(inst.product2);
    if (base == nullptr || quote_product == nullptr) continue;
    // Nothing is priced on a disabled instrument: its fee is not asked for (the exchange may
    // refuse to estimate one, and that would fail the whole list).
    if (inst.disabled) {
      fresh.push_back(market_info{inst, *base, *quote_product, decimal{}});
      continue;
    }
    const std::string fee_body =
        request_builder::order_fee_body(oms_id_, account_id_, inst.instrument_id, wire::side::buy);
    auto fee_answer = co_await call(wire::fn::get_order_fee, fee_body, call_kind::read);
    if (!fee_answer) co_return std::unexpected(std::move(fee_answer.error()));
    auto fee = parse_order_fee(fee_answer->body);
    if (!fee) co_return std::unexpected(std::move(fee.error()));
    // 100 base bought at 1: OrderFee is the percentage (order_fee_body).
    fresh.push_back(market_info{inst, *base, *quote_product, fee->fee});
  }
  markets_ = std::move(fresh);
  markets_at_ = clocks_.steady();
  co_return result<void>{};
}

// The lookups answer copies: every caller suspends afterwards, and a concurrent call may refresh
// markets_ meanwhile.
std::optional<market_info> client::find_market(std::int64_t instrument_id) const {
  for (const auto& m : markets_) {
    if (m.inst.instrument_id == instrument_id) return m;
  }
  return std::nullopt;
}

std::optional<std::pair<market_info, wire::side>> client::find_direction(
    std::string_view spend, std::string_view receive) const {
  for (const auto& m : markets_) {
    if (m.quote.symbol == spend && m.base.symbol == receive) return std::pair{m, wire::side::buy};
    if (m.base.symbol == spend && m.quote.symbol == receive) return std::pair{m, wire::side::sell};
  }
  return std::nullopt;
}

std::optional<std::pair<market_info, wire::side>> client::find_direction(
    std::string_view code) const {
  const auto dash = code.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  return find_direction(code.substr(0, dash), code.substr(dash + 1));
}

result<std::pair<market_info, wire::side>> client::market_for(const quote_request& request) const {
  auto found = find_direction(request.spend_asset, request.receive_asset);
  if (!found) {
    return fail(error_kind::rejected, fmt::format("kiiex: no instrument for {} -> {}",
                                                  request.spend_asset, request.receive_asset));
  }
  return std::move(*found);
}

task<result<std::vector<direction>>> client::directions() {
  markets_at_.reset();
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  std::vector<direction> out;
  // A copy: the loop suspends, and a concurrent call may refresh markets_ meanwhile.
  const std::vector<market_info> markets = markets_;
  for (const auto& m : markets) {
    std::optional<level1> top;
    const std::string body = request_builder::level1_body(oms_id_, m.inst.instrument_id);
    auto answer = co_await call(wire::fn::get_level1, body, call_kind::read);
    if (answer) {
      if (auto parsed = parse_level1(answer->body)) top = *parsed;
    }
    for (const wire::side side : {wire::side::buy, wire::side::sell}) {
      const bool buy = side == wire::side::buy;
      direction d;
      d.provider = std::string(provider_id);
      d.code = direction_code(m, side);
      d.spend_asset = buy ? m.quote.symbol : m.base.symbol;
      d.receive_asset = buy ? m.base.symbol : m.quote.symbol;
      d.enabled = !m.inst.disabled && !m.base.disabled && !m.quote.disabled;
      d.spend_precision = buy ? m.quote.decimal_places : places_of(m.inst.quantity_increment);
      d.receive_precision = buy ? m.base.decimal_places : m.quote.decimal_places;
      d.fee_percent = m.fee_percent;
      if (buy) {
        d.min_receive = m.inst.minimum_quantity;
      } else {
        d.min_spend = m.inst.minimum_quantity;
      }
      // Indicative only (best bid / offer); price() walks the book.
      if (top && top->best_offer.is_positive() && top->best_bid.is_positive()) {
        d.spend_rate_value = buy ? top->best_offer : decimal::from_int(1);
        d.receive_rate_value = buy ? decimal::from_int(1) : top->best_bid;
      }
      out.push_back(std::move(d));
    }
  }
  co_return out;
}

task<result<order_book>> client::book_for(const market_info& market) {
  const std::int64_t instrument_id = market.inst.instrument_id;
  const std::string l2 = request_builder::l2_body(oms_id_, instrument_id, options_.book_depth);
  auto answer = co_await call(wire::fn::get_l2_snapshot, l2, call_kind::read);
  if (answer) {
    auto book = parse_l2_snapshot(answer->body, instrument_id);
    if (book && (!book->asks.empty() || !book->bids.empty())) co_return book;
  }
  // Fallback (VENUES.md Part 1 "KIIEX"): best bid and offer with their sizes as a one-level book.
  const std::string level1_request = request_builder::level1_body(oms_id_, instrument_id);
  auto top_answer = co_await call(wire::fn::get_level1, level1_request, call_kind::read);
  if (!top_answer) co_return std::unexpected(std::move(top_answer.error()));
  auto top = parse_level1(top_answer->body);
  if (!top) co_return std::unexpected(std::move(top.error()));
  order_book book;
  book.instrument_id = instrument_id;
  if (top->best_bid.is_positive() && top->bid_qty.is_positive()) {
    book.bids.push_back({top->best_bid, top->bid_qty});
  }
  if (top->best_offer.is_positive() && top->ask_qty.is_positive()) {
    book.asks.push_back({top->best_offer, top->ask_qty});
  }
  co_return book;
}

pricing pricing_of(const market_info& market, wire::side side, order_book book,
                   wall_time obtained_at, std::optional<std::chrono::milliseconds> validity) {
  const bool buy = side == wire::side::buy;
  pricing p;
  p.provider = std::string(provider_id);
  p.direction_code = direction_code(market, side);
  p.spend_asset = buy ? market.quote.symbol : market.base.symbol;
  p.receive_asset = buy ? market.base.symbol : market.quote.symbol;
  p.model = pricing_model::order_book;
  p.spend_precision = buy ? market.quote.decimal_places : market.base.decimal_places;
  p.receive_precision = buy ? market.base.decimal_places : market.quote.decimal_places;
  p.fee_percent = market.fee_percent;
  p.book.side = buy ? book_side::buy : book_side::sell;
  p.book.quantity_increment = market.inst.quantity_increment;
  p.book.levels = std::move(buy ? book.asks : book.bids);
  // MinimumQuantity bounds the base side: what a sell spends, what a buy receives (gross).
  if (buy) {
    p.min_receive = market.inst.minimum_quantity;
  } else {
    p.min_spend = market.inst.minimum_quantity;
    p.spend_increment = market.inst.quantity_increment;
  }
  p.obtained_at = obtained_at;
  if (validity) p.valid_until = obtained_at + *validity;
  return p;
}

task<result<quote>> client::price(const quote_request& request) {
  const quote_request wanted = request;
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  auto found = market_for(wanted);
  if (!found) co_return std::unexpected(std::move(found.error()));
  const market_info market = std::move(found->first);
  const wire::side side = found->second;
  auto book = co_await book_for(market);
  if (!book) co_return std::unexpected(std::move(book.error()));
  const wall_time now = clocks_.wall();
  auto q = price_order_book(market, side, *book, wanted, now);
  if (q) q->valid_until = now + options_.quote_validity;
  co_return q;
}

task<result<pricing>> client::pricing_for(const quote_request& request) {
  const quote_request wanted = request;
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  auto found = market_for(wanted);
  if (!found) co_return std::unexpected(std::move(found.error()));
  const market_info market = std::move(found->first);
  const wire::side side = found->second;
  if (market.inst.disabled) {
    co_return fail(error_kind::rejected, fmt::format("kiiex: {} disabled", market.inst.symbol));
  }
  auto book = co_await book_for(market);
  if (!book) co_return std::unexpected(std::move(book.error()));
  co_return pricing_of(market, side, std::move(*book), clocks_.wall(), options_.quote_validity);
}

task<result<leg_status>> client::submit(const leg& leg, const client_id& id) {
  const swaprouter::leg wanted = leg;
  const client_id client = id;
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  const auto found = find_direction(wanted.direction_code);
  const auto bad = [&](std::string why) {
    return fail(error_kind::invalid_argument,
                fmt::format("kiiex {}: {}", wanted.direction_code, why));
  };
  if (!found) co_return bad("no such direction");
  if (wanted.side != amount_side::spend) co_return bad("KIIEX legs fix the spend amount");
  // The slippage bound is the order's limit price: without it the order could fill anywhere.
  if (!wanted.min_receive.is_positive()) co_return bad("a positive min_receive is required");
  const market_info& market = found->first;
  const wire::side side = found->second;
  const decimal keep = decimal::from_int(100) - market.fee_percent;

  order_params params;
  params.instrument_id = market.inst.instrument_id;
  params.side = side;
  params.type = wire::order_type::limit;
  params.time_in_force = wire::time_in_force::ioc;
  params.client_order_id = wire::client_order_id(client);
  decimal spend;
  if (side == wire::side::sell) {
    auto quantity = order_spend(market, side, wanted.amount);
    if (!quantity || !quantity->is_positive()) co_return bad("amount rounds to nothing");
    // The lowest price at which the whole quantity, filled at once, nets min_receive: gross =
    // net * 100 / (100 - fee) at the quote's places, stepped up while the fill's rounding (its
    // value down, its fee up: book.hpp) leaves the net short.
    auto gross = wanted.min_receive.mul_div(decimal::from_int(100), keep, rounding::up);
    if (!gross) co_return std::unexpected(std::move(gross.error()));
    auto value = gross->checked_round(market.quote.decimal_places, rounding::up);
    if (!value) co_return std::unexpected(std::move(value.error()));
    const decimal unit = decimal::unit(market.quote.decimal_places);
    std::optional<decimal> limit;
    for (int i = 0; i < 8 && !limit; ++i, *value += unit) {
      auto price = value->div(*quantity, rounding::up);
      if (!price) co_return std::unexpected(std::move(price.error()));
      auto at = price->round_to_increment(market.inst.price_increment, rounding::up);
      if (!at) co_return std::unexpected(std::move(at.error()));
      auto fill = walk_book(side, {{*at, *quantity}}, market.rules(),
                            walk_bounds{.quantity = *quantity, .value = {}, .limit_price = {}});
      if (!fill) co_return std::unexpected(std::move(fill.error()));
      if (fill->value - fill->fee >= wanted.min_receive) limit = *at;
    }
    if (!limit) co_return bad("no limit price nets min_receive");
    params.quantity = *quantity;
    params.limit_price = *limit;
    spend = *quantity;
  } else {
    auto value = order_spend(market, side, wanted.amount);
    if (!value) co_return std::unexpected(std::move(value.error()));
    spend = *value;
    // Highest average price at which spending the amount still nets min_receive.
    auto price = spend.mul_div(
        keep, wanted.min_receive.mul(decimal::from_int(100), rounding::down).value_or(decimal{}),
        rounding::down);
    if (!price) co_return std::unexpected(std::move(price.error()));
    auto limit = price->round_to_increment(market.inst.price_increment, rounding::down);
    if (!limit || !limit->is_positive()) co_return bad("the slippage bound leaves no price");
    // A buy is a market order by Value capped at the limit price (APX4: LimitPrice on a Market
    // Buy caps the execution), IOC. It walks the book for exactly the amount, as the quote did, so
    // on a still book the fill is the quote to the last unit; when the book moves it never pays
    // above the limit and never spends more than the amount. A limit order by Quantity cannot give
    // both: the exchange holds Quantity x LimitPrice, more than the amount whenever the bound is
    // looser than the walk's average price.
    params.type = wire::order_type::market;
    params.value = spend;
    params.limit_price = *limit;
  }
  auto body = request_builder::send_order_body(oms_id_, account_id_, params);
  if (!body) co_return std::unexpected(std::move(body.error()));
  const std::string order_request = std::move(*body);
  auto response = co_await call(wire::fn::send_order, order_request, call_kind::send_order);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto answer = parse_send_order(response->body);
  if (!answer) {
    co_return std::unexpected(
        unknown_outcome("kiiex SendOrder: unreadable answer: " + answer.error().message));
  }
  if (!answer->accepted && answer->errormsg == wire::reject_reason::invalid_client_order_id) {
    // APX4 refuses a ClientOrderId that another open order of the account holds. Ours derive from
    // the leg's client id, so that order is this leg's, sent before, and may still fill: settled
    // by find(), never a rejection of the leg.
    error e =
        unknown_outcome(fmt::format("kiiex SendOrder: ClientOrderId {} is held by an open "
                                    "order (errorcode {})",
                                    params.client_order_id, answer->errorcode));
    e.provider_code = answer->errormsg;
    e.http_status = response->status;
    co_return std::unexpected(std::move(e));
  }
  if (!answer->accepted) {
    error e =
        make_error(error_kind::rejected, fmt::format("kiiex SendOrder rejected: {} (errorcode {})",
                                                     answer->errormsg, answer->errorcode));
    e.provider_code = answer->errormsg;
    e.http_status = response->status;
    co_return std::unexpected(std::move(e));
  }
  leg_status out;
  out.ref.provider_ref = std::to_string(answer->order_id);
  out.ref.client = client;
  out.state = leg_state::open;
  out.provider_status = std::string(wire::send_order_status::accepted);
  out.direction_code = wanted.direction_code;
  out.spend_amount = spend;
  out.receive_amount = wanted.min_receive;
  out.created_at = clocks_.wall();
  co_return out;
}

task<result<leg_status>> client::status_of(std::int64_t order_id, const client_id& client) {
  const client_id wanted_client = client;
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  const std::string status_body = request_builder::order_body(oms_id_, account_id_, order_id);
  auto answer = co_await call(wire::fn::get_order_status, status_body, call_kind::read);
  if (!answer) co_return std::unexpected(std::move(answer.error()));
  auto o = parse_order_status(answer->body);
  if (!o) co_return std::unexpected(std::move(o.error()));
  if (o->order_id != order_id) {
    co_return fail(error_kind::bad_response,
                   fmt::format("kiiex: asked for order {}, got {}", order_id, o->order_id));
  }
  const std::optional<market_info> listed = find_market(o->instrument_id);
  if (!listed) {
    co_return fail(
        error_kind::bad_response,
        fmt::format("kiiex: order {} is on unknown instrument {}", order_id, o->instrument_id));
  }
  const market_info& market = *listed;
  const bool buy = o->side == wire::side::buy;
  leg_status out;
  out.ref.provider_ref = std::to_string(order_id);
  out.ref.client = wanted_client;
  out.state = map_state(*o);
  out.provider_status = o->state_text;
  out.direction_code = direction_code(market, o->side);
  const decimal notional = o->orig_quantity.mul(o->price, rounding::up).value_or(decimal{});
  // A buy by Value (a market order) has no ordered quantity in the record: what it spends is
  // known only from its executions.
  const bool by_value = buy && o->order_type == "Market";
  out.spend_amount = !buy       ? o->orig_quantity
                     : by_value ? o->gross_value_executed
                                : notional.round(market.quote.decimal_places, rounding::up);
  out.receive_amount =
      buy ? o->orig_quantity : notional.round(market.quote.decimal_places, rounding::down);
  out.reason_code = o->change_reason;
  out.reason_message = o->reject_reason;
  if (o->quantity_executed.is_positive()) {
    // Fills and fees come from the trades (VENUES.md Part 1 "KIIEX"), not from the order.
    auto trades = co_await order_trades(order_id, o->quantity_executed);
    if (!trades) co_return std::unexpected(std::move(trades.error()));
    decimal quantity;
    decimal value;
    decimal fee;
    decimal spend_fee;
    const std::int64_t received_product = buy ? market.base.product_id : market.quote.product_id;
    const std::int64_t spent_product = buy ? market.quote.product_id : market.base.product_id;
    for (const auto& t : *trades) {
      quantity += t.quantity;
      value += t.value;
      // APEX takes the fee in the product received unless the operator set it to the product
      // given (VENUES.md 1.4 "Fees"): then the account pays it on top of what it traded.
      if (t.fee_product_id == spent_product) {
        spend_fee += t.fee;
      } else if (t.fee_product_id == received_product || t.fee_product_id == 0) {
        fee += t.fee;
      }
    }
    if (is_final(out.state) && quantity != o->quantity_executed) {
      co_return fail(error_kind::bad_response,
                     fmt::format("kiiex: order {} executed {} but its trades sum to {}", order_id,
                                 o->quantity_executed.to_string(), quantity.to_string()));
    }
    out.spend_filled = (buy ? value : quantity) + spend_fee;
    out.spend_fee_filled = spend_fee;
    out.receive_filled = buy ? quantity : value;
    out.fee_filled = fee;
  }
  out.created_at = clocks_.wall();
  co_return out;
}

// GetTradesHistory pages Depth rows from StartIndex, 0 the newest (APX4). A server may answer
// fewer rows than asked, so a short page ends the read only when the trades cover what the order
// executed; otherwise the next page is read, up to an empty one. StartIndex moves by the rows
// read: a trade arriving meanwhile pushes older ones back, and a TradeId seen again is skipped.
task<result<std::vector<trade>>> client::order_trades(std::int64_t order_id, decimal executed) {
  const int depth = std::max(1, options_.trades_page);
  const int max_pages = std::max(1, options_.trades_max_pages);
  std::vector<trade> out;
  std::set<std::int64_t> seen;
  decimal quantity;
  std::int64_t start = 0;
  for (int page = 0; page < max_pages; ++page) {
    const std::string body =
        request_builder::trades_body(oms_id_, account_id_, order_id, depth, start);
    auto answer = co_await call(wire::fn::get_trades_history, body, call_kind::read);
    if (!answer) co_return std::unexpected(std::move(answer.error()));
    auto rows = parse_trades(answer->body);
    if (!rows) co_return std::unexpected(std::move(rows.error()));
    for (auto& t : *rows) {
      if (t.order_id != order_id || !seen.insert(t.trade_id).second) continue;
      quantity += t.quantity;
      out.push_back(std::move(t));
    }
    const auto read = static_cast<std::int64_t>(rows->size());
    if (read == 0 || (read < depth && quantity >= executed)) co_return out;
    start += read;
  }
  // Settling on the pages read would report part of the fills as all of them.
  co_return fail(error_kind::bad_response,
                 fmt::format("kiiex: order {} has trades beyond {} GetTradesHistory pages of {}",
                             order_id, max_pages, depth));
}

task<result<leg_status>> client::status(const leg_ref& ref) {
  const leg_ref wanted = ref;
  std::int64_t order_id = 0;
  const auto [end, ec] =
      std::from_chars(wanted.provider_ref.data(),
                      wanted.provider_ref.data() + wanted.provider_ref.size(), order_id);
  if (ec != std::errc{} || end != wanted.provider_ref.data() + wanted.provider_ref.size() ||
      order_id <= 0) {
    co_return fail(error_kind::invalid_argument, "kiiex: an OrderId is a positive integer");
  }
  co_return co_await status_of(order_id, wanted.client);
}

// Looked up by ClientOrderId, not by amount: `held` is not needed (the executor still checks the
// one answer against the journal).
task<result<std::optional<leg_status>>> client::find(const client_id& id, const leg& leg,
                                                     const held_swaps&) {
  const client_id wanted_id = id;
  const swaprouter::leg wanted = leg;
  const std::int64_t client_order_id = wire::client_order_id(wanted_id);
  std::set<std::int64_t> order_ids;
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  const std::string open_body = request_builder::account_body(oms_id_, account_id_);
  auto open_answer = co_await call(wire::fn::get_open_orders, open_body, call_kind::read);
  if (!open_answer) co_return std::unexpected(std::move(open_answer.error()));
  auto open_orders = parse_orders(open_answer->body);
  if (!open_orders) co_return std::unexpected(std::move(open_orders.error()));
  for (const auto& o : *open_orders) {
    if (o.client_order_id == client_order_id) order_ids.insert(o.order_id);
  }
  const std::string history_body =
      request_builder::history_body(oms_id_, account_id_, client_order_id);
  auto history_answer = co_await call(wire::fn::get_orders_history, history_body, call_kind::read);
  if (!history_answer) co_return std::unexpected(std::move(history_answer.error()));
  auto history = parse_orders(history_answer->body);
  if (!history) co_return std::unexpected(std::move(history.error()));
  for (const auto& o : *history) {
    if (o.client_order_id == client_order_id) order_ids.insert(o.order_id);
  }
  if (order_ids.empty()) co_return std::optional<leg_status>{};
  if (order_ids.size() > 1) {
    co_return fail(error_kind::bad_response,
                   fmt::format("kiiex: inconsistent: {} orders for ClientOrderId {}",
                               order_ids.size(), client_order_id));
  }
  auto found = co_await status_of(*order_ids.begin(), wanted_id);
  if (!found) co_return std::unexpected(std::move(found.error()));
  if (!wanted.direction_code.empty() && found->direction_code != wanted.direction_code) {
    co_return fail(
        error_kind::bad_response,
        fmt::format("kiiex: inconsistent: order {} is {}, not {}", found->ref.provider_ref,
                    found->direction_code, wanted.direction_code));
  }
  // A ClientOrderId is ours only by convention: an order under it for another amount is not
  // this leg's (FAULTS.md 25). What submit() sends: a sell of the amount rounded down to the
  // quantity increment, a buy by value that never spends more than the amount.
  if (const auto market = find_direction(wanted.direction_code)) {
    const bool sell = market->second == wire::side::sell;
    const auto sent = order_spend(market->first, market->second, wanted.amount);
    if (!sent || (sell ? found->spend_amount != *sent : found->spend_amount > *sent)) {
      co_return fail(error_kind::bad_response,
                     fmt::format("kiiex: inconsistent: order {} spends {}, the leg {}",
                                 found->ref.provider_ref, found->spend_amount.to_string(),
                                 wanted.amount.to_string()));
    }
  }
  co_return std::optional<leg_status>(std::move(*found));
}

task<result<leg_status>> client::cancel(const leg_ref& ref) {
  const leg_ref wanted = ref;
  std::int64_t order_id = 0;
  const auto [end, ec] =
      std::from_chars(wanted.provider_ref.data(),
                      wanted.provider_ref.data() + wanted.provider_ref.size(), order_id);
  if (ec != std::errc{} || end != wanted.provider_ref.data() + wanted.provider_ref.size() ||
      order_id <= 0) {
    co_return fail(error_kind::invalid_argument, "kiiex: an OrderId is a positive integer");
  }
  auto ready = co_await ensure_markets();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  const std::string cancel_body = request_builder::order_body(oms_id_, account_id_, order_id);
  auto answer = co_await call(wire::fn::cancel_order, cancel_body, call_kind::read);
  if (!answer) co_return std::unexpected(std::move(answer.error()));
  co_return co_await status_of(order_id, wanted.client);
}

task<result<std::vector<balance>>> client::balances() {
  if (token_.empty()) {
    auto logged = co_await shared_login();
    if (!logged) co_return std::unexpected(std::move(logged.error()));
  }
  const std::string positions_request = request_builder::positions_body(oms_id_, account_id_);
  auto answer = co_await call(wire::fn::get_account_positions, positions_request, call_kind::read);
  if (!answer) co_return std::unexpected(std::move(answer.error()));
  auto positions = parse_positions(answer->body);
  if (!positions) co_return std::unexpected(std::move(positions.error()));
  std::vector<balance> out;
  for (const auto& p : *positions) {
    out.push_back(balance{p.product_symbol, p.amount - p.hold, p.hold});
  }
  co_return out;
}

}  // namespace swaprouter::kiiex
