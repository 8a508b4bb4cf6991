#include "adapters/oxapay/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "adapters/oxapay/wire.hpp"
#include "engine/guarded_call.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"
#include "engine/redact.hpp"

namespace swaprouter::oxapay {
namespace {

// Tickers are plain ("BTC", "USDT"): anything else is refused rather than escaped.
bool valid_token(std::string_view text, std::size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool mentions_timeout(std::string_view text) {
  std::string l(text);
  std::transform(l.begin(), l.end(), l.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  for (std::string_view word : {"timeout", "timed out", "time out", "time-out"}) {
    if (l.find(word) != std::string::npos) return true;
  }
  return false;
}

error unknown_outcome(std::string message, bool sent = true) {
  error e = make_error(error_kind::unknown_outcome, std::move(message));
  e.may_have_reached = sent;
  return e;
}

std::int64_t unix_seconds(wall_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

request_builder::request_builder(std::string api_key) : api_key_(std::move(api_key)) {
  register_secret(api_key_);
}

http_request request_builder::make(std::string_view method, std::string target,
                                   std::string body) const {
  http_request r = json_request(method, std::move(target), std::move(body));
  r.headers.emplace_back(wire::header::api_key, api_key_);
  return r;
}

namespace {
result<std::string> pair_body(std::string_view from, std::string_view to,
                              std::optional<decimal> amount) {
  namespace f = wire::request_field;
  if (!valid_token(from, 16) || !valid_token(to, 16)) {
    return fail(error_kind::invalid_argument, "oxapay: unusable currency code");
  }
  if (amount && !amount->is_positive()) {
    return fail(error_kind::invalid_argument, "oxapay: amount must be positive");
  }
  json_out j;
  j.begin_object();
  if (amount) {
    j.key(f::amount);
    // A JSON number written from the exact decimal text (seed: "amount": 0.5), never a double.
    j.raw_number(amount->to_string());
  }
  j.field(f::from_currency, from);
  j.field(f::to_currency, to);
  j.end_object();
  return j.take();
}
}  // namespace

result<http_request> request_builder::swap(std::string_view from, std::string_view to,
                                           decimal amount) const {
  auto body = pair_body(from, to, amount);
  if (!body) return std::unexpected(std::move(body.error()));
  return make("POST", std::string(wire::path::swap), std::move(*body));
}

result<http_request> request_builder::calculate(std::string_view from, std::string_view to,
                                                decimal amount) const {
  auto body = pair_body(from, to, amount);
  if (!body) return std::unexpected(std::move(body.error()));
  return make("POST", std::string(wire::path::calculate), std::move(*body));
}

result<http_request> request_builder::rate(std::string_view from, std::string_view to) const {
  auto body = pair_body(from, to, std::nullopt);
  if (!body) return std::unexpected(std::move(body.error()));
  return make("POST", std::string(wire::path::rate), std::move(*body));
}

http_request request_builder::pairs(int page) const {
  return make("GET", fmt::format("{}?page={}", wire::path::pairs, page), {});
}

result<http_request> request_builder::history(const history_params& params) const {
  namespace q = wire::history_query;
  if (params.size && (*params.size < 1 || *params.size > wire::history_size_max)) {
    return fail(error_kind::invalid_argument, "oxapay history: size outside 1..200");
  }
  for (const auto* v : {&params.track_id, &params.from_currency, &params.to_currency}) {
    if (*v && !valid_token(**v, 64)) {
      return fail(error_kind::invalid_argument, "oxapay history: unusable filter");
    }
  }
  std::string target(wire::path::swap);
  char separator = '?';
  const auto add = [&](std::string_view name, std::string_view value) {
    target += separator;
    target += name;
    target += '=';
    target += value;
    separator = '&';
  };
  if (params.track_id) add(q::track_id, *params.track_id);
  if (params.from_currency) add(q::from_currency, *params.from_currency);
  if (params.to_currency) add(q::to_currency, *params.to_currency);
  if (params.from_date) add(q::from_date, std::to_string(unix_seconds(*params.from_date)));
  if (params.to_date) add(q::to_date, std::to_string(unix_seconds(*params.to_date)));
  if (params.page) add(q::page, std::to_string(*params.page));
  if (params.size) add(q::size, std::to_string(*params.size));
  return make("GET", std::move(target), {});
}

http_request request_builder::balance() const {
  return make("GET", std::string(wire::path::balance), {});
}

client::client(http_client& http, std::string api_key, client_options options, client_clocks clocks)
    : http_(http),
      builder_(std::move(api_key)),
      options_(std::move(options)),
      clocks_(std::move(clocks)),
      circuit_(options_.circuit) {}

venue_traits client::traits() const {
  return venue_traits{
      .firm_quotes = false, .cancel = false, .client_id = false, .exact_receive = false};
}

task<result<http_response>> client::call(std::string_view endpoint,
                                         const result<http_request>& request, call_kind kind) {
  if (!request) co_return std::unexpected(request.error());
  guarded_call_spec spec;
  spec.provider = "oxapay";
  spec.endpoint = endpoint;
  spec.timeout = options_.request_timeout;
  spec.execute = kind == call_kind::execute;
  // A 429 on calculate is that endpoint's limit: price() falls back to /rate.
  spec.rate_limit_feeds_circuit = kind != call_kind::quote;
  const error_body_mapper read_body = [](const http_response& response) {
    const provider_error body = parse_error_body(response.body);
    error_body_reading reading;
    reading.provider_code = body.key.empty() ? body.type : body.type + ":" + body.key;
    reading.text = reading.provider_code + " " + body.message;
    reading.refused_before_execution = true;
    // FAULTS.md #8: on a swap only the documented envelope with an error is a rejection.
    reading.documented_rejection = (!body.type.empty() || !body.key.empty()) &&
                                   body.status == response.status &&
                                   !mentions_timeout(body.message);
    return reading;
  };
  const call_guard guard{&circuit_, nullptr, &clocks_.wall, &clocks_.steady};
  auto response =
      co_await guarded_call(http_, guard, *request, spec, status_answer(spec, read_body));
  if (!response && kind == call_kind::quote && response.error().http_status == 429) {
    ++quote_rate_limited_;
  }
  co_return response;
}

task<result<std::vector<direction>>> client::directions() {
  std::vector<direction> out;
  const int max_pages = std::max(1, options_.pairs_max_pages);
  bool read_all = false;
  for (int page_no = 1; page_no <= max_pages && !read_all; ++page_no) {
    const result<http_request> built = builder_.pairs(page_no);
    auto response = co_await call(wire::path::pairs, built, call_kind::read);
    if (!response) co_return std::unexpected(std::move(response.error()));
    auto page = parse_pairs(response->body);
    if (!page) co_return std::unexpected(std::move(page.error()));
    for (const auto& p : page->list) {
      direction d;
      d.provider = std::string(provider_id);
      d.code = p.from_currency + "-" + p.to_currency;
      d.spend_asset = p.from_currency;
      d.receive_asset = p.to_currency;
      d.enabled = true;
      d.spend_precision = options_.precision;
      d.receive_precision = options_.precision;
      d.min_spend = p.min_amount;
      out.push_back(std::move(d));
    }
    read_all = page->page_no >= page->last_page;
  }
  // A cut listing would drop the pairs on the pages left unread as if OxaPay no longer offered
  // them: the refresh fails instead and the previous directions stay. It stays cut when listed
  // again: prices wait pairs_max_age before they list again (at every price, the cap's pages
  // each time would draw 429s, a halt signal).
  if (!read_all) {
    directions_at_ = clocks_.steady();
    pairs_cut_ = true;
    co_return cut_listing();
  }
  directions_ = out;
  directions_at_ = clocks_.steady();
  pairs_cut_ = false;
  co_return out;
}

std::unexpected<error> client::cut_listing() const {
  return fail(error_kind::bad_response,
              fmt::format("oxapay: the pairs run past the {} pages read (pairs_max_pages): "
                          "directions not refreshed",
                          std::max(1, options_.pairs_max_pages)));
}

task<result<quote>> client::price(const quote_request& request) {
  const quote_request wanted = request;
  if (wanted.side != amount_side::spend) {
    co_return fail(error_kind::invalid_argument, "oxapay quotes the spend amount only");
  }
  if (!directions_at_ || clocks_.steady() - *directions_at_ > options_.pairs_max_age) {
    // Overlapping prices that find the pairs stale share one listing (every page of
    // GET /general/swap/pairs) instead of each sending it again.
    task<result<std::vector<direction>>> listing = directions();
    auto fresh = co_await pairs_refresh_.run_listing(std::move(listing));
    // A failed refresh leaves the previous pairs to price with, when there are any.
    if (!fresh && directions_.empty()) co_return std::unexpected(std::move(fresh.error()));
  }
  if (directions_.empty() && pairs_cut_) co_return cut_listing();
  const auto dir = std::find_if(directions_.begin(), directions_.end(), [&](const direction& d) {
    return d.spend_asset == wanted.spend_asset && d.receive_asset == wanted.receive_asset;
  });
  if (dir == directions_.end()) {
    co_return fail(error_kind::rejected, fmt::format("oxapay: no pair {} -> {}", wanted.spend_asset,
                                                     wanted.receive_asset));
  }
  const decimal amount = wanted.amount.round(options_.precision, rounding::down);
  if (!amount.is_positive() || amount < dir->min_spend) {
    co_return fail(error_kind::rejected,
                   fmt::format("oxapay: amount {} below the minimum {}", amount.to_string(),
                               dir->min_spend.to_string()));
  }
  const std::string code = dir->code;
  const wall_time obtained_at = clocks_.wall();
  const auto calc_request = builder_.calculate(wanted.spend_asset, wanted.receive_asset, amount);
  auto calculated = co_await call(wire::path::calculate, calc_request, call_kind::quote);
  if (calculated) {
    auto c = parse_calculation(calculated->body);
    if (!c) co_return std::unexpected(std::move(c.error()));
    // The fee is inside the rate (VENUES.md 3.2): to_amount is the net receive.
    co_return quote_of(code, wanted.spend_asset, wanted.receive_asset, amount, c->to_amount,
                       options_.precision, obtained_at);
  }
  if (calculated.error().kind != error_kind::rate_limited) {
    co_return std::unexpected(std::move(calculated.error()));
  }
  const auto rate_request = builder_.rate(wanted.spend_asset, wanted.receive_asset);
  auto rated = co_await call(wire::path::rate, rate_request, call_kind::read);
  if (!rated) co_return std::unexpected(std::move(rated.error()));
  auto rate = parse_rate(rated->body);
  if (!rate) co_return std::unexpected(std::move(rate.error()));
  // Rate = units of to per 1 from (wire.hpp swap_field).
  auto gross = amount.mul(*rate, rounding::down);
  if (!gross) co_return std::unexpected(std::move(gross.error()));
  co_return quote_of(code, wanted.spend_asset, wanted.receive_asset, amount, *gross,
                     options_.precision, obtained_at);
}

quote quote_of(std::string_view code, std::string_view spend_asset, std::string_view receive_asset,
               decimal amount, decimal gross, int precision, wall_time obtained_at) {
  quote q;
  q.provider = std::string(provider_id);
  q.direction_code = std::string(code);
  q.spend_asset = std::string(spend_asset);
  q.receive_asset = std::string(receive_asset);
  q.spend_amount = amount;
  q.fee_asset = std::string(receive_asset);
  q.model = pricing_model::indicative;
  q.obtained_at = obtained_at;
  q.receive_gross = gross;
  q.receive_net = gross.round(precision, rounding::down);
  return q;
}

task<result<leg_status>> client::submit(const leg& leg, const client_id& id) {
  const swaprouter::leg wanted = leg;
  const client_id client = id;
  if (wanted.side != amount_side::spend) {
    co_return fail(error_kind::invalid_argument, "oxapay swaps the spend amount only");
  }
  const decimal amount = wanted.amount.round(options_.precision, rounding::down);
  const wall_time before = clocks_.wall();
  const auto built = builder_.swap(wanted.spend_asset, wanted.receive_asset, amount);
  auto response = co_await call(wire::path::swap, built, call_kind::execute);
  if (!response) {
    if (response.error().kind == error_kind::unknown_outcome) {
      ambiguous_since_.emplace(client, before);
    }
    co_return std::unexpected(std::move(response.error()));
  }
  auto created = parse_swap(response->body);
  if (!created) {
    ambiguous_since_.emplace(client, before);
    co_return std::unexpected(unknown_outcome(
        fmt::format("oxapay /general/swap: unreadable answer: {}", created.error().message)));
  }
  if (created->from_currency != wanted.spend_asset ||
      created->to_currency != wanted.receive_asset || created->from_amount != amount) {
    ambiguous_since_.emplace(client, before);
    co_return std::unexpected(unknown_outcome(fmt::format(
        "oxapay /general/swap: inconsistent answer for track_id {}", excerpt(created->track_id))));
  }
  known_swaps_.insert(created->track_id);
  co_return to_leg_status(*created, client);
}

task<result<leg_status>> client::status(const leg_ref& ref) {
  const leg_ref wanted = ref;
  history_params params;
  params.track_id = wanted.provider_ref;
  const auto built = builder_.history(params);
  auto response = co_await call(wire::path::swap, built, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto page = parse_history(response->body);
  if (!page) co_return std::unexpected(std::move(page.error()));
  for (const auto& s : page->list) {
    if (s.track_id == wanted.provider_ref) co_return to_leg_status(s, wanted.client);
  }
  co_return fail(error_kind::not_found,
                 fmt::format("oxapay: no swap {} in the history", excerpt(wanted.provider_ref)));
}

task<result<std::optional<leg_status>>> client::find(const client_id& id, const leg& leg,
                                                     const held_swaps& held) {
  const client_id client = id;
  const swaprouter::leg wanted = leg;
  const held_swaps others = held;
  const decimal amount = wanted.amount.round(options_.precision, rounding::down);
  const wall_time now = clocks_.wall();
  wall_time since = now - options_.find_window;
  if (auto it = ambiguous_since_.find(client); it != ambiguous_since_.end()) {
    // Unix seconds and an unknown provider clock offset: a margin either side.
    since = it->second - std::chrono::seconds(30);
  }
  std::vector<swap> matches;
  bool read_all = false;
  for (int page_no = 1; page_no <= options_.find_max_pages && !read_all; ++page_no) {
    history_params params;
    params.from_currency = wanted.spend_asset;
    params.to_currency = wanted.receive_asset;
    params.from_date = since;
    params.to_date = now + std::chrono::minutes(5);
    params.page = page_no;
    params.size = wire::history_size_max;
    const auto built = builder_.history(params);
    auto response = co_await call(wire::path::swap, built, call_kind::read);
    if (!response) co_return std::unexpected(std::move(response.error()));
    auto page = parse_history(response->body);
    if (!page) co_return std::unexpected(std::move(page.error()));
    for (const auto& s : page->list) {
      // Filters are hints: pair, amount and time are checked here (VENUES.md Part 1 "OxaPay").
      if (s.from_currency != wanted.spend_asset || s.to_currency != wanted.receive_asset) continue;
      if (s.from_amount != amount || s.date < std::chrono::floor<std::chrono::seconds>(since)) {
        continue;
      }
      // The history also lists OxaPay's auto-conversions and the panel's manual swaps: only a
      // swapByApi one can be what our POST made (an item without a type is judged by the rest).
      if (!s.type.empty() && s.type != wire::swap_type_api) continue;
      matches.push_back(s);
    }
    read_all = page->page_no >= page->last_page;
  }
  // Pages left unread may hold the swap, or a second candidate beside the one found.
  if (!read_all) co_return std::unexpected(unread_history(provider_id, options_.find_max_pages));
  // Checked after the pages' awaits: a concurrent submit() or find() may have claimed a swap
  // meanwhile.
  // Another leg's swap is no candidate, whether this process made it or the journal gives it to
  // that leg (after a restart known_swaps_ is empty).
  std::erase_if(matches, [&](const swap& s) {
    return known_swaps_.contains(s.track_id) || (others && others(s.track_id));
  });
  if (matches.empty()) co_return std::optional<leg_status>{};
  if (matches.size() > 1) {
    co_return fail(error_kind::bad_response,
                   fmt::format("oxapay: inconsistent: {} swaps match {} {} in the window",
                               matches.size(), amount.to_string(), wanted.spend_asset));
  }
  known_swaps_.insert(matches.front().track_id);
  ambiguous_since_.erase(client);
  co_return std::optional<leg_status>(to_leg_status(matches.front(), client));
}

task<result<leg_status>> client::cancel(const leg_ref&) {
  co_return fail(error_kind::invalid_argument, "oxapay swaps are final at once");
}

task<result<std::vector<balance>>> client::balances() {
  const result<http_request> built = builder_.balance();
  auto response = co_await call(wire::path::balance, built, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  co_return parse_balances(response->body);
}

}  // namespace swaprouter::oxapay
