#include "adapters/onek/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "adapters/onek/wire.hpp"
#include "engine/guarded_call.hpp"
#include "engine/json_write.hpp"
#include "engine/redact.hpp"

namespace swaprouter::onek {
namespace {

using namespace std::chrono_literals;
using steady_time = std::chrono::steady_clock::time_point;

// The rate-budget key of GET /swap/{code}: one endpoint for every code.
constexpr std::string_view swap_item_endpoint = "/api/v1/swap/{code}";
// Periodic clock syncs that failed are retried no more often than this.
constexpr auto clock_retry_interval = 5s;

struct receive_breakdown {
  decimal gross;
  decimal fee;
  decimal net;
};

// VENUES.md 001k: the fee is fee_percent of the gross receive, charged in the receive currency and
// kept exact (the seed's swap object reports 0.73713125 USDT, finer than the direction's 6
// places); only the net is rounded, down to receive_precision. The emulator settles with the same
// formula, so a quote's receive_net is what the account is credited to the last unit.
result<receive_breakdown> receive_for_gross(const direction& dir, decimal gross) {
  auto fee = gross.mul_div(dir.fee_percent, decimal::from_int(100), rounding::up);
  if (!fee) return std::unexpected(std::move(fee.error()));
  auto rest = gross.checked_sub(*fee);
  if (!rest) return std::unexpected(std::move(rest.error()));
  auto net = rest->checked_round(dir.receive_precision, rounding::down);
  if (!net) return std::unexpected(std::move(net.error()));
  return receive_breakdown{gross, *fee, *net};
}

// VENUES.md 001k: gross = spend * receive_rate_value / spend_rate_value, exact (not rounded to
// receive_precision: the rounding happens once, on the net).
result<receive_breakdown> receive_for_spend(const direction& dir, decimal spend) {
  auto gross = spend.mul_div(dir.receive_rate_value, dir.spend_rate_value, rounding::down);
  if (!gross) return std::unexpected(std::move(gross.error()));
  return receive_for_gross(dir, *gross);
}

bool valid_precision(int places) { return places >= 0 && places <= decimal::scale; }

// Exact receive (project decision; the seed says only "Amount to receive"):
// - In POST /swap/open, receive_amount is the GROSS receive, the same quantity as the swap
//   object's field of that name (the seed's swap reports receive_amount 294.8525 and charges
//   fee_amount 0.73713125 on top of it). It must be exact at receive_precision. 001k charges
//   spend = receive_amount * spend_rate_value / receive_rate_value rounded up to spend_precision
//   and credits net = receive_amount - fee, rounded down to receive_precision (VENUES.md 001k).
// - A leg or quote_request with side = receive carries the NET amount the engine wants. The client
//   converts: it sends the smallest gross at receive_precision whose net covers the wanted net,
//   and treats an answer that does not echo that gross, or whose net falls short, as inconsistent.
struct exact_receive {
  decimal net_wanted;  // at receive_precision: every net is a multiple of it
  decimal gross;       // at receive_precision: POST /swap/open receive_amount
};

bool usable(const direction& dir) {
  return valid_precision(dir.spend_precision) && valid_precision(dir.receive_precision) &&
         dir.spend_rate_value.is_positive() && dir.receive_rate_value.is_positive() &&
         !dir.fee_percent.is_negative() && dir.fee_percent < decimal::from_int(100);
}

result<exact_receive> gross_for_net(const direction& dir, decimal net_wanted) {
  if (!net_wanted.is_positive()) {
    return fail(error_kind::invalid_argument, fmt::format("onek {}: receive {} is not positive",
                                                          dir.code, net_wanted.to_string()));
  }
  if (!usable(dir)) {
    return fail(error_kind::rejected,
                fmt::format("onek {}: direction has unusable rates, fee or precision", dir.code));
  }
  // "net >= wanted" is "net >= wanted rounded up", the net being a multiple of the precision.
  auto target = net_wanted.checked_round(dir.receive_precision, rounding::up);
  if (!target) return std::unexpected(std::move(target.error()));
  // Invert net = gross * (1 - fee/100), then step to the smallest gross that verifies: the
  // roundings of the forward formula make the estimate exact to a unit or two.
  auto estimate = target->mul_div(decimal::from_int(100), decimal::from_int(100) - dir.fee_percent,
                                  rounding::up);
  if (!estimate) return std::unexpected(std::move(estimate.error()));
  auto rounded = estimate->checked_round(dir.receive_precision, rounding::up);
  if (!rounded) return std::unexpected(std::move(rounded.error()));
  const decimal step = decimal::unit(dir.receive_precision);  // usable(): 0..18
  decimal gross = std::max(*rounded, step);
  auto r = receive_for_gross(dir, gross);
  if (!r) return std::unexpected(std::move(r.error()));
  constexpr int max_steps = 64;
  for (int i = 0; r->net < *target; ++i) {
    auto next = gross.checked_add(step);
    if (i == max_steps || !next) {
      return fail(error_kind::internal,
                  fmt::format("onek {}: no gross found for net {}", dir.code, target->to_string()));
    }
    gross = *next;
    r = receive_for_gross(dir, gross);
    if (!r) return std::unexpected(std::move(r.error()));
  }
  for (int i = 0; i < max_steps && gross > step; ++i) {
    auto lower = receive_for_gross(dir, gross - step);
    if (!lower || lower->net < *target) break;
    gross = gross - step;
  }
  return exact_receive{*target, gross};
}

// What 001k charges for a gross receive_amount: rounded up, the provider's side.
result<decimal> spend_for_gross(const direction& dir, decimal gross) {
  auto spend = gross.mul_div(dir.spend_rate_value, dir.receive_rate_value, rounding::up);
  if (!spend) return spend;
  return spend->checked_round(dir.spend_precision, rounding::up);
}

// 001k codes are like "BTC-USDT" and "SWP123456": a code outside this set is refused rather than
// escaped, so a path can never be bent by provider or caller text.
bool valid_code(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool printable(std::string_view text, std::size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool mentions_timeout(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  for (std::string_view word : {"timeout", "timed out", "time out", "time-out"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

bool is_auth_code(std::string_view code) {
  namespace a = wire::auth_error;
  for (std::string_view known :
       {a::access_key_missed, a::timestamp_missed, a::signature_missed, a::timestamp_invalid,
        a::access_key_invalid, a::access_key_inactive, a::access_key_ip_whitelist, a::user_inactive,
        a::signature_invalid}) {
    if (code == known) return true;
  }
  return false;
}

bool is_timestamp_rejection(const error& e) {
  return e.kind == error_kind::auth && e.provider_code == wire::auth_error::timestamp_invalid;
}

// A bucket that never grants more than `per_minute` in any 60 s window: token_bucket grants at
// most capacity + refill per window, so the documented limit is split between a burst and a
// steady refill.
token_bucket bucket_for(int per_minute) {
  const std::int64_t burst = std::max(1, per_minute / 3);
  return token_bucket(burst, rate_limit{per_minute - burst, std::chrono::minutes(1)});
}

error unknown_outcome(std::string message) {
  error e = make_error(error_kind::unknown_outcome, std::move(message));
  e.may_have_reached = true;
  return e;
}

// The fewest fractional places `amount` is exact at (0..18).
int places_of(decimal amount) {
  for (int places = 0; places < decimal::scale; ++places) {
    if (amount.round(places, rounding::down) == amount) return places;
  }
  return decimal::scale;
}

// What POST /swap/open asked for, to check a returned swap against.
struct open_expectation {
  std::string spend_asset;  // the leg's pair when set; a swap of another is inconsistent
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal spend;                         // spend side: spend_amount as sent
  std::optional<decimal> gross;          // receive side: receive_amount as sent, when known
  decimal net_wanted;                    // receive side: the least acceptable net
  std::optional<int> receive_precision;  // when known, the net is rounded down to it
};

// Why a swap the provider returned is not the one we asked for (FAULTS.md #25), if it is not.
std::optional<std::string> inconsistency(const swap& s, std::string_view custom_id,
                                         std::string_view direction_code,
                                         const open_expectation& expected) {
  if (s.custom_id != custom_id) {
    return fmt::format("swap {} carries another custom_id", s.code);
  }
  if (!direction_code.empty() && s.direction != direction_code) {
    return fmt::format("swap {} is for direction {}, not {}", s.code, s.direction, direction_code);
  }
  if ((!expected.spend_asset.empty() && s.spend_currency != expected.spend_asset) ||
      (!expected.receive_asset.empty() && s.receive_currency != expected.receive_asset)) {
    return fmt::format("swap {} converts {} to {}, not {} to {}", s.code, s.spend_currency,
                       s.receive_currency, expected.spend_asset, expected.receive_asset);
  }
  const bool spend_side = expected.side == amount_side::spend;
  const std::string_view expected_parameter =
      spend_side ? wire::amount_parameter::spend : wire::amount_parameter::receive;
  if (!s.amount_parameter.empty() && s.amount_parameter != expected_parameter) {
    return fmt::format("swap {} fixes the {} amount", s.code, s.amount_parameter);
  }
  if (spend_side) {
    if (s.spend_amount != expected.spend) {
      return fmt::format("swap {} spends {}, not {}", s.code, s.spend_amount.to_string(),
                         expected.spend.to_string());
    }
    return std::nullopt;
  }
  // The request fixed the gross (see exact_receive above); the net must cover what the leg wants.
  if (expected.gross && s.receive_amount != *expected.gross) {
    return fmt::format("swap {} receives {} gross, not {}", s.code, s.receive_amount.to_string(),
                       expected.gross->to_string());
  }
  auto net = s.receive_amount.checked_sub(receive_fee(s));
  if (net && expected.receive_precision) {
    net = net->checked_round(*expected.receive_precision, rounding::down);
  }
  if (!net) return fmt::format("swap {} has unusable amounts", s.code);
  if (*net < expected.net_wanted) {
    return fmt::format("swap {} receives {} net, less than {}", s.code, net->to_string(),
                       expected.net_wanted.to_string());
  }
  // Without the gross sent (find): it was the smallest at receive_precision whose net covers the
  // leg, so at the swap's own fee its net is less than one unit beyond the leg's; a unit or more
  // beyond is another amount. The unit is the direction's when known, else the coarsest the gross
  // is exact at (never finer than the direction's). A fee charged in another currency leaves no
  // such bound in receive units.
  const bool fee_off_receive = s.fee_currency.empty() || s.fee_currency == s.receive_currency;
  if (!expected.gross && fee_off_receive) {
    const int places = expected.receive_precision.value_or(places_of(s.receive_amount));
    auto limit = expected.net_wanted.checked_round(places, rounding::up);
    if (limit) limit = limit->checked_add(decimal::unit(places));
    auto exact_net = s.receive_amount.checked_sub(receive_fee(s));
    if (!limit || !exact_net) return fmt::format("swap {} has unusable amounts", s.code);
    if (*exact_net >= *limit) {
      return fmt::format("swap {} receives {} net, more than its gross for {} can give", s.code,
                         exact_net->to_string(), expected.net_wanted.to_string());
    }
  }
  return std::nullopt;
}

}  // namespace

result<quote> price_rate_table(const direction& dir, const quote_request& request,
                               wall_time obtained_at) {
  const auto reject = [&](std::string why) {
    return fail(error_kind::rejected, fmt::format("onek {}: {}", dir.code, why));
  };
  if (request.spend_asset != dir.spend_asset || request.receive_asset != dir.receive_asset) {
    return fail(error_kind::invalid_argument,
                fmt::format("onek {}: direction does not convert {} to {}", dir.code,
                            request.spend_asset, request.receive_asset));
  }
  if (!request.amount.is_positive()) {
    return fail(error_kind::invalid_argument, fmt::format("onek {}: amount {} is not positive",
                                                          dir.code, request.amount.to_string()));
  }
  if (!usable(dir)) return reject("direction has unusable rates, fee or precision");
  if (!dir.enabled) return reject("direction is disabled");

  decimal spend;
  receive_breakdown receive;
  if (request.side == amount_side::spend) {
    auto rounded = request.amount.checked_round(dir.spend_precision, rounding::down);
    if (!rounded) return std::unexpected(std::move(rounded.error()));
    spend = *rounded;
    if (spend.is_zero()) {
      return reject(fmt::format("spend {} rounds to 0 at {} places", request.amount.to_string(),
                                dir.spend_precision));
    }
    auto r = receive_for_spend(dir, spend);
    if (!r) return std::unexpected(std::move(r.error()));
    receive = *r;
  } else {
    // The amount is the net wanted: price the gross submit() will send and what 001k charges
    // for it (exact_receive above), not the smallest spend that would cover the net.
    auto wanted = gross_for_net(dir, request.amount);
    if (!wanted) return std::unexpected(std::move(wanted.error()));
    auto charged = spend_for_gross(dir, wanted->gross);
    if (!charged) return std::unexpected(std::move(charged.error()));
    spend = *charged;
    auto r = receive_for_gross(dir, wanted->gross);
    if (!r) return std::unexpected(std::move(r.error()));
    receive = *r;
  }

  if (spend < dir.min_spend) {
    return reject(fmt::format("spend {} is below min_spend_amount {}", spend.to_string(),
                              dir.min_spend.to_string()));
  }
  if (dir.max_spend && spend > *dir.max_spend) {
    return reject(fmt::format("spend {} is above max_spend_amount {}", spend.to_string(),
                              dir.max_spend->to_string()));
  }
  if (receive.gross < dir.min_receive) {
    return reject(fmt::format("gross receive {} is below min_receive_amount {}",
                              receive.gross.to_string(), dir.min_receive.to_string()));
  }
  if (dir.max_receive && receive.gross > *dir.max_receive) {
    return reject(fmt::format("gross receive {} is above max_receive_amount {}",
                              receive.gross.to_string(), dir.max_receive->to_string()));
  }
  if (!receive.net.is_positive()) return reject("the net receive rounds to 0");

  quote q;
  q.provider = std::string(provider_id);
  q.direction_code = dir.code;
  q.spend_asset = dir.spend_asset;
  q.receive_asset = dir.receive_asset;
  q.side = request.side;
  q.spend_amount = spend;
  q.receive_gross = receive.gross;
  q.fee = receive.fee;
  q.fee_asset = dir.receive_asset;
  q.receive_net = receive.net;
  q.model = pricing_model::rate_table;
  q.firm = false;
  q.obtained_at = obtained_at;
  return q;
}

std::string url_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  return out;
}

request_builder::request_builder(std::string access_key, hmac_sha256 secret)
    : access_key_(std::move(access_key)), secret_(std::move(secret)) {
  register_secret(access_key_);
}

http_request request_builder::status() const {
  return json_request("GET", std::string(wire::path::status));
}

http_request request_builder::currency() const {
  http_request r = status();
  r.target = std::string(wire::path::currency);
  return r;
}

http_request request_builder::signed_request(std::string_view method, std::string target,
                                             std::string body, std::int64_t timestamp_ms) {
  http_request r = json_request(method, std::move(target), std::move(body));
  const std::string timestamp = std::to_string(timestamp_ms);
  r.headers.emplace_back(wire::header::access_key, access_key_);
  r.headers.emplace_back(wire::header::timestamp, timestamp);
  // The path component of the target: a GET's query is not signed (wire::signature).
  const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
  r.headers.emplace_back(wire::header::signature,
                         wire::signature(secret_, access_key_, path, timestamp, r.body));
  return r;
}

http_request request_builder::balance(std::int64_t timestamp_ms) {
  return signed_request("GET", std::string(wire::path::balance), {}, timestamp_ms);
}

http_request request_builder::swap_directions(std::int64_t timestamp_ms) {
  return signed_request("GET", std::string(wire::path::swap_directions), {}, timestamp_ms);
}

result<http_request> request_builder::swap_open(const open_params& params,
                                                std::int64_t timestamp_ms) {
  const auto bad = [](std::string why) {
    return fail(error_kind::invalid_argument, "onek swap/open: " + why);
  };
  if (!valid_code(params.direction)) return bad("unusable direction code");
  if (!printable(params.custom_id, 128)) return bad("custom_id must be 1..128 printable ASCII");
  if (params.callback_url && !printable(*params.callback_url, 2048)) {
    return bad("callback_url must be 1..2048 printable ASCII");
  }
  if (params.time_to_live <= std::chrono::milliseconds::zero()) {
    return bad("time_to_live must be positive");
  }
  if (!valid_precision(params.precision)) return bad("precision outside 0..18");
  if (!params.amount.is_positive()) return bad("amount must be positive");
  auto exact = params.amount.checked_round(params.precision, rounding::down);
  if (!exact || *exact != params.amount) {
    return bad(fmt::format("amount {} is not exact at {} places", params.amount.to_string(),
                           params.precision));
  }
  const std::string amount = params.amount.to_string(params.precision, rounding::down);

  json_out body;
  body.begin_object().field(wire::open_field::direction, params.direction);
  body.field(params.side == amount_side::spend ? wire::open_field::spend_amount
                                               : wire::open_field::receive_amount,
             amount);
  if (params.callback_url) body.field(wire::open_field::callback_url, *params.callback_url);
  body.field(wire::open_field::custom_id, params.custom_id)
      .field_int(wire::open_field::time_to_live, params.time_to_live.count())
      .end_object();
  return signed_request("POST", std::string(wire::path::swap_open), body.take(), timestamp_ms);
}

result<http_request> request_builder::swap_cancel(std::string_view code,
                                                  std::int64_t timestamp_ms) {
  if (!valid_code(code)) return fail(error_kind::invalid_argument, "onek swap/cancel: bad code");
  json_out body;
  body.begin_object().field(wire::cancel_field::code, code).end_object();
  return signed_request("POST", std::string(wire::path::swap_cancel), body.take(), timestamp_ms);
}

result<http_request> request_builder::swap_item(std::string_view code, std::int64_t timestamp_ms) {
  if (!valid_code(code)) return fail(error_kind::invalid_argument, "onek swap/{code}: bad code");
  return signed_request("GET", wire::swap_item_path(code), {}, timestamp_ms);
}

result<http_request> request_builder::swap_list(const list_params& params,
                                                std::int64_t timestamp_ms) {
  namespace q = wire::list_query;
  if (params.limit && (*params.limit < 1 || *params.limit > wire::list_limit_max)) {
    return fail(error_kind::invalid_argument, "onek swap list: limit outside 1..200");
  }
  if (params.offset && (*params.offset < 0 || *params.offset > wire::list_offset_max)) {
    return fail(error_kind::invalid_argument, "onek swap list: offset outside 0..10000");
  }
  std::string target(wire::path::swap_list);
  char separator = '?';
  const auto add = [&](std::string_view name, std::string_view value) {
    target += separator;
    target += name;
    target += '=';
    target += url_encode(value);
    separator = '&';
  };
  // Fixed order (wire.hpp list_query): the signature covers the query exactly as sent.
  if (params.custom_id) add(q::custom_id, *params.custom_id);
  if (params.status) add(q::status, *params.status);
  if (params.direction) add(q::direction, *params.direction);
  if (params.start_at) add(q::start_at, format_timestamp(*params.start_at));
  if (params.end_at) add(q::end_at, format_timestamp(*params.end_at));
  if (params.limit) add(q::limit, std::to_string(*params.limit));
  if (params.offset) add(q::offset, std::to_string(*params.offset));
  return signed_request("GET", std::move(target), {}, timestamp_ms);
}

client::client(http_client& http, std::string access_key, hmac_sha256 secret,
               client_options options, client_clocks clocks)
    : http_(http),
      builder_(std::move(access_key), std::move(secret)),
      options_(std::move(options)),
      clocks_(std::move(clocks)),
      circuit_(options_.circuit),
      clock_(options_.clock) {
  namespace p = wire::path;
  namespace l = wire::rate_limit_per_minute;
  budget_.set(std::string(p::status), bucket_for(l::status));
  budget_.set(std::string(p::balance), bucket_for(l::balance));
  budget_.set(std::string(p::currency), bucket_for(l::currency));
  budget_.set(std::string(p::swap_directions), bucket_for(l::swap_directions));
  budget_.set(std::string(p::swap_open), bucket_for(l::swap_open));
  budget_.set(std::string(p::swap_cancel), bucket_for(l::swap_cancel));
  budget_.set(std::string(p::swap_list), bucket_for(l::swap_list));
  budget_.set(std::string(swap_item_endpoint), bucket_for(l::swap_item));
}

venue_traits client::traits() const {
  return venue_traits{
      .firm_quotes = false, .cancel = true, .client_id = true, .exact_receive = true};
}

std::chrono::steady_clock::duration client::poll_wait(poll_kind kind,
                                                      std::int64_t reserve) const {
  namespace p = wire::path;
  const auto now = clocks_.steady();
  if (kind == poll_kind::balances) return budget_.time_until_available(p::balance, now, reserve);
  if (kind == poll_kind::prices && prices_fresh(now)) return {};
  return budget_.time_until_available(p::swap_directions, now, reserve);
}

std::int64_t client::provider_now_ms() const {
  const auto now = clock_.provider_now(clocks_.wall());
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

task<result<http_response>> client::attempt(std::string_view endpoint, const builder_fn& build,
                                            call_kind kind) {
  auto request = build(builder_, provider_now_ms());
  if (!request) co_return std::unexpected(std::move(request.error()));
  guarded_call_spec spec;
  spec.provider = "onek";
  spec.endpoint = endpoint;
  spec.timeout = options_.request_timeout;
  spec.execute = kind == call_kind::open;
  const error_body_mapper read_body = [](const http_response& response) {
    const provider_error body = parse_error_body(response.body);
    error_body_reading reading;
    reading.provider_code = body.code;
    reading.text = body.code + (body.code.empty() ? "" : " ") + body.message;
    // A documented auth code means the request was refused before anything was executed.
    reading.refused_before_execution = is_auth_code(body.code);
    // FAULTS.md #8: on a create, only a validation body is a rejection; a 400 that says it timed
    // out (or that is not the {"code","message"} shape at all) leaves the outcome unknown.
    reading.documented_rejection =
        !body.code.empty() && !mentions_timeout(body.code) && !mentions_timeout(body.message);
    return reading;
  };
  const call_guard guard{&circuit_, &budget_, &clocks_.wall, &clocks_.steady};
  co_return co_await guarded_call(http_, guard, std::move(*request), spec,
                                  status_answer(spec, read_body));
}

task<result<http_response>> client::call(std::string_view endpoint, const builder_fn& build,
                                         call_kind kind) {
  const auto now = clocks_.steady();
  const auto interval = clock_.offset() ? options_.clock_sync_interval
                                        : std::chrono::steady_clock::duration(clock_retry_interval);
  if (!last_clock_attempt_ || now - *last_clock_attempt_ >= interval) {
    // A failed sync leaves the previous offset (or our own clock) in use; a timestamp.invalid
    // answer below re-syncs.
    const auto synced = co_await sync_clock();
    static_cast<void>(synced);
  }
  auto first = co_await attempt(endpoint, build, kind);
  if (first || !is_timestamp_rejection(first.error())) co_return first;
  // timestamp.invalid: nothing was executed, so re-signing and resending once is safe even for
  // POST /swap/open (FAULTS.md #18). The old samples describe a clock that has moved: dropped.
  clock_.clear();
  const auto synced = co_await sync_clock();
  if (!synced) co_return first;
  co_return co_await attempt(endpoint, build, kind);
}

task<result<void>> client::sync_clock() {
  last_clock_attempt_ = clocks_.steady();
  const auto send_steady = clocks_.steady();
  const auto send_wall = clocks_.wall();
  const builder_fn build = [](request_builder& b, std::int64_t) -> result<http_request> {
    return b.status();
  };
  auto response = co_await attempt(wire::path::status, build, call_kind::read);
  const auto receive_steady = clocks_.steady();
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto server_time = parse_status(response->body);
  if (!server_time) co_return std::unexpected(std::move(server_time.error()));
  if (!clock_.add_sample(send_steady, receive_steady, send_wall, *server_time)) {
    co_return fail(error_kind::timeout, "onek /status: round trip too long for a clock sample");
  }
  co_return result<void>{};
}

task<result<std::vector<direction>>> client::directions() {
  const builder_fn build = [](request_builder& b, std::int64_t ts) -> result<http_request> {
    return b.swap_directions(ts);
  };
  auto response = co_await call(wire::path::swap_directions, build, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto parsed = parse_directions(response->body);
  if (!parsed) co_return std::unexpected(std::move(parsed.error()));
  directions_ = *parsed;
  directions_at_ = clocks_.steady();
  directions_provider_time_ = clock_.provider_now(clocks_.wall());
  co_return parsed;
}

task<result<direction>> client::cached_direction(std::string_view code) {
  const auto lookup = [&]() -> std::optional<direction> {
    for (const auto& d : directions_) {
      if (d.code == code) return d;
    }
    return std::nullopt;
  };
  if (auto found = lookup()) co_return std::move(*found);
  const std::string wanted(code);
  auto fresh = co_await directions();
  if (!fresh) co_return std::unexpected(std::move(fresh.error()));
  for (const auto& d : directions_) {
    if (d.code == wanted) co_return d;
  }
  co_return fail(error_kind::rejected, fmt::format("onek: no direction {}", wanted));
}

pricing pricing_of(const direction& dir, wall_time obtained_at) {
  pricing p;
  p.provider = std::string(provider_id);
  p.direction_code = dir.code;
  p.spend_asset = dir.spend_asset;
  p.receive_asset = dir.receive_asset;
  p.model = pricing_model::rate_table;
  p.spend_precision = dir.spend_precision;
  p.receive_precision = dir.receive_precision;
  p.min_spend = dir.min_spend;
  p.max_spend = dir.max_spend;
  p.min_receive = dir.min_receive;
  p.max_receive = dir.max_receive;
  p.fee_percent = dir.fee_percent;
  p.rate_spend = dir.spend_rate_value;
  p.rate_receive = dir.receive_rate_value;
  // POST /swap/open takes receive_amount (the gross): the planner may fix the receive side.
  p.exact_receive = true;
  p.obtained_at = obtained_at;
  return p;
}

result<direction> find_direction(const std::vector<direction>& directions,
                                 std::string_view spend_asset, std::string_view receive_asset) {
  const auto it = std::find_if(directions.begin(), directions.end(), [&](const direction& d) {
    return d.spend_asset == spend_asset && d.receive_asset == receive_asset;
  });
  if (it == directions.end()) {
    return fail(error_kind::rejected,
                fmt::format("onek: no direction {} -> {}", spend_asset, receive_asset));
  }
  return *it;
}

result<pricing> pricing_for_pair(const std::vector<direction>& directions,
                                 std::string_view spend_asset, std::string_view receive_asset,
                                 wall_time obtained_at, wall_time::duration valid_for) {
  auto dir = find_direction(directions, spend_asset, receive_asset);
  if (!dir) return std::unexpected(std::move(dir.error()));
  if (!dir->enabled) {
    return fail(error_kind::rejected, fmt::format("onek: direction {} disabled", dir->code));
  }
  pricing p = pricing_of(*dir, obtained_at);
  p.valid_until = obtained_at + valid_for;
  return p;
}

bool client::prices_fresh(std::chrono::steady_clock::time_point now) const {
  const auto lead = std::min(options_.directions_refresh_lead, options_.directions_max_age);
  return directions_at_ && now - *directions_at_ <= options_.directions_max_age - lead;
}

task<result<void>> client::fresh_directions() {
  if (prices_fresh(clocks_.steady())) co_return result<void>{};
  // Overlapping prices that find the cache stale share one GET /swap-directions: each would
  // otherwise spend a request of that endpoint's budget on the same listing.
  task<result<std::vector<direction>>> listing = directions();
  co_return co_await directions_refresh_.run_listing(std::move(listing));
}

task<result<direction>> client::direction_for(std::string spend_asset, std::string receive_asset) {
  auto ready = co_await fresh_directions();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  co_return find_direction(directions_, spend_asset, receive_asset);
}

task<result<quote>> client::price(const quote_request& request) {
  const quote_request wanted = request;
  auto dir = co_await direction_for(wanted.spend_asset, wanted.receive_asset);
  if (!dir) co_return std::unexpected(std::move(dir.error()));
  auto q = price_rate_table(*dir, wanted, directions_provider_time_);
  if (q) q->valid_until = directions_valid_until();
  co_return q;
}

task<result<pricing>> client::pricing_for(const quote_request& request) {
  const quote_request wanted = request;
  auto ready = co_await fresh_directions();
  if (!ready) co_return std::unexpected(std::move(ready.error()));
  co_return pricing_for_pair(
      directions_, wanted.spend_asset, wanted.receive_asset, directions_provider_time_,
      std::chrono::duration_cast<wall_time::duration>(options_.directions_max_age));
}

wall_time client::directions_valid_until() const {
  return directions_provider_time_ +
         std::chrono::duration_cast<wall_time::duration>(options_.directions_max_age);
}

task<result<leg_status>> client::submit(const leg& leg, const client_id& id) {
  const swaprouter::leg wanted = leg;
  const client_id custom_id = id;
  auto dir = co_await cached_direction(wanted.direction_code);
  if (!dir) co_return std::unexpected(std::move(dir.error()));
  open_params params;
  params.direction = wanted.direction_code;
  params.side = wanted.side;
  params.callback_url = options_.callback_url;
  params.custom_id = custom_id;
  params.time_to_live = wanted.time_to_live;
  open_expectation expected;
  expected.spend_asset = wanted.spend_asset;
  expected.receive_asset = wanted.receive_asset;
  expected.side = wanted.side;
  if (wanted.side == amount_side::spend) {
    // VENUES.md "Common": an amount we send is rounded toward the safe side, down.
    auto amount = wanted.amount.checked_round(dir->spend_precision, rounding::down);
    if (!amount || !amount->is_positive()) {
      co_return fail(
          error_kind::invalid_argument,
          fmt::format("onek {}: amount {} rounds to nothing at {} places", wanted.direction_code,
                      wanted.amount.to_string(), dir->spend_precision));
    }
    params.amount = *amount;
    params.precision = dir->spend_precision;
    expected.spend = *amount;
  } else {
    // The leg fixes the net; the request fixes the gross (exact_receive above).
    auto converted = gross_for_net(*dir, wanted.amount);
    if (!converted) co_return std::unexpected(std::move(converted.error()));
    params.amount = converted->gross;
    params.precision = dir->receive_precision;
    expected.gross = converted->gross;
    expected.net_wanted = converted->net_wanted;
    expected.receive_precision = dir->receive_precision;
  }
  const builder_fn build = [params](request_builder& b, std::int64_t ts) {
    return b.swap_open(params, ts);
  };
  auto response = co_await call(wire::path::swap_open, build, call_kind::open);
  if (!response) co_return std::unexpected(std::move(response.error()));
  // The provider answered 2xx: a swap may exist even when the body cannot be read.
  auto created = parse_swap(response->body);
  if (!created) {
    co_return std::unexpected(unknown_outcome(fmt::format(
        "onek {}: unreadable answer: {}", wire::path::swap_open, created.error().message)));
  }
  if (auto why = inconsistency(*created, custom_id, wanted.direction_code, expected)) {
    co_return std::unexpected(unknown_outcome(
        fmt::format("onek {}: inconsistent answer: {}", wire::path::swap_open, *why)));
  }
  co_return to_leg_status(*created);
}

task<result<leg_status>> client::status(const leg_ref& ref) {
  const std::string code = ref.provider_ref;
  const builder_fn build = [code](request_builder& b, std::int64_t ts) {
    return b.swap_item(code, ts);
  };
  auto response = co_await call(swap_item_endpoint, build, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto found = parse_swap(response->body);
  if (!found) co_return std::unexpected(std::move(found.error()));
  if (found->code != code) {
    co_return fail(error_kind::bad_response,
                   fmt::format("onek: inconsistent: asked for swap {}, got {}", code, found->code));
  }
  co_return to_leg_status(*found);
}

// Looked up by custom_id, not by amount: `held` is not needed (the executor still checks the one
// answer against the journal).
task<result<std::optional<leg_status>>> client::find(const client_id& id, const leg& leg,
                                                     const held_swaps&) {
  const client_id custom_id = id;
  const swaprouter::leg wanted = leg;
  list_params params;
  params.custom_id = custom_id;
  // Two are enough to tell "one" from "more than one".
  params.limit = 2;
  const builder_fn build = [params](request_builder& b, std::int64_t ts) {
    return b.swap_list(params, ts);
  };
  auto response = co_await call(wire::path::swap_list, build, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto swaps = parse_swap_list(response->body);
  if (!swaps) co_return std::unexpected(std::move(swaps.error()));
  if (swaps->empty()) co_return std::optional<leg_status>{};
  if (swaps->size() > 1) {
    co_return fail(error_kind::bad_response,
                   fmt::format("onek: inconsistent: {} swaps for one custom_id", swaps->size()));
  }
  const swap& s = swaps->front();
  // What submit() sent, as far as the cached direction tells: the spend rounded down at its
  // precision; on the receive side a net that covers the leg by less than a unit at the swap's
  // own fee (the gross sent depended on the fee at the time, which may have changed since).
  open_expectation expected;
  expected.spend_asset = wanted.spend_asset;
  expected.receive_asset = wanted.receive_asset;
  expected.side = wanted.side;
  expected.spend = wanted.amount;
  expected.net_wanted = wanted.amount;
  for (const auto& d : directions_) {
    if (d.code != wanted.direction_code || !usable(d)) continue;
    if (wanted.side == amount_side::spend) {
      if (auto rounded = wanted.amount.checked_round(d.spend_precision, rounding::down)) {
        expected.spend = *rounded;
      }
    } else if (auto rounded = wanted.amount.checked_round(d.receive_precision, rounding::up)) {
      expected.net_wanted = *rounded;
      expected.receive_precision = d.receive_precision;
    }
  }
  if (auto why = inconsistency(s, custom_id, wanted.direction_code, expected)) {
    co_return fail(error_kind::bad_response, fmt::format("onek: inconsistent: {}", *why));
  }
  co_return std::optional<leg_status>(to_leg_status(s));
}

task<result<leg_status>> client::cancel(const leg_ref& ref) {
  const std::string code = ref.provider_ref;
  const builder_fn build = [code](request_builder& b, std::int64_t ts) {
    return b.swap_cancel(code, ts);
  };
  auto response = co_await call(wire::path::swap_cancel, build, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto found = parse_swap(response->body);
  if (!found) co_return std::unexpected(std::move(found.error()));
  if (found->code != code) {
    co_return fail(error_kind::bad_response,
                   fmt::format("onek: inconsistent: cancelled swap {}, got {}", code, found->code));
  }
  co_return to_leg_status(*found);
}

task<result<std::vector<balance>>> client::balances() {
  const builder_fn build = [](request_builder& b, std::int64_t ts) -> result<http_request> {
    return b.balance(ts);
  };
  auto response = co_await call(wire::path::balance, build, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  co_return parse_balances(response->body);
}

}  // namespace swaprouter::onek
