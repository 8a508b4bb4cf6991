#include "adapters/onek/emulator.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "adapters/onek/parse.hpp"
#include "adapters/onek/wire.hpp"
#include "adapters/sim/binding.hpp"
#include "adapters/sim/emulator_config.hpp"
#include "adapters/sim/rate_window.hpp"
#include "adapters/sim/text.hpp"
#include "engine/hmac.hpp"
#include "engine/http.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::onek {
namespace {

namespace asio = boost::asio;
using sim::sim_request;
using sim::sim_response;
using steady_clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view permission_balance = "allow_balance";
constexpr std::string_view permission_swap = "allow_swap";
// Not in the document: what the emulator calls a random failure (failure_rate).
constexpr std::string_view reason_provider_error = "provider_error";
constexpr std::size_t max_custom_id = 255;
constexpr std::size_t max_callback_url = 2048;
constexpr std::int64_t max_time_to_live_ms = 86'400'000;
constexpr int callback_attempts = 5;

// Rates are printed with at least this many places, like the seed's samples ("1.00000000").
constexpr int rate_places = 8;

sim_response error_response(int status, std::string_view code, std::string_view message) {
  json_out j;
  j.begin_object()
      .field(wire::error_field::code, code)
      .field(wire::error_field::message, message)
      .end_object();
  return sim_response::json(status, j.take());
}

sim_response bad_request(std::string_view message) {
  return error_response(400, wire::error_code::validation, message);
}

sim_response unprocessable(std::string_view message) {
  return error_response(422, wire::error_code::validation, message);
}

// The exact value with at least `places` fractional digits (more when it has more).
std::string at_least(decimal value, int places) {
  std::string text = value.to_string();
  const auto dot = text.find('.');
  const int have = dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  return have >= places ? text : value.to_string(places, rounding::down);
}

std::int64_t unix_ms(wall_time time) {
  return std::chrono::duration_cast<milliseconds>(time.time_since_epoch()).count();
}

// A callback URL the emulator may call: http(s) on a loopback host.
struct callback_target {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string target;
  std::string key() const {
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
  }
};

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  auto range = sim::ip_range::parse("127.0.0.0/8");
  return range && range->contains(host);
}

std::optional<callback_target> parse_callback_url(std::string_view url) {
  callback_target out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (const auto hash = out.target.find('#'); hash != std::string::npos) out.target.resize(hash);
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  if (!is_loopback_host(out.host)) return std::nullopt;
  return out;
}

// One endpoint of the API: how it is authenticated and limited.
struct endpoint_rule {
  std::string method;
  std::string pattern;          // as registered on the server
  std::string config_key;       // pattern without /api/v1: the scenario's rate_limits key
  std::string_view permission;  // empty: no authentication
  int per_minute = 0;           // 0: no documented limit
};

std::vector<endpoint_rule> endpoint_rules() {
  namespace p = wire::path;
  namespace rl = wire::rate_limit_per_minute;
  auto rule = [](std::string method, std::string_view pattern, std::string_view permission,
                 int per_minute) {
    std::string full(pattern);
    return endpoint_rule{std::move(method), full, full.substr(wire::base_path.size()), permission,
                         per_minute};
  };
  const std::string swap_item = std::string(p::swap_item_prefix) + "{code}";
  return {
      rule("GET", p::status, {}, 0),
      rule("GET", p::currency, {}, rl::currency),
      rule("GET", p::balance, permission_balance, rl::balance),
      rule("GET", p::swap_directions, permission_swap, rl::swap_directions),
      rule("POST", p::swap_open, permission_swap, rl::swap_open),
      rule("POST", p::swap_cancel, permission_swap, rl::swap_cancel),
      rule("GET", p::swap_list, permission_swap, rl::swap_list),
      rule("GET", swap_item, permission_swap, rl::swap_item),
  };
}

// A direction as priced right now from the market.
struct priced_direction {
  const sim::direction_config* config = nullptr;
  int spend_precision = 8;
  int receive_precision = 8;
  decimal fee_percent;
  decimal spend_rate_value;
  decimal receive_rate_value;
  decimal min_spend;
  std::optional<decimal> max_spend;
  decimal min_receive;
  std::optional<decimal> max_receive;

  // VENUES.md 001k: the gross receive for spending `spend`, exact (spend * receive_rate_value /
  // spend_rate_value at 18 places); only the net is rounded to the receive precision.
  result<decimal> gross_for_spend(decimal spend) const {
    return spend.mul_div(receive_rate_value, spend_rate_value, rounding::down);
  }
  // Spend charged for an exact-receive swap whose gross is `gross`, rounded up to the spend
  // precision (the provider's side).
  result<decimal> spend_for_gross(decimal gross) const {
    auto spend = gross.mul_div(spend_rate_value, receive_rate_value, rounding::up);
    if (!spend) return spend;
    // Checked: rounding up a client's near-maximum amount must be an error, not an abort.
    return spend->checked_round(spend_precision, rounding::up);
  }
  // fee_percent of the gross, exact like the seed's fee_amount 0.73713125 (finer than its
  // direction's 6 places).
  result<decimal> fee_for(decimal gross) const {
    return gross.mul_div(fee_percent, decimal::from_int(100), rounding::up);
  }
  // VENUES.md 001k: what the account is credited, gross - fee rounded down to the receive
  // precision.
  result<decimal> net_for(decimal gross, decimal fee) const {
    auto rest = gross.checked_sub(fee);
    if (!rest) return rest;
    return rest->checked_round(receive_precision, rounding::down);
  }
};

struct status_event {
  std::string status;
  std::string reason_code;
  wall_time at;
};

struct callback_attempt {
  std::string status;
  wall_time at;
  std::string outcome;  // "200", "error: ..."
};

struct swap_record {
  std::uint64_t seq = 0;
  std::string code;
  std::string custom_id;
  std::string callback_url;
  std::string direction;
  std::string spend_currency;
  std::string receive_currency;
  int spend_precision = 8;
  int receive_precision = 8;
  decimal spend_rate;
  decimal receive_rate;
  decimal spend_amount;
  decimal receive_amount;  // gross, exact
  amount_side side = amount_side::spend;
  decimal fee_amount;   // exact
  decimal receive_net;  // credited on success: gross - fee rounded down to receive_precision
  decimal spend_filled;
  decimal receive_filled;
  decimal spend_fee_filled;
  decimal receive_fee_filled;
  std::string status{wire::swap_status::open};
  std::string reason_code;
  std::string reason_message;
  wall_time created_at{};
  wall_time updated_at{};
  std::optional<wall_time> done_at;
  wall_time expires_at{};
  std::optional<wall_time> cancel_requested_at;
  bool frozen = false;    // the spend is frozen in the ledger
  std::string opened_by;  // access key, for the admin ledger
  std::vector<status_event> history;
  std::vector<callback_attempt> callbacks;
};

void write_swap_fields(json_out& j, const swap_record& s) {
  namespace f = wire::swap_field;
  const int sp = s.spend_precision;
  const int rp = s.receive_precision;
  j.field(f::code, s.code);
  j.key(f::custom_id);
  j.str_or_null(s.custom_id);
  j.key(f::callback_url);
  j.str_or_null(s.callback_url);
  j.field(f::direction, s.direction);
  j.field(f::spend_currency, s.spend_currency);
  j.field(f::receive_currency, s.receive_currency);
  j.field(f::spend_rate, at_least(s.spend_rate, rate_places));
  j.field(f::receive_rate, at_least(s.receive_rate, rate_places));
  j.field(f::spend_amount, s.spend_amount.to_string(sp));
  // Gross and fee are exact (the seed's fee_amount has more places than its direction's
  // precision): at least the receive precision, more digits when they have them.
  j.field(f::receive_amount, at_least(s.receive_amount, rp));
  j.field(f::amount_parameter, s.side == amount_side::spend ? wire::amount_parameter::spend
                                                            : wire::amount_parameter::receive);
  j.field(f::fee_amount, at_least(s.fee_amount, rp));
  j.field(f::fee_currency, s.receive_currency);
  // Units of receive per unit of spend, as in the seed's open sample; informational.
  const auto rate = s.receive_rate.div(s.spend_rate, rounding::down);
  j.field(f::rate, at_least(rate.value_or(decimal{}), rate_places));
  j.field(f::spend_filled, s.spend_filled.to_string(sp));
  j.field(f::receive_filled, at_least(s.receive_filled, rp));
  j.field(f::spend_fee_filled, s.spend_fee_filled.to_string(sp));
  j.field(f::receive_fee_filled, at_least(s.receive_fee_filled, rp));
  j.field(f::status, s.status);
  j.key(f::reason_code);
  j.str_or_null(s.reason_code);
  j.key(f::reason_message);
  j.str_or_null(s.reason_message);
  j.field(f::created_at, s.created_at);
  j.field(f::updated_at, s.updated_at);
  j.key(f::done_at);
  j.time_or_null(s.done_at);
  j.field(f::expires_at, s.expires_at);
  j.field(f::valid_till, s.expires_at);
  j.key(f::cancel_requested_at);
  j.time_or_null(s.cancel_requested_at);
}

std::string swap_json(const swap_record& s) {
  json_out j;
  j.begin_object();
  write_swap_fields(j, s);
  j.end_object();
  return j.take();
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view as_view(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// A POST body as a JSON object; depth-safe (iterative parser) and UTF-8 validated.
std::optional<rapidjson::Document> parse_object(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  return doc;
}

}  // namespace

struct emulator::impl : std::enable_shared_from_this<impl> {
  struct api_key {
    sim::credential_config config;  // with the secret cleared
    hmac_sha256 mac;
  };

  impl(asio::any_io_executor executor, sim::timer_set timers, sim::server& server,
       sim::market& market, sim::provider_config config, sim::emulator_options options)
      : executor_(std::move(executor)),
        server_(server),
        market_(market),
        config_(std::move(config)),
        options_(std::move(options)),
        offset_(config_.clock_offset),
        ledger_([this] { return now(); }),
        rules_(endpoint_rules()),
        rng_(options_.seed),
        started_at_(now()),
        timers_(std::move(timers)) {
    for (auto& credential : config_.credentials) {
      hmac_sha256 mac(credential.secret);
      // The emulator keeps its demo secret only inside the keyed HMAC context.
      credential.secret.clear();
      keys_.emplace(credential.access_key, api_key{credential, std::move(mac)});
    }
    sim::check_assets(config_, market_);
    sim::set_balances(ledger_, config_);
    for (const auto& [key, limit] : config_.rate_limits) {
      auto it = std::find_if(rules_.begin(), rules_.end(),
                             [&](const endpoint_rule& r) { return r.config_key == key; });
      if (it == rules_.end()) {
        std::string known;
        for (const auto& r : rules_) known += (known.empty() ? "" : ", ") + r.config_key;
        throw std::invalid_argument("providers." + config_.name + ".rate_limits." + key +
                                    ": not a 001k endpoint (one of " + known + ")");
      }
    }
  }

  // --- clock -------------------------------------------------------------------------------

  wall_time now() const {
    return std::chrono::time_point_cast<wall_time::duration>(std::chrono::system_clock::now() +
                                                             offset_);
  }

  // --- registration ------------------------------------------------------------------------

  void install() {
    const sim::emulator_binding<impl> binding(
        weak_from_this(),
        error_response(503, wire::error_code::internal, "the emulator is stopped"));
    const auto bind = [&binding](auto handler) { return binding.bind(handler); };
    namespace p = wire::path;
    server_.route("GET", std::string(p::status), bind(&impl::get_status));
    server_.route("GET", std::string(p::currency), bind(&impl::get_currency));
    server_.route("GET", std::string(p::balance), bind(&impl::get_balance));
    server_.route("GET", std::string(p::swap_directions), bind(&impl::get_directions));
    server_.route("POST", std::string(p::swap_open), bind(&impl::post_open));
    server_.route("POST", std::string(p::swap_cancel), bind(&impl::post_cancel));
    server_.route("GET", std::string(p::swap_list), bind(&impl::get_swaps));
    server_.route("GET", std::string(p::swap_item_prefix) + "{code}", bind(&impl::get_swap));
    server_.add_admin_route("GET", "/_sim/clock", bind(&impl::get_clock));
    server_.add_admin_route("PUT", "/_sim/clock", bind(&impl::put_clock));
    server_.add_admin_route("POST", "/_sim/clock", bind(&impl::put_clock));
    binding.install(server_, config_.faults);
  }

  // --- authentication and rate limits ------------------------------------------------------

  const endpoint_rule* find_rule(std::string_view pattern) const {
    for (const auto& rule : rules_) {
      if (rule.pattern == pattern) return &rule;
    }
    return nullptr;
  }

  sim::rate_limit_config limit_of(const endpoint_rule& rule) const {
    if (auto it = config_.rate_limits.find(rule.config_key); it != config_.rate_limits.end()) {
      return it->second;
    }
    return sim::rate_limit_config{.limit = rule.per_minute, .window = milliseconds(60000)};
  }

  // Sliding window per (caller, endpoint): at most `limit` requests in any `window`.
  std::optional<sim_response> take_budget(const std::string& caller, const endpoint_rule& rule) {
    const sim::rate_limit_config limit = limit_of(rule);
    if (limit.limit <= 0) return std::nullopt;
    const auto seconds =
        limiter_.take(caller + '\n' + rule.pattern, limit.limit, limit.window, steady_clock::now());
    if (seconds) {
      sim_response res = error_response(
          429, wire::error_code::rate_limited,
          "rate limit of " + std::to_string(limit.limit) + " requests per " +
              std::to_string(limit.window.count()) + " ms exceeded for " + rule.config_key);
      res.headers.emplace_back(std::string(wire::header::retry_after), std::to_string(*seconds));
      return res;
    }
    return std::nullopt;
  }

  // Checks in an order that tells an unauthenticated caller nothing about a key's state: headers,
  // timestamp, key existence and signature first; then key state, IP, user and permission.
  std::optional<sim_response> before_route(const sim_request& request, std::string_view pattern) {
    const endpoint_rule* rule = find_rule(pattern);
    if (rule == nullptr) return std::nullopt;
    if (rule->permission.empty()) return take_budget("ip:" + request.remote_address, *rule);

    namespace e = wire::auth_error;
    const std::string_view access_key = request.header(wire::header::access_key);
    const std::string_view timestamp = request.header(wire::header::timestamp);
    const std::string_view signature = request.header(wire::header::signature);
    if (access_key.empty())
      return error_response(401, e::access_key_missed, "X-Access-Key is missing");
    if (timestamp.empty())
      return error_response(401, e::timestamp_missed, "X-Timestamp is missing");
    if (signature.empty())
      return error_response(401, e::signature_missed, "X-Signature is missing");

    const auto sent_ms = sim::parse_int(timestamp);
    const std::int64_t now_ms = unix_ms(now());
    if (!sent_ms || std::abs(*sent_ms - now_ms) > wire::max_timestamp_skew.count()) {
      return error_response(401, e::timestamp_invalid,
                            "X-Timestamp must be milliseconds within 5 s of the server time");
    }
    auto key = keys_.find(access_key);
    if (key == keys_.end()) {
      return error_response(401, e::access_key_invalid, "the access key does not exist");
    }
    // Over the path exactly as received (not decoded), without the query: the seed's own client
    // examples sign "/api/v1" + endpoint and hand the query parameters to the HTTP library.
    const std::string expected =
        wire::signature(key->second.mac, access_key, request.path, timestamp, request.body);
    if (expected.size() != signature.size() ||
        CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
      return error_response(401, e::signature_invalid, "the signature does not match");
    }
    const sim::credential_config& credential = key->second.config;
    if (!credential.active) {
      return error_response(403, e::access_key_inactive, "the API key is disabled");
    }
    if (!credential.ip_allow.empty() &&
        std::none_of(credential.ip_allow.begin(), credential.ip_allow.end(),
                     [&](const sim::ip_range& r) { return r.contains(request.remote_address); })) {
      return error_response(403, e::access_key_ip_whitelist,
                            "the client IP is not in the key's whitelist");
    }
    if (!credential.user_active) {
      return error_response(403, e::user_inactive, "the user account is inactive");
    }
    if (!credential.allows(rule->permission)) {
      return error_response(403, wire::error_code::permission_denied,
                            "the API key lacks the permission " + std::string(rule->permission));
    }
    return take_budget("key:" + credential.access_key, *rule);
  }

  // --- pricing -----------------------------------------------------------------------------

  result<priced_direction> price(const sim::direction_config& d) const {
    priced_direction out;
    out.config = &d;
    const sim::asset_info* spend_asset = market_.find_asset(d.spend);
    const sim::asset_info* receive_asset = market_.find_asset(d.receive);
    if (spend_asset == nullptr || receive_asset == nullptr) {
      return fail(error_kind::not_found, "direction " + d.code() + " has an unknown asset");
    }
    out.spend_precision = d.spend_precision.value_or(spend_asset->precision);
    out.receive_precision = d.receive_precision.value_or(receive_asset->precision);
    out.fee_percent = d.fee_percent.value_or(config_.fee_percent);
    const decimal spread = d.spread.value_or(config_.spread);

    auto mid = market_.mid_rate(d.spend, d.receive);
    if (!mid) return std::unexpected(mid.error());
    auto rate =
        mid->mul_div(decimal::from_int(100) - spread, decimal::from_int(100), rounding::down);
    if (!rate) return std::unexpected(rate.error());
    const decimal provider_rate =
        sim::round_significant(*rate, sim::market::significant_digits, rounding::down);
    if (!provider_rate.is_positive()) {
      return fail(error_kind::internal, "direction " + d.code() + " has no positive rate");
    }
    // The proportion is published with its larger side as the quoted number, so that small
    // rates (COPM-BTC) keep their significant digits.
    if (provider_rate >= decimal::from_int(1)) {
      out.spend_rate_value = decimal::from_int(1);
      out.receive_rate_value = provider_rate;
    } else {
      auto inverse = decimal::from_int(1).div(provider_rate, rounding::up);
      if (!inverse) return std::unexpected(inverse.error());
      out.spend_rate_value =
          sim::round_significant(*inverse, sim::market::significant_digits, rounding::up);
      out.receive_rate_value = decimal::from_int(1);
    }

    auto spend_usd = market_.mid_usd(d.spend);
    if (!spend_usd) return std::unexpected(spend_usd.error());
    if (d.min_spend) {
      out.min_spend = d.min_spend->value_or(decimal{});
    } else {
      auto min = config_.min_spend_usd.div(*spend_usd, rounding::up);
      if (!min) return std::unexpected(min.error());
      auto rounded = min->checked_round(out.spend_precision, rounding::up);
      if (!rounded) return std::unexpected(rounded.error());
      out.min_spend = *rounded;
    }
    if (d.max_spend) {
      out.max_spend = *d.max_spend;
    } else if (config_.max_spend_usd) {
      auto max = config_.max_spend_usd->div(*spend_usd, rounding::down);
      if (!max) return std::unexpected(max.error());
      out.max_spend = max->round(out.spend_precision, rounding::down);
    }
    // Derived receive limits are published at the receive precision, so they are rounded here
    // outward (the gross of min_spend and of max_spend stay allowed) and enforced as published.
    if (d.min_receive) {
      out.min_receive = d.min_receive->value_or(decimal{});
    } else {
      auto min = out.gross_for_spend(out.min_spend);
      if (!min) return std::unexpected(min.error());
      out.min_receive = min->round(out.receive_precision, rounding::down);
    }
    if (d.max_receive) {
      out.max_receive = *d.max_receive;
    } else if (out.max_spend) {
      auto max = out.gross_for_spend(*out.max_spend);
      if (max) max = max->checked_round(out.receive_precision, rounding::up);
      if (!max) return std::unexpected(max.error());
      out.max_receive = *max;
    }
    return out;
  }

  // --- handlers ----------------------------------------------------------------------------

  sim_response get_status(const sim_request&) {
    json_out j;
    j.begin_object();
    j.key(wire::status_field::timestamp);
    j.integer(unix_ms(now()));
    j.end_object();
    return sim_response::json(200, j.take());
  }

  sim_response get_currency(const sim_request&) {
    json_out j;
    j.begin_array();
    for (const auto& code : market_.asset_codes()) {
      const sim::asset_info& a = *market_.find_asset(code);
      j.begin_object();
      j.field("code", a.code);
      j.field("name", a.name);
      j.key("precision");
      j.integer(a.precision);
      j.key("is_fiat");
      j.boolean(a.is_fiat);
      j.key("is_stable");
      j.boolean(a.is_stable);
      j.field("updated_at", started_at_);
      // Deposits and withdrawals are not emulated: no methods.
      j.key("deposit");
      j.begin_array();
      j.end_array();
      j.key("withdraw");
      j.begin_array();
      j.end_array();
      j.end_object();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  void write_balances(json_out& j) const {
    namespace f = wire::balance_field;
    j.begin_array();
    for (const auto& code : market_.asset_codes()) {
      const sim::ledger_entry e = ledger_.balance(code);
      const int places = market_.find_asset(code)->precision;
      j.begin_object();
      j.field(f::currency, code);
      j.field(f::available, at_least(e.available, places));
      j.field(f::frozen, at_least(e.frozen, places));
      j.field(f::updated_at, e.updated_at);
      j.end_object();
    }
    j.end_array();
  }

  sim_response get_balance(const sim_request&) {
    json_out j;
    write_balances(j);
    return sim_response::json(200, j.take());
  }

  sim_response get_directions(const sim_request&) {
    namespace f = wire::direction_field;
    json_out j;
    j.begin_array();
    for (const auto& d : config_.directions) {
      auto priced = price(d);
      if (!priced) continue;  // an asset without a price cannot be quoted
      const priced_direction& p = *priced;
      j.begin_object();
      j.field(f::code, d.code());
      j.field(f::spend_currency, d.spend);
      j.field(f::receive_currency, d.receive);
      j.key(f::is_enabled);
      j.boolean(d.enabled);
      j.key(f::spend_precision);
      j.integer(p.spend_precision);
      j.key(f::receive_precision);
      j.integer(p.receive_precision);
      j.field(f::fee_percent, p.fee_percent.to_string());
      j.field(f::min_spend_amount, p.min_spend.to_string(p.spend_precision, rounding::up));
      j.key(f::max_spend_amount);
      if (p.max_spend) {
        j.str(p.max_spend->to_string(p.spend_precision, rounding::down));
      } else {
        j.null();
      }
      j.field(f::min_receive_amount, p.min_receive.to_string(p.receive_precision, rounding::up));
      j.key(f::max_receive_amount);
      if (p.max_receive) {
        j.str(p.max_receive->to_string(p.receive_precision, rounding::down));
      } else {
        j.null();
      }
      j.field(f::spend_rate_value, at_least(p.spend_rate_value, rate_places));
      j.field(f::receive_rate_value, at_least(p.receive_rate_value, rate_places));
      j.end_object();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  swap_record* find_code(std::string_view code) {
    auto it = by_code_.find(std::string(code));
    return it == by_code_.end() ? nullptr : &swaps_[it->second];
  }

  swap_record* find_custom_id(std::string_view custom_id) {
    auto it = by_custom_id_.find(std::string(custom_id));
    return it == by_custom_id_.end() ? nullptr : &swaps_[it->second];
  }

  sim_response post_open(const sim_request& request) {
    namespace f = wire::open_field;
    auto body = parse_object(request.body);
    if (!body) return bad_request("the body must be a JSON object");
    const rapidjson::Value& in = *body;

    std::string custom_id;
    if (const auto* v = member(in, f::custom_id)) {
      if (!v->IsString() || v->GetStringLength() == 0 || v->GetStringLength() > max_custom_id) {
        return bad_request("custom_id must be a string of 1 to 255 characters");
      }
      custom_id = std::string(as_view(*v));
      // Idempotency: the same custom_id returns the swap it created, whatever else was sent.
      if (const swap_record* existing = find_custom_id(custom_id)) {
        return sim_response::json(200, swap_json(*existing));
      }
    }
    const auto* direction_value = member(in, f::direction);
    if (direction_value == nullptr || !direction_value->IsString()) {
      return bad_request("direction is required (a string such as USDT-COPM)");
    }
    const std::string direction_code(as_view(*direction_value));

    const auto* spend_value = member(in, f::spend_amount);
    const auto* receive_value = member(in, f::receive_amount);
    if ((spend_value == nullptr) == (receive_value == nullptr)) {
      return bad_request("exactly one of spend_amount and receive_amount is required");
    }
    const auto* amount_value = spend_value != nullptr ? spend_value : receive_value;
    const amount_side side = spend_value != nullptr ? amount_side::spend : amount_side::receive;
    const std::string_view amount_key =
        side == amount_side::spend ? f::spend_amount : f::receive_amount;
    if (!amount_value->IsString()) {
      return bad_request(std::string(amount_key) + " must be a decimal string");
    }
    const auto amount = decimal::parse(as_view(*amount_value));
    if (!amount || !amount->is_positive()) {
      return bad_request(std::string(amount_key) + " must be a positive decimal string");
    }

    std::string callback_url;
    if (const auto* v = member(in, f::callback_url)) {
      if (!v->IsString() || v->GetStringLength() > max_callback_url) {
        return bad_request("callback_url must be a URL string");
      }
      callback_url = std::string(as_view(*v));
      if (!callback_url.empty() && !parse_callback_url(callback_url)) {
        return unprocessable(
            "callback_url must be an http(s) URL on a loopback host: the emulator calls no other");
      }
    }
    milliseconds ttl = wire::default_time_to_live;
    if (const auto* v = member(in, f::time_to_live)) {
      if (!v->IsInt64() || v->GetInt64() < 1 || v->GetInt64() > max_time_to_live_ms) {
        return bad_request("time_to_live must be an integer number of milliseconds, 1 to 86400000");
      }
      ttl = milliseconds(v->GetInt64());
    }

    const sim::direction_config* d = config_.find_direction(direction_code);
    if (d == nullptr) return unprocessable("unknown swap direction " + direction_code);
    if (!d->enabled) return unprocessable("swap direction " + direction_code + " is disabled");
    auto priced = price(*d);
    if (!priced) {
      return error_response(500, wire::error_code::internal, priced.error().message);
    }
    const priced_direction& p = *priced;

    decimal spend;
    decimal gross;
    if (side == amount_side::spend) {
      if (amount->round(p.spend_precision, rounding::down) != *amount) {
        return unprocessable("spend_amount has more than " + std::to_string(p.spend_precision) +
                             " decimal places");
      }
      spend = *amount;
      auto g = p.gross_for_spend(spend);
      if (!g) return unprocessable("spend_amount is out of range");
      gross = *g;
    } else {
      if (amount->round(p.receive_precision, rounding::down) != *amount) {
        return unprocessable("receive_amount has more than " + std::to_string(p.receive_precision) +
                             " decimal places");
      }
      // receive_amount is the gross, as in the swap object (project decision, wire.hpp
      // open_field): the fee is charged on top of it.
      gross = *amount;
      auto s = p.spend_for_gross(gross);
      if (!s) return unprocessable("receive_amount is out of range");
      spend = *s;
    }
    auto limit_error = [&](std::string_view what, decimal value, std::string_view bound_name,
                           decimal bound, int places) {
      return unprocessable(std::string(what) + " " + at_least(value, places) + " is " +
                           std::string(bound_name) + " " + bound.to_string(places));
    };
    if (spend < p.min_spend) {
      return limit_error("spend amount", spend, "below the minimum", p.min_spend,
                         p.spend_precision);
    }
    if (p.max_spend && spend > *p.max_spend) {
      return limit_error("spend amount", spend, "above the maximum", *p.max_spend,
                         p.spend_precision);
    }
    if (gross < p.min_receive) {
      return limit_error("receive amount", gross, "below the minimum", p.min_receive,
                         p.receive_precision);
    }
    if (p.max_receive && gross > *p.max_receive) {
      return limit_error("receive amount", gross, "above the maximum", *p.max_receive,
                         p.receive_precision);
    }
    auto fee = p.fee_for(gross);
    auto net = fee ? p.net_for(gross, *fee) : fee;
    if (!net || !net->is_positive()) return unprocessable("the amount does not cover the fee");

    swap_record s;
    s.seq = next_seq_++;
    s.code = "SWP" + std::to_string(100000 + s.seq);
    s.custom_id = custom_id;
    s.callback_url = callback_url;
    s.direction = d->code();
    s.spend_currency = d->spend;
    s.receive_currency = d->receive;
    s.spend_precision = p.spend_precision;
    s.receive_precision = p.receive_precision;
    s.spend_rate = p.spend_rate_value;
    s.receive_rate = p.receive_rate_value;
    s.spend_amount = spend;
    s.receive_amount = gross;
    s.side = side;
    s.fee_amount = *fee;
    s.receive_net = *net;
    s.created_at = now();
    s.updated_at = s.created_at;
    s.expires_at = s.created_at + ttl;
    s.opened_by = std::string(request.header(wire::header::access_key));
    // Without the funds the swap still opens and fails at its fill (insufficient_funds).
    s.frozen = ledger_.freeze(s.spend_currency, spend).has_value();
    s.history.push_back({s.status, {}, s.created_at});

    const std::size_t index = swaps_.size();
    by_code_.emplace(s.code, index);
    if (!custom_id.empty()) by_custom_id_.emplace(custom_id, index);
    swaps_.push_back(std::move(s));
    const swap_record& stored = swaps_.back();

    // Steady timers: a clock offset change never moves a fill or an expiry.
    if (config_.fill_delay < ttl) {
      timers_.schedule(config_.fill_delay,
                       [self = shared_from_this(), index] { self->fill(index); });
    } else {
      timers_.schedule(ttl, [self = shared_from_this(), index] {
        self->finish(index, wire::swap_status::failed, wire::reason::expired,
                     "the swap's time to live passed before it was filled");
      });
    }
    return sim_response::json(200, swap_json(stored));
  }

  sim_response post_cancel(const sim_request& request) {
    auto body = parse_object(request.body);
    if (!body) return bad_request("the body must be a JSON object");
    const auto* code = member(*body, wire::cancel_field::code);
    const auto* custom_id = member(*body, wire::cancel_field::custom_id);
    if ((code != nullptr && !code->IsString()) ||
        (custom_id != nullptr && !custom_id->IsString())) {
      return bad_request("code and custom_id must be strings");
    }
    if (code == nullptr && custom_id == nullptr) {
      return bad_request("one of code and custom_id is required");
    }
    // The document: when both are given, the code is used first.
    swap_record* s =
        code != nullptr ? find_code(as_view(*code)) : find_custom_id(as_view(*custom_id));
    if (s == nullptr) return error_response(404, wire::error_code::not_found, "no such swap");
    // A final swap is returned unchanged; a repeated cancel keeps the first request time.
    if (s->status == wire::swap_status::open && !s->cancel_requested_at) {
      s->cancel_requested_at = now();
      s->updated_at = *s->cancel_requested_at;
      s->history.push_back({"cancel_requested", {}, *s->cancel_requested_at});
      const std::size_t index = static_cast<std::size_t>(s - swaps_.data());
      timers_.schedule(config_.cancel_delay, [self = shared_from_this(), index] {
        self->finish(index, wire::swap_status::failed, wire::reason::cancelled,
                     "the swap was cancelled at the client's request");
      });
    }
    return sim_response::json(200, swap_json(*s));
  }

  sim_response get_swaps(const sim_request& request) {
    namespace q = wire::list_query;
    std::optional<std::string_view> status = request.query_param(q::status);
    std::optional<std::string_view> direction = request.query_param(q::direction);
    std::optional<std::string_view> custom_id = request.query_param(q::custom_id);
    std::optional<wall_time> start_at;
    std::optional<wall_time> end_at;
    if (status && *status != wire::swap_status::open && *status != wire::swap_status::success &&
        *status != wire::swap_status::failed) {
      return bad_request("status must be one of open, success, failed");
    }
    for (auto [name, target] : {std::pair{q::start_at, &start_at}, std::pair{q::end_at, &end_at}}) {
      if (auto text = request.query_param(name)) {
        auto t = parse_timestamp(*text);
        if (!t) return bad_request(std::string(name) + " must be an ISO 8601 date-time");
        *target = *t;
      }
    }
    std::int64_t limit = wire::list_limit_default;
    std::int64_t offset = 0;
    if (auto text = request.query_param(q::limit)) {
      auto value = sim::parse_int(*text);
      if (!value || *value < 1 || *value > wire::list_limit_max) {
        return bad_request("limit must be an integer from 1 to 200");
      }
      limit = *value;
    }
    if (auto text = request.query_param(q::offset)) {
      auto value = sim::parse_int(*text);
      if (!value || *value < 0 || *value > wire::list_offset_max) {
        return bad_request("offset must be an integer from 0 to 10000");
      }
      offset = *value;
    }
    std::vector<const swap_record*> matching;
    for (const auto& s : swaps_) {
      if (status && s.status != *status) continue;
      if (direction && s.direction != *direction) continue;
      if (custom_id && s.custom_id != *custom_id) continue;
      if (start_at && s.created_at < *start_at) continue;
      if (end_at && s.created_at > *end_at) continue;
      matching.push_back(&s);
    }
    // Newest first by created_at (a clock offset change can reorder it against creation order).
    std::stable_sort(matching.begin(), matching.end(), [](const auto* a, const auto* b) {
      return a->created_at != b->created_at ? a->created_at > b->created_at : a->seq > b->seq;
    });
    json_out j;
    j.begin_array();
    for (std::size_t i = static_cast<std::size_t>(offset);
         i < matching.size() && i < static_cast<std::size_t>(offset + limit); ++i) {
      j.begin_object();
      write_swap_fields(j, *matching[i]);
      j.end_object();
    }
    j.end_array();
    return sim_response::json(200, j.take());
  }

  sim_response get_swap(const sim_request& request) {
    const swap_record* s = find_code(request.path_param("code"));
    if (s == nullptr) return error_response(404, wire::error_code::not_found, "no such swap");
    return sim_response::json(200, swap_json(*s));
  }

  // --- admin -------------------------------------------------------------------------------

  sim_response get_clock(const sim_request&) {
    json_out j;
    j.begin_object();
    j.key("offset_ms");
    j.integer(offset_.count());
    j.key("timestamp");
    j.integer(unix_ms(now()));
    j.field("now", now());
    j.end_object();
    return sim_response::json(200, j.take());
  }

  sim_response put_clock(const sim_request& request) {
    auto body = parse_object(request.body);
    const rapidjson::Value* offset = body ? member(*body, "offset_ms") : nullptr;
    if (offset == nullptr || !offset->IsInt64() ||
        std::abs(offset->GetInt64()) > std::int64_t{86'400'000} * 365) {
      return bad_request(R"(expected {"offset_ms": <integer milliseconds>})");
    }
    offset_ = milliseconds(offset->GetInt64());
    return get_clock(request);
  }

  std::string ledger_json() const {
    json_out j;
    j.begin_object();
    j.field("provider", config_.name);
    j.field("now", now());
    j.key("clock_offset_ms");
    j.integer(offset_.count());
    j.key("balances");
    write_balances(j);
    j.key("swaps");
    j.begin_array();
    for (const auto& s : swaps_) {
      j.begin_object();
      write_swap_fields(j, s);
      j.field("opened_by", s.opened_by);
      j.key("spend_frozen");
      j.boolean(s.frozen);
      j.key("status_history");
      j.begin_array();
      for (const auto& h : s.history) {
        j.begin_object();
        j.field("status", h.status);
        j.key("reason_code");
        j.str_or_null(h.reason_code);
        j.field("at", h.at);
        j.end_object();
      }
      j.end_array();
      j.key("callbacks");
      j.begin_array();
      for (const auto& c : s.callbacks) {
        j.begin_object();
        j.field("status", c.status);
        j.field("at", c.at);
        j.field("outcome", c.outcome);
        j.end_object();
      }
      j.end_array();
      j.end_object();
    }
    j.end_array();
    j.end_object();
    return j.take();
  }

  // --- lifecycle ---------------------------------------------------------------------------

  void fill(std::size_t index) {
    swap_record& s = swaps_[index];
    if (s.status != wire::swap_status::open) return;
    // A cancel requested before the fill wins, even if its own timer has not fired yet.
    if (s.cancel_requested_at) {
      finish(index, wire::swap_status::failed, wire::reason::cancelled,
             "the swap was cancelled at the client's request");
      return;
    }
    if (!s.frozen) s.frozen = ledger_.freeze(s.spend_currency, s.spend_amount).has_value();
    if (!s.frozen) {
      finish(index, wire::swap_status::failed, wire::reason::insufficient_funds,
             "insufficient " + s.spend_currency + " balance");
      return;
    }
    if (config_.failure_rate > 0.0) {
      constexpr double two_to_minus_53 = 1.0 / 9007199254740992.0;
      const double draw = static_cast<double>(rng_() >> 11) * two_to_minus_53;
      if (draw < config_.failure_rate) {
        finish(index, wire::swap_status::failed, reason_provider_error,
               "the swap failed at the provider (simulated failure)");
        return;
      }
    }
    finish(index, wire::swap_status::success, {}, {});
  }

  // Moves an open swap to a final state, settles the ledger and sends the callback.
  void finish(std::size_t index, std::string_view status, std::string_view reason_code,
              std::string_view reason_message) {
    swap_record& s = swaps_[index];
    if (s.status != wire::swap_status::open) return;
    const wall_time at = now();
    if (status == wire::swap_status::success) {
      const bool settled = ledger_.debit_frozen(s.spend_currency, s.spend_amount).has_value() &&
                           ledger_.credit(s.receive_currency, s.receive_net).has_value();
      if (!settled) {
        // Cannot happen while the spend is frozen; fail rather than invent money.
        status = wire::swap_status::failed;
        reason_code = reason_provider_error;
        reason_message = "the ledger refused the settlement";
      } else {
        s.spend_filled = s.spend_amount;
        s.receive_filled = s.receive_amount;
        s.receive_fee_filled = s.fee_amount;
      }
    }
    if (status != wire::swap_status::success && s.frozen) {
      (void)ledger_.unfreeze(s.spend_currency, s.spend_amount);
    }
    s.frozen = false;
    s.status = std::string(status);
    s.reason_code = std::string(reason_code);
    s.reason_message = std::string(reason_message);
    s.updated_at = at;
    s.done_at = at;
    s.history.push_back({s.status, s.reason_code, at});
    if (!s.callback_url.empty()) {
      asio::co_spawn(executor_, send_callback(shared_from_this(), index), asio::detached);
    }
  }

  http_client& client_for(const callback_target& target) {
    auto& client = callback_clients_[target.key()];
    if (!client) {
      http_endpoint endpoint;
      endpoint.host = target.host;
      endpoint.port = target.port;
      endpoint.tls = target.tls;
      endpoint.extra_ca_pem = options_.callback_ca_pem;
      endpoint.pool_size = 2;
      endpoint.connect_timeout = options_.callback_timeout;
      client = make_http_client(executor_, std::move(endpoint));
    }
    return *client;
  }

  // POSTs the swap's current object; a final state is retried with backoff until accepted.
  static asio::awaitable<void> send_callback(std::shared_ptr<impl> self, std::size_t index) {
    const auto target = parse_callback_url(self->swaps_[index].callback_url);
    if (!target) co_return;
    milliseconds backoff{250};
    for (int attempt = 0; attempt < callback_attempts && !self->timers_.stopped(); ++attempt) {
      const swap_record& s = self->swaps_[index];
      http_request request;
      request.method = "POST";
      request.target = target->target;
      request.headers.emplace_back(std::string(wire::header::content_type),
                                   std::string(wire::json_content_type));
      request.body = swap_json(s);
      const std::string status = s.status;
      auto answer = co_await self->client_for(*target).send(std::move(request),
                                                            self->options_.callback_timeout);
      std::string outcome =
          answer ? std::to_string(answer->status) : "error: " + describe(answer.error());
      self->swaps_[index].callbacks.push_back({status, self->now(), std::move(outcome)});
      if (answer && answer->status >= 200 && answer->status < 300) co_return;
      if (!co_await self->timers_.sleep(backoff)) co_return;
      backoff *= 2;
    }
  }

  asio::any_io_executor executor_;
  sim::server& server_;
  sim::market& market_;
  sim::provider_config config_;
  sim::emulator_options options_;
  milliseconds offset_;
  sim::ledger ledger_;
  std::vector<endpoint_rule> rules_;
  std::map<std::string, api_key, std::less<>> keys_;
  sim::sliding_window_limiter limiter_;
  std::vector<swap_record> swaps_;
  std::map<std::string, std::size_t> by_code_;
  std::map<std::string, std::size_t> by_custom_id_;
  std::mt19937_64 rng_;
  wall_time started_at_;
  std::uint64_t next_seq_ = 1;
  sim::timer_set timers_;
  std::map<std::string, std::unique_ptr<http_client>> callback_clients_;
};

emulator::emulator(asio::any_io_executor executor, sim::server& server, sim::market& market,
                   sim::provider_config config, sim::emulator_options options)
    : provider_emulator(wire::base_path, sim::timer_set(executor)),
      impl_(std::make_shared<impl>(std::move(executor), timers(), server, market, std::move(config),
                                   std::move(options))) {
  impl_->install();
}

wall_time emulator::now() const { return impl_->now(); }

std::chrono::milliseconds emulator::clock_offset() const { return impl_->offset_; }

void emulator::set_clock_offset(std::chrono::milliseconds offset) { impl_->offset_ = offset; }

sim::ledger& emulator::account() { return impl_->ledger_; }

std::string emulator::ledger_json() const { return impl_->ledger_json(); }

}  // namespace swaprouter::onek
