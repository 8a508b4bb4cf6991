#include "adapters/kiiex/emulator.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "adapters/kiiex/book.hpp"
#include "adapters/kiiex/wire.hpp"
#include "adapters/sim/binding.hpp"
#include "adapters/sim/emulator_config.hpp"
#include "engine/hmac.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::kiiex {
namespace {

using sim::sim_request;
using sim::sim_response;
using steady_clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::int64_t unix_ms(wall_time t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

sim_response generic(int status, bool ok, int code, std::string_view message,
                     std::string_view detail = {}) {
  json_out j;
  j.begin_object().key(wire::generic_field::result).boolean(ok);
  j.key(wire::generic_field::errormsg);
  if (message.empty()) {
    j.null();
  } else {
    j.str(message);
  }
  j.field_int(wire::generic_field::errorcode, code).key(wire::generic_field::detail);
  if (detail.empty()) {
    j.null();
  } else {
    j.str(detail);
  }
  j.end_object();
  return sim_response::json(status, j.take());
}

sim_response invalid_request(std::string_view detail) {
  return generic(200, false, wire::errorcode::invalid_request, wire::errormsg::invalid_request,
                 detail);
}

sim_response not_found(std::string_view detail) {
  return generic(200, false, wire::errorcode::resource_not_found,
                 wire::errormsg::resource_not_found, detail);
}

sim_response not_authorized() {
  // KIIDOC: 401 Unauthorized; the body is AlphaPoint's errorcode 20.
  return generic(401, false, wire::errorcode::not_authorized, wire::errormsg::not_authorized);
}

sim_response order_rejected(std::string_view reason) {
  json_out j;
  j.begin_object()
      .field(wire::send_order_field::status, wire::send_order_status::rejected)
      .field(wire::send_order_field::errormsg, reason)
      .field_int(wire::send_order_field::errorcode, wire::errorcode::operation_failed)
      .end_object();
  return sim_response::json(200, j.take());
}

// A request's parameters by lower-cased name: top-level JSON members or query parameters. JSON
// strings and numbers are both accepted as text (APEX is lenient with "1" vs 1).
struct params {
  std::map<std::string, std::string> values;

  static std::optional<params> from(const sim_request& request) {
    params out;
    for (const auto& [k, v] : request.query_params) out.values.emplace(lower(k), v);
    if (request.body.empty()) return out;
    auto root = parse_json_text(request.body, "request", json_limits{.max_body_bytes = 1u << 20});
    if (!root || root->type != json_value::kind::object) return std::nullopt;
    for (std::size_t i = 0; i < root->keys.size(); ++i) {
      const json_value& v = root->items[i];
      if (v.type == json_value::kind::string || v.type == json_value::kind::number) {
        out.values[lower(root->keys[i])] = std::string(v.text);
      } else if (v.type == json_value::kind::boolean) {
        out.values[lower(root->keys[i])] = v.flag ? "true" : "false";
      }
    }
    return out;
  }

  std::optional<std::string_view> text(std::string_view key) const {
    auto it = values.find(lower(key));
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::int64_t> integer(std::string_view key) const {
    auto t = text(key);
    if (!t) return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc{} || end != t->data() + t->size()) return std::nullopt;
    return v;
  }
  std::optional<decimal> amount(std::string_view key) const {
    auto t = text(key);
    if (!t) return std::nullopt;
    auto d = decimal::parse(*t);
    if (!d) return std::nullopt;
    return *d;
  }
};

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 1024) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct market_spec {
  std::int64_t instrument_id = 0;
  std::string base;
  std::string quote;
  std::int64_t base_id = 0;
  std::int64_t quote_id = 0;
  int base_places = 8;
  int quote_places = 8;
  decimal quantity_increment;
  decimal fee_percent;
  decimal spread;
  const sim::direction_config* config = nullptr;
  std::string symbol() const { return base + quote; }
};

struct trade_record {
  std::int64_t trade_id = 0;
  std::int64_t order_id = 0;
  std::int64_t client_order_id = 0;
  std::int64_t instrument_id = 0;
  wire::side side = wire::side::buy;
  book_fill fill;
  std::int64_t fee_product_id = 0;
  decimal remaining;
  wall_time at{};
};

struct order_record {
  std::int64_t order_id = 0;
  std::int64_t client_order_id = 0;
  std::int64_t instrument_id = 0;
  wire::side side = wire::side::buy;
  wire::order_type type = wire::order_type::limit;
  wire::time_in_force tif = wire::time_in_force::gtc;
  std::optional<decimal> quantity;  // ordered quantity (absent: a market order by Value)
  std::optional<decimal> value;
  std::optional<decimal> limit_price;
  decimal executed;
  decimal gross_value;
  decimal hold;      // still frozen for this order
  decimal fee_hold;  // still frozen for its fee in the product given (fee_in_spent_product)
  wire::order_state state = wire::order_state::working;
  std::string change_reason{wire::change_reason::new_input_accepted};
  wall_time received{};
  wall_time updated{};
};

struct session {
  steady_clock::time_point created;
  steady_clock::time_point last_used;
};

// Writes a parsed request value back out (depositInfo, TemplateForm). parse_json_text bounds the
// depth (32), so the recursion is bounded.
void write_value(json_out& j, const json_value& v) {
  switch (v.type) {
    case json_value::kind::null:
      j.null();
      break;
    case json_value::kind::boolean:
      j.boolean(v.flag);
      break;
    case json_value::kind::number:
      j.raw_number(v.text);
      break;
    case json_value::kind::string:
      j.str(v.text);
      break;
    case json_value::kind::array:
      j.begin_array();
      for (const auto& item : v.items) write_value(j, item);
      j.end_array();
      break;
    case json_value::kind::object:
      j.begin_object();
      for (std::size_t i = 0; i < v.keys.size(); ++i) {
        j.key(v.keys[i]);
        write_value(j, v.items[i]);
      }
      j.end_object();
      break;
  }
}

// Index of a status in wire::deposit_status_names / withdraw_status_names (same in both).
constexpr std::size_t ticket_new = 0;
constexpr std::size_t ticket_fully_processed = 5;

struct ticket_record {
  bool withdraw = false;
  std::int64_t ticket_number = 0;
  std::string request_code;  // GUID (APX4 "requestcode")
  std::string reference_id;  // APX4 "referenceid"
  std::string verify_code;   // withdraw: the code the confirmation e-mail carries
  std::string asset;
  std::int64_t asset_id = 0;
  decimal amount;
  std::size_t status = ticket_new;
  // deposit: depositInfo written back out (a JSON object); withdraw: TemplateForm's text.
  std::string info;
  std::string template_type;
  std::string request_ip;
  wall_time created{};
  wall_time updated{};
};

}  // namespace

struct emulator::impl : std::enable_shared_from_this<impl> {
  impl(sim::timer_set timers, sim::server& server, sim::market& market, sim::provider_config config,
       const sim::emulator_options& options, emulator_settings settings)
      : server_(server),
        market_(market),
        config_(std::move(config)),
        settings_(std::move(settings)),
        rng_(options.seed),
        timers_(std::move(timers)) {
    sim::check_assets(config_, market_);
    for (auto& credential : config_.credentials) {
      // A disabled key (active: false) cannot log in: it is refused like an unknown one.
      if (credential.active) keys_.emplace(credential.access_key, hmac_sha256(credential.secret));
      // The emulator keeps its demo secret only inside the keyed HMAC context.
      credential.secret.clear();
    }
    const auto codes = market_.asset_codes();
    for (std::size_t i = 0; i < codes.size(); ++i) {
      product_ids_[codes[i]] = static_cast<std::int64_t>(i + 1);
    }
    for (const auto& d : config_.directions) {
      const sim::asset_info& base = *market_.find_asset(d.spend);
      const sim::asset_info& quote = *market_.find_asset(d.receive);
      market_spec m;
      m.instrument_id = static_cast<std::int64_t>(markets_.size() + 1);
      m.base = d.spend;
      m.quote = d.receive;
      m.base_id = product_ids_.at(d.spend);
      m.quote_id = product_ids_.at(d.receive);
      m.base_places = base.precision;
      m.quote_places = d.receive_precision.value_or(quote.precision);
      const int quantity_places = d.spend_precision.value_or(base.precision);
      m.quantity_increment = decimal::unit(quantity_places);
      m.fee_percent = d.fee_percent.value_or(config_.fee_percent);
      m.spread = d.spread.value_or(config_.spread);
      m.config = &d;
      markets_.push_back(m);
    }
    sim::set_balances(ledger_, config_);
  }

  void install() {
    const sim::emulator_binding<impl> binding(
        weak_from_this(),
        generic(503, false, wire::errorcode::server_error, wire::errormsg::server_error));
    using handler_fn = sim_response (impl::*)(const sim_request&, const params&);
    auto add = [&](std::string_view name, handler_fn handler) {
      auto bound = [binding, handler](const sim_request& request) {
        auto self = binding.live();
        if (!self) return binding.stopped();
        auto p = params::from(request);
        if (!p) return invalid_request("the body must be a JSON object");
        return ((*self).*handler)(request, *p);
      };
      server_.route("POST", wire::path(name), bound);
      server_.route("GET", wire::path(name), bound);
    };
    namespace fn = wire::fn;
    add(fn::authenticate_user, &impl::authenticate);
    add(fn::logout, &impl::logout);
    add(fn::get_instruments, &impl::get_instruments);
    add(fn::get_instrument, &impl::get_instrument);
    add(fn::get_products, &impl::get_products);
    add(fn::get_level1, &impl::get_level1);
    add(fn::get_level1_summary_min, &impl::get_level1_summary_min);
    add(fn::get_l2_snapshot, &impl::get_l2_snapshot);
    add(fn::get_order_fee, &impl::get_order_fee);
    add(fn::send_order, &impl::send_order);
    add(fn::cancel_order, &impl::cancel_order);
    add(fn::get_order_status, &impl::get_order_status);
    add(fn::get_open_orders, &impl::get_open_orders);
    add(fn::get_orders_history, &impl::get_orders_history);
    add(fn::get_trades_history, &impl::get_trades_history);
    add(fn::get_account_positions, &impl::get_account_positions);
    add(fn::create_deposit_ticket, &impl::create_deposit_ticket);
    add(fn::get_deposit_ticket, &impl::get_deposit_ticket);
    add(fn::get_deposit_tickets, &impl::get_deposit_tickets);
    add(fn::create_withdraw_ticket, &impl::create_withdraw_ticket);
    add(fn::get_withdraw_ticket, &impl::get_withdraw_ticket);
    add(fn::get_withdraw_tickets, &impl::get_withdraw_tickets);
    add(fn::get_withdraw_ticket_by_verify_code, &impl::get_withdraw_ticket_by_verify_code);
    binding.install(server_, config_.faults);
  }

  // --- sessions --------------------------------------------------------------------------------

  std::optional<sim_response> before_route(const sim_request& request, std::string_view pattern) {
    if (pattern == wire::path(wire::fn::authenticate_user)) return std::nullopt;
    const std::string_view token = session_token(request);
    auto it = sessions_.find(std::string(token));
    if (token.empty() || it == sessions_.end()) return not_authorized();
    const auto now = steady_clock::now();
    const bool idle = now - it->second.last_used > config_.session.idle_timeout;
    const bool old = config_.session.max_age && now - it->second.created > *config_.session.max_age;
    if (idle || old) {
      sessions_.erase(it);
      return not_authorized();
    }
    it->second.last_used = now;
    return std::nullopt;
  }

  sim_response login_refused(std::string_view message) {
    ++failures_;
    if (failures_ >= settings_.lockout_failures) locked_ = true;
    json_out j;
    // KIIDOC AuthenticateUser.yaml: HTTP 400 with {authenticated, locked, errormsg}, in that
    // document's case (clients read keys ignoring case).
    j.begin_object()
        .key(wire::auth_field::refused_authenticated)
        .boolean(false)
        .key(wire::auth_field::refused_locked)
        .boolean(locked_)
        .field(wire::auth_field::errormsg, locked_ ? "User is locked" : message)
        .end_object();
    return sim_response::json(400, j.take());
  }

  sim_response authenticate(const sim_request& request, const params& p) {
    const auto pick = [&](std::string_view name) -> std::string {
      if (auto h = request.header(name); !h.empty()) return std::string(h);
      if (auto v = p.text(name)) return std::string(*v);
      return {};
    };
    const std::string api_key = pick(wire::header::api_key);
    bool ok = false;
    if (!api_key.empty()) {
      const std::string signature = pick(wire::header::signature);
      const std::string user_id = pick(wire::header::user_id);
      const std::string nonce = pick(wire::header::nonce);
      auto key = keys_.find(api_key);
      if (key != keys_.end() && !nonce.empty() && user_id == std::to_string(settings_.user_id)) {
        const std::string expected = wire::login_signature(key->second, nonce, user_id, api_key);
        ok = same_secret(expected, signature);
      }
    } else {
      std::string user = pick(wire::field::user_name);
      std::string password = pick(wire::field::password);
      std::string_view authorization = request.header(wire::header::authorization);
      // APX4 shows the base64 "user:password" without the "Basic " prefix: both are taken.
      if (authorization.starts_with(wire::basic_prefix)) {
        authorization.remove_prefix(wire::basic_prefix.size());
      }
      if (!authorization.empty()) {
        if (auto decoded = base64_decode(authorization)) {
          const auto colon = decoded->find(':');
          if (colon != std::string::npos) {
            user = decoded->substr(0, colon);
            password = decoded->substr(colon + 1);
          }
        }
      }
      ok = user == settings_.user_name && same_secret(password, settings_.password);
    }
    if (locked_) return login_refused("User is locked");
    if (!ok) return login_refused("Invalid username or password");
    failures_ = 0;
    std::string token;
    for (int i = 0; i < 4; ++i) {
      char chunk[17];
      std::snprintf(chunk, sizeof chunk, "%016llx", static_cast<unsigned long long>(rng_()));
      token += chunk;
    }
    const auto now = steady_clock::now();
    sessions_[token] = session{now, now};
    json_out j;
    j.begin_object()
        .key(wire::auth_field::authenticated)
        .boolean(true)
        .field(wire::auth_field::session_token, token)
        .key(wire::auth_field::user)
        .begin_object()
        .field_int(wire::field::user_id, settings_.user_id)
        .field(wire::field::user_name, settings_.user_name)
        .field("Email", settings_.user_name + "@example.invalid")
        .key("EmailVerified")
        .boolean(true)
        .field_int(wire::field::account_id, settings_.account_id)
        .field_int(wire::field::oms_id, settings_.oms_id)
        .key("Use2FA")
        .boolean(false)
        .end_object()
        .key(wire::auth_field::locked)
        .boolean(false)
        .key(wire::auth_field::requires_2fa)
        .boolean(false)
        .key("EnforceEnable2FA")
        .boolean(false)
        .key("TwoFAType")
        .null()
        .key("TwoFAToken")
        .null()
        .key(wire::auth_field::errormsg)
        .null()
        .end_object();
    return sim_response::json(200, j.take());
  }

  // The session token of a call: aptoken, or the Bearer form (VENUES.md Part 1 "KIIEX").
  static std::string_view session_token(const sim_request& request) {
    std::string_view token = request.header(wire::header::aptoken);
    const std::string_view authorization = request.header(wire::header::authorization);
    if (token.empty() && authorization.starts_with(wire::bearer_prefix)) {
      token = authorization.substr(wire::bearer_prefix.size());
    }
    return token;
  }

  sim_response logout(const sim_request& request, const params&) {
    sessions_.erase(std::string(session_token(request)));
    return generic(200, true, 0, {});
  }

  bool own_account(const params& p) const {
    return p.integer(wire::field::account_id).value_or(0) == settings_.account_id;
  }

  // --- market data -----------------------------------------------------------------------------

  const market_spec* find_market(std::optional<std::int64_t> id) const {
    if (!id || *id < 1 || *id > static_cast<std::int64_t>(markets_.size())) return nullptr;
    return &markets_[static_cast<std::size_t>(*id - 1)];
  }

  result<decimal> mid(const market_spec& m) const { return market_.mid_rate(m.base, m.quote); }

  decimal price_increment(const market_spec& m) const {
    auto mid_price = mid(m);
    if (!mid_price || !mid_price->is_positive()) return decimal::unit(8);
    const std::string text = mid_price->to_string();
    const auto dot = text.find('.');
    int places = 0;
    if (*mid_price >= decimal::from_int(1)) {
      const int digits = static_cast<int>(dot == std::string::npos ? text.size() : dot);
      places = std::clamp(settings_.significant_price_digits - digits, 0, decimal::scale);
    } else {
      const auto first = text.find_first_not_of("0.", dot);
      const int zeros = static_cast<int>(first - dot - 1);
      places = std::clamp(settings_.significant_price_digits + zeros, 0, decimal::scale);
    }
    return decimal::unit(places);
  }

  decimal minimum_quantity(const market_spec& m) const {
    if (m.config != nullptr && m.config->min_spend && *m.config->min_spend) {
      return **m.config->min_spend;
    }
    auto usd = market_.mid_usd(m.base);
    if (!usd || !usd->is_positive()) return m.quantity_increment;
    auto q = config_.min_spend_usd.div(*usd, rounding::up);
    if (!q) return m.quantity_increment;
    return std::max(m.quantity_increment,
                    q->round_to_increment(m.quantity_increment, rounding::up).value_or(*q));
  }

  // The book now: levels around the mid less what trades consumed (VENUES.md 1.4 "walks the
  // book"); consumption is forgotten `replenish` after the instrument's last trade.
  std::pair<std::vector<book_level>, std::vector<book_level>> book(const market_spec& m) {
    std::vector<book_level> bids;
    std::vector<book_level> asks;
    auto mid_price = mid(m);
    auto usd = market_.mid_usd(m.base);
    if (!mid_price || !usd || !usd->is_positive()) return {bids, asks};
    auto& used = consumed_[m.instrument_id];
    if (steady_clock::now() - used.last_trade > settings_.replenish) {
      used.bids.clear();
      used.asks.clear();
    }
    const decimal tick = price_increment(m);
    const decimal hundred = decimal::from_int(100);
    for (int i = 0; i < settings_.book_levels; ++i) {
      const decimal away =
          m.spread.mul_div(decimal::from_int(1), decimal::from_int(2), rounding::down)
              .value_or(decimal{}) +
          settings_.level_step_percent.mul(decimal::from_int(i), rounding::down)
              .value_or(decimal{});
      auto ask = mid_price->mul_div(hundred + away, hundred, rounding::up);
      auto bid = mid_price->mul_div(hundred - away, hundred, rounding::down);
      auto quantity = settings_.level_usd.mul(decimal::from_int(i + 1), rounding::down)
                          .value_or(decimal{})
                          .div(*usd, rounding::down);
      if (!ask || !bid || !quantity) continue;
      const decimal q =
          quantity->round_to_increment(m.quantity_increment, rounding::down).value_or(decimal{});
      const decimal ask_price = ask->round_to_increment(tick, rounding::up).value_or(*ask);
      const decimal bid_price = bid->round_to_increment(tick, rounding::down).value_or(*bid);
      const auto left = [&](std::map<int, decimal>& side) {
        const decimal rest = q - side[i];
        return rest.is_negative() ? decimal{} : rest;
      };
      if (decimal a = left(used.asks); a.is_positive()) asks.push_back({ask_price, a});
      if (decimal b = left(used.bids); b.is_positive() && bid_price.is_positive()) {
        bids.push_back({bid_price, b});
      }
    }
    return {bids, asks};
  }

  void consume(const market_spec& m, wire::side taker, const std::vector<book_fill>& fills) {
    auto& used = consumed_[m.instrument_id];
    auto& side = taker == wire::side::buy ? used.asks : used.bids;
    for (const auto& f : fills) {
      // Level index by price: the book is rebuilt from the same mid until the market moves.
      for (int i = 0; i < settings_.book_levels; ++i) {
        const auto full = full_level_price(m, taker, i);
        if (full && *full == f.price) side[i] += f.quantity;
      }
    }
    used.last_trade = steady_clock::now();
  }

  std::optional<decimal> full_level_price(const market_spec& m, wire::side taker, int i) const {
    auto mid_price = mid(m);
    if (!mid_price) return std::nullopt;
    const decimal hundred = decimal::from_int(100);
    const decimal away =
        m.spread.mul_div(decimal::from_int(1), decimal::from_int(2), rounding::down)
            .value_or(decimal{}) +
        settings_.level_step_percent.mul(decimal::from_int(i), rounding::down).value_or(decimal{});
    const decimal tick = price_increment(m);
    if (taker == wire::side::buy) {
      auto ask = mid_price->mul_div(hundred + away, hundred, rounding::up);
      if (!ask) return std::nullopt;
      return ask->round_to_increment(tick, rounding::up).value_or(*ask);
    }
    auto bid = mid_price->mul_div(hundred - away, hundred, rounding::down);
    if (!bid) return std::nullopt;
    return bid->round_to_increment(tick, rounding::down).value_or(*bid);
  }

  void write_instrument(json_out& j, const market_spec& m) const {
    namespace f = wire::instrument_field;
    j.begin_object()
        .field_int(wire::field::oms_id, settings_.oms_id)
        .field_int(f::instrument_id, m.instrument_id)
        .field(f::symbol, m.symbol())
        .field_int(f::product1, m.base_id)
        .field(f::product1_symbol, m.base)
        .field_int(f::product2, m.quote_id)
        .field(f::product2_symbol, m.quote)
        .field("InstrumentType", "Standard")
        .field(f::session_status, "Running")
        .field(f::quantity_increment, m.quantity_increment)
        .field(f::price_increment, price_increment(m))
        .field(f::minimum_quantity, minimum_quantity(m))
        .field(f::minimum_price, price_increment(m))
        .key(f::is_disable)
        .boolean(m.config != nullptr && !m.config->enabled)
        .end_object();
  }

  sim_response get_instruments(const sim_request&, const params& p) {
    // APX4: active instruments only, unless InstrumentState is "Both" or "Inactive".
    const std::string state = lower(p.text(wire::field::instrument_state).value_or(""));
    json_out j;
    j.begin_array();
    for (const auto& m : markets_) {
      const bool disabled = m.config != nullptr && !m.config->enabled;
      if (state != "both" && disabled != (state == "inactive")) continue;
      write_instrument(j, m);
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_instrument(const sim_request&, const params& p) {
    const market_spec* m = find_market(p.integer(wire::field::instrument_id));
    if (m == nullptr) return not_found("no such instrument");
    json_out j;
    write_instrument(j, *m);
    return sim_response::json(200, j.take());
  }

  sim_response get_products(const sim_request&, const params&) {
    namespace f = wire::product_field;
    json_out j;
    j.begin_array();
    for (const auto& [code, id] : product_ids_) {
      const sim::asset_info& a = *market_.find_asset(code);
      j.begin_object()
          .field_int(wire::field::oms_id, settings_.oms_id)
          .field_int(f::product_id, id)
          .field(f::product, a.code)
          .field(f::product_full_name, a.name)
          .field(f::product_type, a.is_fiat ? "NationalCurrency" : "CryptoCurrency")
          .field_int(f::decimal_places, a.precision)
          .field(f::tick_size, decimal::unit(a.precision))
          .key("DepositEnabled")
          .boolean(true)
          .key("WithdrawEnabled")
          .boolean(true)
          .key(f::no_fees)
          .boolean(false)
          .key(f::is_disabled)
          .boolean(false)
          .end_object();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_level1(const sim_request&, const params& p) {
    const market_spec* m = find_market(p.integer(wire::field::instrument_id));
    if (m == nullptr) return not_found("no such instrument");
    auto [bids, asks] = book(*m);
    namespace f = wire::level1_field;
    json_out j;
    j.begin_object()
        .field_int(wire::field::oms_id, settings_.oms_id)
        .field_int(f::instrument_id, m->instrument_id)
        .field(f::best_bid, bids.empty() ? decimal{} : bids.front().price);
    // No ask is decimal.MaxValue (VENUES.md 1.1), beyond what a decimal here holds.
    if (asks.empty()) {
      j.key(f::best_offer).raw_number(f::no_level_price);
    } else {
      j.field(f::best_offer, asks.front().price);
    }
    j.field(f::last_traded_px, last_price(*m))
        .field(f::bid_qty, bids.empty() ? decimal{} : bids.front().quantity)
        .field(f::ask_qty, asks.empty() ? decimal{} : asks.front().quantity)
        .field(f::time_stamp, std::to_string(unix_ms(std::chrono::system_clock::now())))
        .end_object();
    return sim_response::json(200, j.take());
  }

  decimal last_price(const market_spec& m) const {
    for (auto it = trades_.rbegin(); it != trades_.rend(); ++it) {
      if (it->instrument_id == m.instrument_id) return it->fill.price;
    }
    return mid(m).value_or(decimal{});
  }

  sim_response get_level1_summary_min(const sim_request&, const params& p) {
    std::vector<std::int64_t> wanted;
    if (auto ids = p.text(wire::field::instrument_ids)) {
      // InstrumentIds is a JSON array serialised into a string (APX4, VENUES.md 1.4).
      auto parsed = parse_json_text(*ids, "InstrumentIds");
      if (!parsed || parsed->type != json_value::kind::array) {
        return invalid_request("InstrumentIds must be a JSON array in a string, e.g. \"[1]\"");
      }
      for (const auto& v : parsed->items) {
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), id);
        if (v.type != json_value::kind::number || ec != std::errc{}) {
          return invalid_request("InstrumentIds must hold integers");
        }
        wanted.push_back(id);
      }
    }
    json_out j;
    j.begin_array();
    for (const auto& m : markets_) {
      if (!wanted.empty() &&
          std::find(wanted.begin(), wanted.end(), m.instrument_id) == wanted.end()) {
        continue;
      }
      decimal volume;
      for (const auto& t : trades_) {
        if (t.instrument_id == m.instrument_id) volume += t.fill.quantity;
      }
      j.begin_array()
          .integer(m.instrument_id)
          .str(m.symbol())
          .num(last_price(m))
          .num(decimal{})
          .num(decimal{})
          .num(volume)
          .end_array();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_l2_snapshot(const sim_request&, const params& p) {
    const market_spec* m = find_market(p.integer(wire::field::instrument_id));
    if (m == nullptr) return not_found("no such instrument");
    const std::int64_t depth =
        std::max<std::int64_t>(1, p.integer(wire::field::depth).value_or(100));
    auto [bids, asks] = book(*m);
    const std::int64_t now = unix_ms(std::chrono::system_clock::now());
    const decimal last = last_price(*m);
    json_out j;
    j.begin_array();
    const auto write = [&](const std::vector<book_level>& levels, int side) {
      for (std::size_t i = 0; i < levels.size() && static_cast<std::int64_t>(i) < depth; ++i) {
        j.begin_array()
            .integer(++md_update_id_)
            .integer(1)
            .integer(now)
            .integer(0)
            .num(last)
            .integer(1)
            .num(levels[i].price)
            .integer(m->instrument_id)
            .num(levels[i].quantity)
            .integer(side)
            .end_array();
      }
    };
    write(bids, 0);
    write(asks, 1);
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_order_fee(const sim_request&, const params& p) {
    const market_spec* m = find_market(p.integer(wire::field::instrument_id));
    auto quantity = p.amount(wire::field::quantity);
    auto price = p.amount(wire::field::price);
    auto side_text = p.text(wire::field::side);
    if (m == nullptr || !quantity || !side_text) {
      return invalid_request("InstrumentId, Quantity and Side are required");
    }
    const auto side = wire::parse_side(
        *side_text, !side_text->empty() && (*side_text)[0] >= '0' && (*side_text)[0] <= '9');
    if (!side) return invalid_request("Side must be 0 (Buy) or 1 (Sell)");
    // An estimate without rounding: the fee percentage of what the order would receive, or of
    // what it would give where the fee is charged in the product given.
    const bool buy = *side == wire::side::buy;
    const bool in_quote = buy == settings_.fee_in_spent_product;
    decimal charged_on = *quantity;
    if (in_quote) {
      charged_on = quantity->mul(price.value_or(mid(*m).value_or(decimal{})), rounding::down)
                       .value_or(decimal{});
    }
    const decimal fee = charged_on.mul_div(m->fee_percent, decimal::from_int(100), rounding::up)
                            .value_or(decimal{});
    json_out j;
    j.begin_object()
        .field(wire::order_fee_field::order_fee, fee)
        .field_int(wire::order_fee_field::product_id, in_quote ? m->quote_id : m->base_id)
        .end_object();
    return sim_response::json(200, j.take());
  }

  // --- trading ---------------------------------------------------------------------------------

  trade_rules rules_of(const market_spec& m) const {
    return {m.quantity_increment, m.base_places, m.quote_places, m.fee_percent};
  }

  static bool multiple_of(decimal value, decimal increment) {
    auto r = value.round_to_increment(increment, rounding::down);
    return r && *r == value;
  }

  sim_response send_order(const sim_request&, const params& p) {
    namespace rr = wire::reject_reason;
    if (!own_account(p)) return order_rejected("Invalid_AccountId");
    const market_spec* m = find_market(p.integer(wire::field::instrument_id));
    if (m == nullptr) return order_rejected(rr::invalid_instrument);
    if (m->config != nullptr && !m->config->enabled) return order_rejected(rr::invalid_instrument);
    const auto side = p.integer(wire::field::side);
    const auto type = p.integer(wire::field::order_type);
    const auto tif = p.integer(wire::field::time_in_force).value_or(1);
    if (!side || (*side != 0 && *side != 1)) return order_rejected(rr::invalid_order);
    if (!type || (*type != 1 && *type != 2)) return order_rejected(rr::invalid_order);
    if (tif != 1 && tif != 3 && tif != 4) return order_rejected(rr::invalid_order);
    order_record o;
    o.instrument_id = m->instrument_id;
    o.side = static_cast<wire::side>(*side);
    o.type = static_cast<wire::order_type>(*type);
    o.tif = static_cast<wire::time_in_force>(tif);
    o.client_order_id = p.integer(wire::field::client_order_id).value_or(0);
    if (p.text(wire::field::quantity)) o.quantity = p.amount(wire::field::quantity);
    if (p.text(wire::field::value)) o.value = p.amount(wire::field::value);
    if (p.text(wire::field::limit_price)) o.limit_price = p.amount(wire::field::limit_price);
    const bool market_order = o.type == wire::order_type::market;
    if (o.quantity.has_value() == o.value.has_value() || (o.value && !market_order)) {
      return order_rejected(rr::invalid_quantity);
    }
    if (o.quantity &&
        (!o.quantity->is_positive() || !multiple_of(*o.quantity, m->quantity_increment) ||
         *o.quantity < minimum_quantity(*m))) {
      return order_rejected(rr::invalid_quantity);
    }
    if (o.value && !o.value->is_positive()) return order_rejected(rr::invalid_quantity);
    if (!market_order && (!o.limit_price || !o.limit_price->is_positive() ||
                          !multiple_of(*o.limit_price, price_increment(*m)))) {
      return order_rejected(rr::invalid_price);
    }
    // APX4 (since 4.2): a ClientOrderId in use by another open order of the account is refused.
    if (o.client_order_id != 0) {
      for (const auto& other : orders_) {
        if (other.client_order_id == o.client_order_id &&
            other.state == wire::order_state::working) {
          return order_rejected(rr::invalid_client_order_id);
        }
      }
    }
    // Funds held while working: the quote a buy may pay, the base a sell delivers.
    const bool buy = o.side == wire::side::buy;
    const std::string& held_asset = buy ? m->quote : m->base;
    decimal hold;
    if (!buy) {
      if (!o.quantity) {
        auto [bids, asks] = book(*m);
        auto walk = walk_book(o.side, bids, rules_of(*m),
                              walk_bounds{.quantity = {}, .value = o.value, .limit_price = {}});
        hold = walk ? walk->quantity : decimal{};
      } else {
        hold = *o.quantity;
      }
    } else if (o.value) {
      hold = *o.value;
    } else if (o.limit_price) {
      hold = o.quantity->mul(*o.limit_price, rounding::up)
                 .value_or(decimal{})
                 .round(m->quote_places, rounding::up);
    } else {
      auto [bids, asks] = book(*m);
      auto walk = walk_book(o.side, asks, rules_of(*m),
                            walk_bounds{.quantity = o.quantity, .value = {}, .limit_price = {}});
      hold = walk ? walk->value : decimal{};
    }
    // A fee in the product given is paid on top of what the order trades: held with it.
    const decimal fee_hold =
        settings_.fee_in_spent_product ? spent_fee(*m, o.side, hold) : decimal{};
    const std::optional<decimal> frozen = hold.try_add(fee_hold);
    if (!hold.is_positive() || !frozen || !ledger_.freeze(held_asset, *frozen)) {
      return order_rejected(rr::not_enough_funds);
    }
    o.hold = hold;
    o.fee_hold = fee_hold;
    o.order_id = next_order_id_++;
    o.received = std::chrono::system_clock::now();
    o.updated = o.received;
    orders_.push_back(o);
    const std::size_t index = orders_.size() - 1;
    // Asynchronous, as APX4 documents: Accepted now, matched after the fill delay.
    timers_.schedule(config_.fill_delay,
                     [self = shared_from_this(), index] { self->match(index); });
    json_out j;
    j.begin_object()
        .field(wire::send_order_field::status, wire::send_order_status::accepted)
        .field(wire::send_order_field::errormsg, "")
        .field_int(wire::send_order_field::order_id, o.order_id)
        .end_object();
    return sim_response::json(200, j.take());
  }

  void match(std::size_t index) {
    order_record& o = orders_[index];
    if (o.state != wire::order_state::working) return;
    const market_spec& m = markets_[static_cast<std::size_t>(o.instrument_id - 1)];
    const bool buy = o.side == wire::side::buy;
    auto [bids, asks] = book(m);
    walk_bounds bounds;
    bounds.limit_price = o.limit_price;
    if (o.quantity) bounds.quantity = *o.quantity - o.executed;
    // A buy never pays more than it holds; a sell by Value stops at the value.
    if (buy) bounds.value = o.hold;
    if (!buy && o.value) bounds.value = *o.value;
    auto walk = walk_book(o.side, buy ? asks : bids, rules_of(m), bounds);
    const bool fok = o.tif == wire::time_in_force::fok;
    if (walk && !(fok && !walk->complete)) {
      for (const auto& f : walk->fills) settle(o, m, f);
      consume(m, o.side, walk->fills);
    }
    const bool done = o.quantity ? o.executed >= *o.quantity : (walk && walk->complete);
    if (done) {
      finish(o, m, wire::order_state::fully_executed, wire::change_reason::trade);
    } else if (o.type == wire::order_type::limit && o.tif == wire::time_in_force::gtc) {
      // A resting GTC remainder stays Working with its hold until cancelled.
      o.updated = std::chrono::system_clock::now();
    } else {
      finish(o, m, wire::order_state::canceled, wire::change_reason::no_more_market);
    }
  }

  // The fee of spending `spent` when the operator charges it in the product given: as a fill's
  // fee is charged, at that product's places.
  decimal spent_fee(const market_spec& m, wire::side side, decimal spent) const {
    const int places = side == wire::side::buy ? m.quote_places : m.base_places;
    return percent_fee(m.fee_percent, spent, places).value_or(decimal{});
  }

  void settle(order_record& o, const market_spec& m, const book_fill& f) {
    const bool buy = o.side == wire::side::buy;
    book_fill fill = f;
    const std::string& spent_asset = buy ? m.quote : m.base;
    if (settings_.fee_in_spent_product) {
      // The whole fill is received; the fee comes from what the order held for it, and from the
      // available balance where the per-fill rounding takes more than the estimate held.
      fill.fee = spent_fee(m, o.side, buy ? f.value : f.quantity);
      const decimal from_hold = std::min(fill.fee, o.fee_hold);
      static_cast<void>(ledger_.debit_frozen(spent_asset, from_hold));
      if (fill.fee > from_hold) static_cast<void>(ledger_.debit(spent_asset, fill.fee - from_hold));
      o.fee_hold -= from_hold;
    }
    const decimal received_fee = settings_.fee_in_spent_product ? decimal{} : fill.fee;
    if (buy) {
      static_cast<void>(ledger_.debit_frozen(m.quote, f.value));
      static_cast<void>(ledger_.credit(m.base, f.quantity - received_fee));
      o.hold -= f.value;
    } else {
      static_cast<void>(ledger_.debit_frozen(m.base, f.quantity));
      static_cast<void>(ledger_.credit(m.quote, f.value - received_fee));
      o.hold -= f.quantity;
    }
    o.executed += f.quantity;
    o.gross_value += f.value;
    trade_record t;
    t.trade_id = next_trade_id_++;
    t.order_id = o.order_id;
    t.client_order_id = o.client_order_id;
    t.instrument_id = o.instrument_id;
    t.side = o.side;
    t.fill = fill;
    t.fee_product_id = buy == settings_.fee_in_spent_product ? m.quote_id : m.base_id;
    t.remaining = o.quantity ? *o.quantity - o.executed : decimal{};
    t.at = std::chrono::system_clock::now();
    trades_.push_back(t);
  }

  void finish(order_record& o, const market_spec& m, wire::order_state state,
              std::string_view reason) {
    const decimal held = o.hold + o.fee_hold;
    if (held.is_positive()) {
      static_cast<void>(ledger_.unfreeze(o.side == wire::side::buy ? m.quote : m.base, held));
      o.hold = decimal{};
      o.fee_hold = decimal{};
    }
    o.state = state;
    o.change_reason = std::string(reason);
    o.updated = std::chrono::system_clock::now();
  }

  order_record* find_order(std::optional<std::int64_t> id) {
    if (!id) return nullptr;
    for (auto& o : orders_) {
      if (o.order_id == *id) return &o;
    }
    return nullptr;
  }

  sim_response cancel_order(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    order_record* o = find_order(p.integer(wire::field::order_id));
    if (o == nullptr) return not_found("no such order");
    if (o->state == wire::order_state::working) {
      finish(*o, markets_[static_cast<std::size_t>(o->instrument_id - 1)],
             wire::order_state::canceled, wire::change_reason::user_modified);
    }
    // APX4: success means the OMS took the request.
    return generic(200, true, 0, {});
  }

  void write_order(json_out& j, const order_record& o) const {
    namespace f = wire::order_field;
    const market_spec& m = markets_[static_cast<std::size_t>(o.instrument_id - 1)];
    const decimal ordered = o.quantity.value_or(o.executed);
    const decimal remaining =
        o.state == wire::order_state::working ? ordered - o.executed : decimal{};
    const decimal avg = o.executed.is_positive()
                            ? o.gross_value.div(o.executed, rounding::half_even).value_or(decimal{})
                            : decimal{};
    j.begin_object()
        .field(f::side, wire::side_names[static_cast<std::size_t>(o.side)])
        .field_int(f::order_id, o.order_id)
        .field(f::price, o.limit_price.value_or(decimal{}))
        .field(f::quantity, remaining)
        .field("DisplayQuantity", remaining)
        .field_int(f::instrument, o.instrument_id)
        .field_int(f::account, settings_.account_id)
        .field("AccountName", settings_.user_name)
        .field(f::order_type, wire::order_type_names[static_cast<std::size_t>(o.type)])
        .field_int(f::client_order_id, o.client_order_id)
        .field(f::order_state, wire::order_state_names[static_cast<std::size_t>(o.state)])
        .field_int(f::receive_time, unix_ms(o.received))
        .field_int(f::last_updated_time, unix_ms(o.updated))
        .field(f::orig_quantity, ordered)
        .field(f::quantity_executed, o.executed)
        .field(f::gross_value_executed, o.gross_value)
        .field(f::avg_price, avg)
        .field(f::change_reason, o.change_reason)
        .field("Symbol", m.symbol())
        .field_int(f::oms_id, settings_.oms_id)
        .end_object();
  }

  sim_response get_order_status(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    const order_record* o = find_order(p.integer(wire::field::order_id));
    if (o == nullptr) return not_found("no such order");
    json_out j;
    if (settings_.order_status_array) j.begin_array();
    write_order(j, *o);
    if (settings_.order_status_array) j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_open_orders(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    json_out j;
    j.begin_array();
    for (const auto& o : orders_) {
      if (o.state == wire::order_state::working) write_order(j, o);
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_orders_history(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    const auto client_order_id = p.integer(wire::field::client_order_id);
    json_out j;
    j.begin_array();
    for (auto it = orders_.rbegin(); it != orders_.rend(); ++it) {
      if (client_order_id && *client_order_id != 0 && it->client_order_id != *client_order_id) {
        continue;
      }
      write_order(j, *it);
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  // APX4: the matching trades newest first, from StartIndex (0 the newest, the default), Depth of
  // them; without Depth (or 0) every one from StartIndex. trades_page_limit caps an answer below
  // the Depth asked, as a server with its own page size would.
  sim_response get_trades_history(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    const auto order_id = p.integer(wire::field::order_id);
    const auto instrument_id = p.integer(wire::field::instrument_id);
    const auto start = std::max<std::int64_t>(0, p.integer(wire::field::start_index).value_or(0));
    std::int64_t rows = std::max<std::int64_t>(0, p.integer(wire::field::depth).value_or(0));
    if (rows == 0) rows = std::numeric_limits<std::int64_t>::max();
    if (settings_.trades_page_limit > 0) {
      rows = std::min<std::int64_t>(rows, settings_.trades_page_limit);
    }
    namespace f = wire::trade_field;
    json_out j;
    j.begin_array();
    std::int64_t skipped = 0;
    std::int64_t written = 0;
    for (auto it = trades_.rbegin(); it != trades_.rend() && written < rows; ++it) {
      const trade_record& t = *it;
      if (order_id && *order_id != 0 && t.order_id != *order_id) continue;
      if (instrument_id && *instrument_id != 0 && t.instrument_id != *instrument_id) continue;
      if (skipped++ < start) continue;
      ++written;
      j.begin_object()
          .field_int(wire::field::oms_id, settings_.oms_id)
          .field_int(f::execution_id, t.trade_id)
          .field_int(f::trade_id, t.trade_id)
          .field_int(f::order_id, t.order_id)
          .field_int(f::account_id, settings_.account_id)
          .field_int(f::client_order_id, t.client_order_id)
          .field_int(f::instrument_id, t.instrument_id)
          .field(f::side, wire::side_names[static_cast<std::size_t>(t.side)])
          .field(f::quantity, t.fill.quantity)
          .field(f::remaining_quantity, t.remaining)
          .field(f::price, t.fill.price)
          .field(f::value, t.fill.value)
          .field("CounterParty", "0")
          .field(f::fee, t.fill.fee)
          .field_int(f::fee_product_id, t.fee_product_id)
          .field(f::maker_taker, "Taker")
          .field_int(f::trade_time_ms, unix_ms(t.at))
          .end_object();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_account_positions(const sim_request&, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    json_out j;
    write_positions(j);
    return sim_response::json(200, j.take());
  }

  void write_positions(json_out& j) const {
    namespace f = wire::position_field;
    j.begin_array();
    for (const auto& [code, id] : product_ids_) {
      const sim::ledger_entry e = ledger_.balance(code);
      j.begin_object()
          .field_int(wire::field::oms_id, settings_.oms_id)
          .field_int(f::account_id, settings_.account_id)
          .field(f::product_symbol, code)
          .field_int(f::product_id, id)
          .field(f::amount, e.available + e.frozen)
          .field(f::hold, e.frozen)
          .field(f::pending_deposits, pending(false, code))
          .field(f::pending_withdraws, pending(true, code))
          .end_object();
    }
    j.end_array();
  }

  std::string ledger_json() const {
    json_out j;
    j.begin_object().field("provider", config_.name).key("positions");
    write_positions(j);
    j.key("orders").begin_array();
    for (const auto& o : orders_) write_order(j, o);
    j.end_array().key("trades").integer(static_cast<std::int64_t>(trades_.size()));
    // The e-mail a withdrawal's user would get (APX4 GetWithdrawTicketByVerifyCode).
    j.key("withdraw_verify_codes").begin_array();
    for (const auto& t : tickets_) {
      if (!t.withdraw) continue;
      j.begin_object()
          .field_int("ticketNumber", t.ticket_number)
          .field("requestCode", t.request_code)
          .field("verifyCode", t.verify_code)
          .end_object();
    }
    j.end_array();
    j.end_object();
    return j.take();
  }

  // --- deposit and withdraw tickets (seed 001 "System", VENUES.md 1.4) -------------------------

  decimal pending(bool withdraw, const std::string& asset) const {
    decimal sum;
    for (const auto& t : tickets_) {
      if (t.withdraw == withdraw && t.asset == asset && t.status == ticket_new) sum += t.amount;
    }
    return sum;
  }

  // Seed 001 answers 400 "Invalid input parameters" and 404 "... ticket not found" here, in the
  // generic shape (VENUES.md 1.3).
  static sim_response ticket_invalid(std::string_view detail) {
    return generic(400, false, wire::errorcode::invalid_request, wire::errormsg::invalid_request,
                   detail);
  }
  static sim_response ticket_not_found(std::string_view detail) {
    return generic(404, false, wire::errorcode::resource_not_found,
                   wire::errormsg::resource_not_found, detail);
  }

  std::string random_hex(std::size_t digits) {
    std::string out;
    while (out.size() < digits) {
      char chunk[17];
      std::snprintf(chunk, sizeof chunk, "%016llx", static_cast<unsigned long long>(rng_()));
      out += chunk;
    }
    out.resize(digits);
    return out;
  }

  std::string guid() {
    const std::string h = random_hex(32);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
  }

  // The product of a ticket request: AssetId (APX4, KIIDOC) or ProductId, else the symbol in
  // assetName / ProductSymbol.
  const std::string* ticket_asset(const params& p) const {
    auto id = p.integer("AssetId");
    if (!id) id = p.integer(wire::field::product_id);
    if (id) {
      for (const auto& [code, product_id] : product_ids_) {
        if (product_id == *id) return &code;
      }
      return nullptr;
    }
    auto symbol = p.text("AssetName");
    if (!symbol) symbol = p.text("ProductSymbol");
    if (!symbol) return nullptr;
    auto it = product_ids_.find(std::string(*symbol));
    return it == product_ids_.end() ? nullptr : &it->first;
  }

  // A positive amount within the asset's decimal places, or nullopt.
  std::optional<decimal> ticket_amount(const params& p, const std::string& asset) const {
    auto amount = p.amount("Amount");
    if (!amount || !amount->is_positive()) return std::nullopt;
    const sim::asset_info* info = market_.find_asset(asset);
    if (info == nullptr || amount->round(info->precision, rounding::down) != *amount) {
      return std::nullopt;
    }
    return amount;
  }

  // The request body when it is a JSON object (objects are not in `params`).
  static std::optional<json_document> body_object(const sim_request& request) {
    if (request.body.empty()) return std::nullopt;
    auto root = parse_json_text(request.body, "request", json_limits{.max_body_bytes = 1u << 20});
    if (!root || root->type != json_value::kind::object) return std::nullopt;
    return std::move(*root);
  }

  // A member of the request body by name ignoring ASCII case.
  static const json_value* body_member(const std::optional<json_document>& body,
                                       std::string_view key) {
    if (!body) return nullptr;
    for (std::size_t i = 0; i < body->keys.size(); ++i) {
      if (lower(body->keys[i]) == lower(key)) return &body->items[i];
    }
    return nullptr;
  }

  ticket_record& add_ticket(ticket_record t, const sim_request& request) {
    t.ticket_number = t.withdraw ? next_withdraw_ticket_++ : next_deposit_ticket_++;
    t.request_code = guid();
    t.reference_id = random_hex(8);
    if (t.withdraw) t.verify_code = guid();
    t.request_ip = request.remote_address;
    t.created = std::chrono::system_clock::now();
    t.updated = t.created;
    tickets_.push_back(std::move(t));
    const std::size_t index = tickets_.size() - 1;
    // Processed after the scenario's fill delay, like an order (VENUES.md 1.4: a deposit credits
    // only when FullyProcessed).
    timers_.schedule(config_.fill_delay,
                     [self = shared_from_this(), index] { self->process_ticket(index); });
    return tickets_.back();
  }

  void process_ticket(std::size_t index) {
    ticket_record& t = tickets_[index];
    if (t.status != ticket_new) return;
    if (t.withdraw) {
      static_cast<void>(ledger_.debit_frozen(t.asset, t.amount));
    } else {
      static_cast<void>(ledger_.credit(t.asset, t.amount));
    }
    t.status = ticket_fully_processed;
    t.updated = std::chrono::system_clock::now();
  }

  sim_response create_deposit_ticket(const sim_request& request, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    const std::string* asset = ticket_asset(p);
    if (asset == nullptr) return ticket_invalid("AssetId must name a product");
    auto amount = ticket_amount(p, *asset);
    if (!amount) return ticket_invalid("Amount must be positive within the product's decimals");
    ticket_record t;
    t.asset = *asset;
    t.asset_id = product_ids_.at(*asset);
    t.amount = *amount;
    t.info = "{}";
    // depositInfo is an object (seed 001) or an object serialised into a string (APX4).
    const auto body = body_object(request);
    if (const json_value* info = body_member(body, "DepositInfo")) {
      if (info->type == json_value::kind::object) {
        json_out text;
        write_value(text, *info);
        t.info = text.take();
      } else if (info->type == json_value::kind::string) {
        auto parsed = parse_json_text(info->text, "DepositInfo");
        if (!parsed || parsed->type != json_value::kind::object) {
          return ticket_invalid("DepositInfo must be an object or a JSON object in a string");
        }
        json_out text;
        write_value(text, *parsed);
        t.info = text.take();
      } else if (info->type != json_value::kind::null) {
        return ticket_invalid("DepositInfo must be an object or a JSON object in a string");
      }
    }
    const ticket_record& added = add_ticket(std::move(t), request);
    // APX4: {success, requestcode, ticketnumber, referenceid}; seed 001 shows the first two.
    json_out j;
    j.begin_object()
        .key("success")
        .boolean(true)
        .field("requestcode", added.request_code)
        .field_int("ticketnumber", added.ticket_number)
        .field("referenceid", added.reference_id)
        .end_object();
    return sim_response::json(200, j.take());
  }

  sim_response create_withdraw_ticket(const sim_request& request, const params& p) {
    if (!own_account(p)) return not_found("no such account");
    const std::string* asset = ticket_asset(p);
    if (asset == nullptr) return ticket_invalid("ProductId must name a product");
    auto amount = ticket_amount(p, *asset);
    if (!amount) return ticket_invalid("Amount must be positive within the product's decimals");
    ticket_record t;
    t.withdraw = true;
    t.asset = *asset;
    t.asset_id = product_ids_.at(*asset);
    t.amount = *amount;
    const auto body = body_object(request);
    if (const json_value* form = body_member(body, "TemplateForm")) {
      // APX4: an object serialised into a string; an object is taken and kept as its text.
      if (form->type == json_value::kind::string) {
        t.info = std::string(form->text);
      } else if (form->type == json_value::kind::object) {
        json_out text;
        write_value(text, *form);
        t.info = text.take();
      }
    }
    t.template_type = std::string(p.text("TemplateType").value_or(""));
    // Held at once (APX4 Hold); KIIDOC's refusal text for a balance too small.
    if (!ledger_.freeze(*asset, *amount)) return ticket_invalid("Insufficient Balance");
    const ticket_record& added = add_ticket(std::move(t), request);
    // APX4: the generic shape with the RequestCode in detail.
    return generic(200, true, wire::errorcode::success, {}, added.request_code);
  }

  void write_ticket(json_out& j, const ticket_record& t) const {
    // Keys and types as in seed 001's schema (lower camel; "Status" an integer, the index in
    // wire::deposit_status_names / withdraw_status_names; the withdraw ticket's
    // "lastUpdateTimestamp", "Comments", "Attachments", "AuditLog").
    j.begin_object()
        .field_int("assetManagerId", 1)
        .field_int("accountId", settings_.account_id)
        .field_int("assetId", t.asset_id)
        .field("assetName", t.asset)
        .field("amount", t.amount);
    if (t.withdraw) {
      j.field("templateForm", t.info).field("templateFormType", t.template_type);
    }
    j.field_int("omsId", settings_.oms_id)
        .field("requestCode", t.request_code)
        .field("referenceId", t.reference_id)
        .field("requestIP", t.request_ip)
        .field_int(t.withdraw ? "requestUserId" : "requestUser", settings_.user_id)
        .field("requestUserName", settings_.user_name)
        .field_int("operatorId", 1)
        .field_int("Status", static_cast<std::int64_t>(t.status))
        .field("feeAmt", decimal{})
        .field_int("updatedByUser", settings_.user_id)
        .field("updatedByUserName", settings_.user_name)
        .field_int("ticketNumber", t.ticket_number);
    if (!t.withdraw) {
      j.key("depositInfo");
      j.raw_object(t.info);
    }
    j.field("createdTimestamp", format_iso_timestamp(t.created))
        .field(t.withdraw ? "lastUpdateTimestamp" : "lastUpdateTimeStamp",
               format_iso_timestamp(t.updated));
    if (t.withdraw) {
      j.key("Comments").begin_array().end_array();
      j.key("Attachments").begin_array().end_array();
      j.key("AuditLog").begin_array().end_array();
    } else {
      j.key("comments").begin_object().end_object();
      j.key("attachments").begin_object().end_object();
    }
    j.end_object();
  }

  // GetDepositTicket / GetWithdrawTicket: RequestCode and TicketId are both Required (seed 001)
  // and must name the same ticket.
  sim_response get_ticket(const params& p, bool withdraw) {
    if (!own_account(p)) return not_found("no such account");
    const auto code = p.text("RequestCode");
    const auto number = p.integer("TicketId");
    if (!code || code->empty() || !number) {
      return ticket_invalid("RequestCode and TicketId are required");
    }
    for (const auto& t : tickets_) {
      if (t.withdraw != withdraw) continue;
      if (t.request_code != *code || t.ticket_number != *number) continue;
      json_out j;
      write_ticket(j, t);
      return sim_response::json(200, j.take());
    }
    return ticket_not_found(withdraw ? "Withdraw ticket not found" : "Deposit ticket not found");
  }

  sim_response get_deposit_ticket(const sim_request&, const params& p) {
    return get_ticket(p, false);
  }
  sim_response get_withdraw_ticket(const sim_request&, const params& p) {
    return get_ticket(p, true);
  }

  // GetDepositTickets / GetWithdrawTickets: newest first, optional ProductId, StartIndex, Limit
  // (APX4). Seed 001 answers 404 when no deposit ticket matches; APX4 documents only the array
  // for withdrawals, so an empty one is [].
  sim_response list_tickets(const params& p, bool withdraw) {
    if (!own_account(p)) return not_found("no such account");
    // Seed 001: GetDepositTickets' OperatorId is Required (APX4 lists it for withdrawals too,
    // without saying it is).
    if (!withdraw && !p.integer("OperatorId")) return ticket_invalid("OperatorId is required");
    const auto product = p.integer(wire::field::product_id);
    const auto start = std::max<std::int64_t>(0, p.integer("StartIndex").value_or(0));
    const auto limit = p.integer("Limit").value_or(0);
    json_out j;
    j.begin_array();
    std::int64_t skipped = 0;
    std::int64_t written = 0;
    for (auto it = tickets_.rbegin(); it != tickets_.rend(); ++it) {
      if (it->withdraw != withdraw || (product && *product != 0 && it->asset_id != *product)) {
        continue;
      }
      if (skipped++ < start) continue;
      if (limit > 0 && written >= limit) break;
      write_ticket(j, *it);
      ++written;
    }
    j.end_array();
    if (written == 0 && !withdraw) {
      return ticket_not_found("No deposit tickets found for given criteria");
    }
    return sim_response::json(200, j.take());
  }

  sim_response get_deposit_tickets(const sim_request&, const params& p) {
    return list_tickets(p, false);
  }
  sim_response get_withdraw_tickets(const sim_request&, const params& p) {
    return list_tickets(p, true);
  }

  // Seed 001 documents only 200 and 400 "Bad request" for this call.
  sim_response get_withdraw_ticket_by_verify_code(const sim_request&, const params& p) {
    const auto code = p.text("VerifyCode");
    if (!code || code->empty()) return ticket_invalid("VerifyCode is required");
    for (const auto& t : tickets_) {
      if (t.withdraw && t.verify_code == *code) {
        json_out j;
        write_ticket(j, t);
        return sim_response::json(200, j.take());
      }
    }
    return ticket_invalid("no withdraw ticket has that VerifyCode");
  }

  struct consumption {
    std::map<int, decimal> bids;
    std::map<int, decimal> asks;
    steady_clock::time_point last_trade{};
  };

  sim::server& server_;
  sim::market& market_;
  sim::provider_config config_;
  emulator_settings settings_;
  sim::ledger ledger_;
  std::mt19937_64 rng_;
  std::map<std::string, hmac_sha256, std::less<>> keys_;
  std::map<std::string, std::int64_t> product_ids_;
  std::vector<market_spec> markets_;
  std::map<std::string, session> sessions_;
  std::map<std::int64_t, consumption> consumed_;
  std::vector<order_record> orders_;
  std::vector<trade_record> trades_;
  std::vector<ticket_record> tickets_;
  std::int64_t next_deposit_ticket_ = 1;
  std::int64_t next_withdraw_ticket_ = 1;
  int failures_ = 0;
  bool locked_ = false;
  std::int64_t next_order_id_ = 6500;
  std::int64_t next_trade_id_ = 1;
  std::int64_t md_update_id_ = 0;
  sim::timer_set timers_;
};

emulator_settings settings_for(const sim::provider_config& config) {
  emulator_settings out;
  const sim::kiiex_config& k = config.kiiex;
  if (k.order_status_array) out.order_status_array = *k.order_status_array;
  if (k.book_levels) out.book_levels = *k.book_levels;
  if (k.level_step_percent) out.level_step_percent = *k.level_step_percent;
  if (k.level_usd) out.level_usd = *k.level_usd;
  if (k.replenish) out.replenish = *k.replenish;
  if (k.oms_id) out.oms_id = *k.oms_id;
  if (k.user_id) out.user_id = *k.user_id;
  if (k.account_id) out.account_id = *k.account_id;
  if (k.lockout_failures) out.lockout_failures = *k.lockout_failures;
  if (k.trades_page_limit) out.trades_page_limit = *k.trades_page_limit;
  if (k.fee_in_spent_product) out.fee_in_spent_product = *k.fee_in_spent_product;
  return out;
}

emulator::emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
                   sim::provider_config config, sim::emulator_options options,
                   emulator_settings settings)
    : provider_emulator(wire::base_path, sim::timer_set(std::move(executor))),
      impl_(std::make_shared<impl>(timers(), server, market, std::move(config), options,
                                   std::move(settings))) {
  impl_->install();
}

sim::ledger& emulator::account() { return impl_->ledger_; }

std::string emulator::ledger_json() const { return impl_->ledger_json(); }

}  // namespace swaprouter::kiiex
