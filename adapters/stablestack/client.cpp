#include "adapters/stablestack/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "adapters/stablestack/wire.hpp"
#include "engine/guarded_call.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"
#include "engine/redact.hpp"

namespace swaprouter::stablestack {
namespace {

// Currency codes and ids are inserted into paths and bodies verbatim: anything outside this set
// is refused rather than escaped, so caller or provider text can never bend a path.
bool valid_token(std::string_view text, std::size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

// What POST /swaps binds a quote by (the customer is the client's own).
std::string swap_key(std::string_view from, std::string_view to, decimal amount) {
  return fmt::format("{}/{}/{}", from, to, amount.to_string());
}

std::string utc_date(wall_time t) {
  const std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(t)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

bool mentions_timeout(std::string_view text) {
  const std::string l = lower(text);
  for (std::string_view word : {"timeout", "timed out", "time out", "time-out"}) {
    if (l.find(word) != std::string::npos) return true;
  }
  return false;
}

bool is_token_code(std::string_view code) {
  namespace c = wire::error_code;
  return code == c::invalid_token || code == c::missing_token || code == c::invalid_credentials;
}

bool is_validation_code(std::string_view code) {
  namespace c = wire::error_code;
  return code == c::invalid_parameter || code == c::missing_required_field ||
         code == c::invalid_format;
}

error unknown_outcome(std::string message, bool sent = true) {
  error e = make_error(error_kind::unknown_outcome, std::move(message));
  e.may_have_reached = sent;
  return e;
}

}  // namespace

std::string amount_text(decimal amount) { return amount.to_string(); }

request_builder::request_builder(std::string api_key, std::optional<std::string> customer_id)
    : api_key_(std::move(api_key)), customer_id_(std::move(customer_id)) {
  register_secret(api_key_);
}

http_request request_builder::make(std::string_view method, std::string target,
                                   std::string body) const {
  http_request r = json_request(method, std::move(target), std::move(body));
  r.headers.emplace_back(wire::header::api_key, api_key_);
  return r;
}

result<std::string> request_builder::body(std::string_view amount_key, std::string_view from,
                                          std::string_view to, decimal amount) const {
  if (!valid_token(from, 16) || !valid_token(to, 16)) {
    return fail(error_kind::invalid_argument, "stablestack: unusable currency code");
  }
  if (!amount.is_positive()) {
    return fail(error_kind::invalid_argument, "stablestack: amount must be positive");
  }
  namespace f = wire::request_field;
  json_out j;
  j.begin_object();
  if (customer_id_) j.field(f::customer_id, *customer_id_);
  j.field(f::from_currency, from);
  j.field(f::to_currency, to);
  // Amounts are JSON strings in every documented request ("amount": "20").
  j.field(amount_key, amount_text(amount));
  j.end_object();
  return j.take();
}

result<http_request> request_builder::instant_swap(std::string_view from, std::string_view to,
                                                   decimal amount) const {
  auto b = body(wire::request_field::amount, from, to, amount);
  if (!b) return std::unexpected(std::move(b.error()));
  return make("POST", std::string(wire::path::instant_swaps), std::move(*b));
}

result<http_request> request_builder::refresh(std::string_view quote_id, std::string_view from,
                                              std::string_view to, decimal amount) const {
  if (!valid_token(quote_id, 64)) {
    return fail(error_kind::invalid_argument, "stablestack refresh: unusable quote id");
  }
  // The refresh body names the amount from_amount, unlike create (VENUES.md 2.4).
  auto b = body(wire::request_field::from_amount, from, to, amount);
  if (!b) return std::unexpected(std::move(b.error()));
  return make("POST", wire::refresh_path(quote_id), std::move(*b));
}

result<http_request> request_builder::swap(std::string_view from, std::string_view to,
                                           decimal amount) const {
  auto b = body(wire::request_field::amount, from, to, amount);
  if (!b) return std::unexpected(std::move(b.error()));
  return make("POST", std::string(wire::path::swaps), std::move(*b));
}

result<http_request> request_builder::by_ref_id(std::string_view swap_id) const {
  if (!valid_token(swap_id, 64)) {
    return fail(error_kind::invalid_argument, "stablestack by_ref_id: unusable swap id");
  }
  return make("GET", std::string(wire::path::by_ref_id) + std::string(swap_id), {});
}

result<http_request> request_builder::transactions(const list_params& params) const {
  namespace q = wire::list_query;
  if (params.limit && (*params.limit < 1 || *params.limit > wire::list_limit_max)) {
    return fail(error_kind::invalid_argument, "stablestack transactions: limit outside 1..100");
  }
  std::string target = customer_id_ ? std::string(wire::path::by_customer_id) + *customer_id_
                                    : std::string(wire::path::transactions);
  char separator = '?';
  const auto add = [&](std::string_view name, std::string_view value) {
    target += separator;
    target += name;
    target += '=';
    // Values are upper-case codes, dates and integers; the space of "INTERNAL TRANSFER" is %20.
    for (char c : value) target += c == ' ' ? std::string("%20") : std::string(1, c);
    separator = '&';
  };
  for (const auto* v :
       {&params.status, &params.transaction_type, &params.transaction_mode, &params.currency}) {
    if (*v && !valid_token(**v, 64) && **v != wire::internal_transfer) {
      return fail(error_kind::invalid_argument, "stablestack transactions: unusable filter");
    }
  }
  if (params.status) add(q::status, *params.status);
  if (params.transaction_type) add(q::transaction_type, *params.transaction_type);
  if (params.transaction_mode) add(q::transaction_mode, *params.transaction_mode);
  if (params.currency) add(q::currency, *params.currency);
  if (params.start_date) add(q::start_date, utc_date(*params.start_date));
  if (params.end_date) add(q::end_date, utc_date(*params.end_date));
  if (params.page) add(q::page, std::to_string(*params.page));
  if (params.limit) add(q::limit, std::to_string(*params.limit));
  return make("GET", std::move(target), {});
}

http_request request_builder::wallets() const {
  std::string target(wire::path::wallets);
  if (customer_id_)
    target += "?" + std::string(wire::list_query::customer_id) + "=" + *customer_id_;
  return make("GET", std::move(target), {});
}

client::client(http_client& http, std::string api_key, client_options options, client_clocks clocks)
    : http_(http),
      builder_(std::move(api_key), options.customer_id),
      options_(std::move(options)),
      clocks_(std::move(clocks)),
      circuit_(options_.circuit),
      clock_(options_.clock) {
  if (options_.customer_id && !valid_token(*options_.customer_id, 64)) {
    throw std::invalid_argument("stablestack: customer_id must be a uuid");
  }
}

venue_traits client::traits() const {
  return venue_traits{
      .firm_quotes = true, .cancel = false, .client_id = false, .exact_receive = false};
}

const direction* client::find_direction(std::string_view from, std::string_view to) const {
  for (const auto& d : options_.directions) {
    if (d.spend_asset == from && d.receive_asset == to && d.enabled) return &d;
  }
  return nullptr;
}

task<result<std::vector<direction>>> client::directions() {
  std::vector<direction> out = options_.directions;
  for (auto& d : out) {
    d.provider = std::string(provider_id);
    if (d.code.empty()) d.code = d.spend_asset + "-" + d.receive_asset;
  }
  co_return out;
}

task<result<http_response>> client::call(std::string_view endpoint,
                                         const result<http_request>& request, call_kind kind) {
  if (!request) co_return std::unexpected(request.error());
  guarded_call_spec spec;
  spec.provider = "stablestack";
  spec.endpoint = endpoint;
  spec.timeout = options_.request_timeout;
  spec.execute = kind == call_kind::execute;
  const error_body_mapper read_body = [](const http_response& response) {
    const provider_error body = parse_error_body(response.body);
    error_body_reading reading;
    reading.provider_code = body.code;
    reading.text = body.code + (body.code.empty() ? "" : " ") + body.message;
    reading.refused_before_execution = is_token_code(body.code);
    // FAULTS.md #8: on POST /swaps only a documented validation code is a rejection; a 400 that
    // says it timed out leaves the outcome unknown.
    reading.documented_rejection = is_validation_code(body.code) && !mentions_timeout(body.message);
    return reading;
  };
  const call_guard guard{&circuit_, nullptr, &clocks_.wall, &clocks_.steady};
  co_return co_await guarded_call(http_, guard, *request, spec, status_answer(spec, read_body));
}

namespace {
// How long past its expiry a quote stays refreshable.
constexpr auto expired_quotes_kept = std::chrono::minutes(10);
}  // namespace

task<result<quote>> client::quote_call(std::string_view endpoint,
                                       const result<http_request>& request, const std::string& from,
                                       const std::string& to, int precision) {
  const auto send_steady = clocks_.steady();
  const auto send_wall = clocks_.wall();
  auto response = co_await call(endpoint, request, call_kind::read);
  const auto receive_steady = clocks_.steady();
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto parsed = parse_quote(response->body);
  if (!parsed) co_return std::unexpected(std::move(parsed.error()));
  auto q = quote_of(std::move(*parsed), from, to, precision);
  if (!q) co_return std::unexpected(std::move(q.error()));
  // VENUES.md "Common": the provider clock offset from a time-bearing answer (RTT midpoint).
  static_cast<void>(clock_.add_sample(send_steady, receive_steady, send_wall, q->obtained_at));
  // Quotes long expired are no leg's any more (a leg is never sent past its quote): a poller
  // quoting every few seconds would otherwise grow the cache for the life of the process.
  std::erase_if(quotes_, [&](const auto& entry) {
    return entry.second.expires_at + expired_quotes_kept < q->obtained_at;
  });
  quotes_[q->quote_id] =
      cached_quote{from, to, q->spend_amount, precision, *q->valid_until, ++quote_seq_};
  co_return std::move(*q);
}

result<quote> quote_of(firm_quote parsed, std::string_view from, std::string_view to,
                       int receive_precision) {
  if (parsed.from_currency != from || parsed.to_currency != to) {
    return fail(
        error_kind::bad_response,
        fmt::format("stablestack: inconsistent: quote {} is for {} -> {}", excerpt(parsed.id),
                    excerpt(parsed.from_currency), excerpt(parsed.to_currency)));
  }
  quote q;
  q.provider = std::string(provider_id);
  q.direction_code = std::string(from).append("-").append(to);
  q.spend_asset = std::move(parsed.from_currency);
  q.receive_asset = std::move(parsed.to_currency);
  q.side = amount_side::spend;
  q.spend_amount = parsed.from_amount;
  // to_amount is what is credited: the spread and any fee are inside it (VENUES.md 2.4).
  q.receive_gross = parsed.to_amount;
  q.fee_asset = q.receive_asset;
  q.receive_net = parsed.to_amount.round(receive_precision, rounding::down);
  q.model = pricing_model::firm_quote;
  q.firm = true;
  q.quote_id = std::move(parsed.id);
  q.obtained_at = parsed.updated_at;
  q.valid_until = parsed.expires_at;
  return q;
}

task<result<quote>> client::price(const quote_request& request) {
  const quote_request wanted = request;
  if (wanted.side != amount_side::spend) {
    co_return fail(error_kind::invalid_argument, "stablestack quotes the spend amount only");
  }
  const direction* dir = find_direction(wanted.spend_asset, wanted.receive_asset);
  if (dir == nullptr) {
    co_return fail(error_kind::rejected, fmt::format("stablestack: no direction {} -> {}",
                                                     wanted.spend_asset, wanted.receive_asset));
  }
  const int receive_precision = dir->receive_precision;
  // VENUES.md "Common": what we spend is rounded down to the provider's precision.
  const decimal amount = wanted.amount.round(dir->spend_precision, rounding::down);
  if (!amount.is_positive() || amount < dir->min_spend ||
      (dir->max_spend && amount > *dir->max_spend)) {
    co_return fail(
        error_kind::rejected,
        fmt::format("stablestack: amount {} outside the direction's limits", amount.to_string()));
  }
  const auto built = builder_.instant_swap(wanted.spend_asset, wanted.receive_asset, amount);
  const std::string from = wanted.spend_asset;
  const std::string to = wanted.receive_asset;
  const key_gate::turn turn = co_await turns_.shared(swap_key(from, to, amount));
  co_return co_await quote_call(wire::path::instant_swaps, built, from, to, receive_precision);
}

task<result<quote>> client::refresh(const std::string& quote_id) {
  const std::string id = quote_id;
  const auto it = quotes_.find(id);
  if (it == quotes_.end()) {
    co_return fail(error_kind::invalid_argument, "stablestack refresh: quote not from price()");
  }
  const cached_quote cached = it->second;
  const key_gate::turn turn =
      co_await turns_.shared(swap_key(cached.from, cached.to, cached.amount));
  co_return co_await renew(id, cached);
}

task<result<quote>> client::renew(const std::string& quote_id, const cached_quote& cached) {
  const std::string id = quote_id;
  const cached_quote quoted = cached;
  const auto built = builder_.refresh(id, quoted.from, quoted.to, quoted.amount);
  co_return co_await quote_call(wire::route::refresh, built, quoted.from, quoted.to,
                                quoted.receive_precision);
}

task<result<leg_status>> client::submit(const leg& leg, const client_id& id) {
  const swaprouter::leg wanted = leg;
  const client_id client = id;
  if (wanted.side != amount_side::spend) {
    co_return fail(error_kind::invalid_argument, "stablestack swaps the spend amount only");
  }
  const direction* dir = find_direction(wanted.spend_asset, wanted.receive_asset);
  if (dir == nullptr) {
    co_return fail(error_kind::rejected, fmt::format("stablestack: no direction {} -> {}",
                                                     wanted.spend_asset, wanted.receive_asset));
  }
  const decimal amount = wanted.amount.round(dir->spend_precision, rounding::down);
  if (!amount.is_positive()) {
    co_return fail(error_kind::invalid_argument, "stablestack: amount rounds to nothing");
  }
  // The swap executes the latest unexpired quote for customer+pair+amount (VENUES.md Part 1):
  // one close to expiry is refreshed first so the execution lands within its life, and so is one
  // that a later quote of the same pair and amount (a poller, another intent) superseded, or the
  // swap would execute that one's price. No quote of them is asked from here to the answer.
  const key_gate::turn turn =
      co_await turns_.exclusive(swap_key(wanted.spend_asset, wanted.receive_asset, amount));
  if (auto it = quotes_.find(wanted.quote_id); it != quotes_.end()) {
    const cached_quote own = it->second;
    const bool superseded = std::any_of(quotes_.begin(), quotes_.end(), [&](const auto& other) {
      const cached_quote& q = other.second;
      return q.seq > own.seq && q.from == own.from && q.to == own.to && q.amount == own.amount;
    });
    const wall_time provider_now = clock_.provider_now(clocks_.wall());
    if (superseded || own.expires_at - provider_now < options_.refresh_margin) {
      auto renewed = co_await renew(wanted.quote_id, own);
      if (!renewed) co_return std::unexpected(std::move(renewed.error()));
      // The swap executes the refreshed price, which the engine never saw: it must still meet
      // the leg's worst acceptable net.
      if (renewed->receive_net < wanted.min_receive) {
        co_return fail(error_kind::rejected,
                       fmt::format("stablestack: refreshed quote {} nets {}, below the minimum {}",
                                   excerpt(wanted.quote_id), renewed->receive_net.to_string(),
                                   wanted.min_receive.to_string()));
      }
    }
  }
  const wall_time before = clock_.provider_now(clocks_.wall());
  const auto built = builder_.swap(wanted.spend_asset, wanted.receive_asset, amount);
  auto response = co_await call(wire::path::swaps, built, call_kind::execute);
  if (!response) {
    if (response.error().kind == error_kind::unknown_outcome) {
      ambiguous_since_.emplace(client, before);
    }
    co_return std::unexpected(std::move(response.error()));
  }
  // 2xx: a swap may exist even when the body cannot be read.
  auto created = parse_swap(response->body);
  if (!created) {
    ambiguous_since_.emplace(client, before);
    co_return std::unexpected(unknown_outcome(
        fmt::format("stablestack /swaps: unreadable answer: {}", created.error().message)));
  }
  const bool consistent = created->debit.reference_id == created->swap_id &&
                          created->credit.reference_id == created->swap_id &&
                          created->debit.transaction_mode == wire::tx_mode::debit &&
                          created->credit.transaction_mode == wire::tx_mode::credit &&
                          lower(created->debit.asset_code) == lower(wanted.spend_asset) &&
                          lower(created->credit.asset_code) == lower(wanted.receive_asset) &&
                          created->debit.amount == amount;
  if (!consistent) {
    ambiguous_since_.emplace(client, before);
    co_return std::unexpected(unknown_outcome(fmt::format(
        "stablestack /swaps: inconsistent answer for swap {}", excerpt(created->swap_id))));
  }
  known_swaps_.insert(created->swap_id);
  co_return to_leg_status(created->debit, created->credit, client);
}

task<result<leg_status>> client::status(const leg_ref& ref) {
  const leg_ref wanted = ref;
  const auto built = builder_.by_ref_id(wanted.provider_ref);
  auto response = co_await call(wire::route::by_ref_id, built, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto page = parse_transactions(response->body);
  if (!page) co_return std::unexpected(std::move(page.error()));
  auto legs = pair_legs(page->items, wanted.provider_ref);
  if (!legs) co_return std::unexpected(std::move(legs.error()));
  co_return to_leg_status(legs->debit, legs->credit, wanted.client);
}

task<result<std::optional<leg_status>>> client::find(const client_id& id, const leg& leg,
                                                     const held_swaps& held) {
  const client_id client = id;
  const swaprouter::leg wanted = leg;
  const held_swaps others = held;
  // Another leg's swap is no candidate, whether this process made it or the journal gives it
  // to that leg (after a restart known_swaps_ is empty).
  const auto claimed = [&](const std::string& ref) {
    return known_swaps_.contains(ref) || (others && others(ref));
  };
  const direction* dir = find_direction(wanted.spend_asset, wanted.receive_asset);
  const int places = dir != nullptr ? dir->spend_precision : decimal::scale;
  const decimal amount = wanted.amount.round(places, rounding::down);
  const wall_time now = clock_.provider_now(clocks_.wall());
  wall_time since = now - options_.find_window;
  if (auto it = ambiguous_since_.find(client); it != ambiguous_since_.end()) {
    // A little before the submit: the provider's clock estimate may be off by the RTT.
    since = it->second - std::chrono::seconds(5);
  }
  std::vector<transaction> matches;
  bool read_all = false;
  for (int page_no = 1; page_no <= options_.find_max_pages && !read_all; ++page_no) {
    list_params params;
    params.transaction_type = std::string(wire::internal_transfer);
    params.transaction_mode = std::string(wire::tx_mode::debit);
    params.currency = wanted.spend_asset;
    params.start_date = since;
    params.end_date = now + std::chrono::hours(1);
    params.page = page_no;
    params.limit = wire::list_limit_max;
    const auto built = builder_.transactions(params);
    auto response = co_await call(wire::path::transactions, built, call_kind::read);
    if (!response) co_return std::unexpected(std::move(response.error()));
    auto page = parse_transactions(response->body);
    if (!page) co_return std::unexpected(std::move(page.error()));
    for (const auto& t : page->items) {
      // Filters are hints: every property is checked here (VENUES.md: currency, amount, mode,
      // time window).
      if (t.transaction_mode != wire::tx_mode::debit) continue;
      // A payout or another debit of the same amount is no swap: only a swap's leg is ours.
      if (!t.transaction_type.empty() && t.transaction_type != wire::internal_transfer) continue;
      if (lower(t.asset_code) != lower(wanted.spend_asset)) continue;
      if (t.amount != amount || t.created_at < since || t.reference_id.empty()) continue;
      matches.push_back(t);
    }
    read_all = !page->total_pages || page_no >= *page->total_pages ||
               page->items.size() < static_cast<std::size_t>(wire::list_limit_max);
  }
  // Pages left unread may hold the swap, or a second candidate beside the one found.
  if (!read_all) co_return std::unexpected(unread_history(provider_id, options_.find_max_pages));
  // Checked after the pages' awaits: a concurrent submit() or find() may have claimed a swap
  // meanwhile.
  std::erase_if(matches, [&](const transaction& t) { return claimed(t.reference_id); });
  if (matches.empty()) co_return std::optional<leg_status>{};
  if (matches.size() > 1) {
    co_return fail(error_kind::bad_response,
                   fmt::format("stablestack: inconsistent: {} swaps match {} {} in the window",
                               matches.size(), amount.to_string(), wanted.spend_asset));
  }
  const leg_ref ref{matches.front().reference_id, client};
  auto found = co_await status(ref);
  if (!found) co_return std::unexpected(std::move(found.error()));
  // Claimed by a concurrent find() or submit() while the legs were read: theirs, as it would be
  // had this find() run after them.
  if (claimed(ref.provider_ref)) co_return std::optional<leg_status>{};
  if (found->direction_code != wanted.spend_asset + "-" + wanted.receive_asset) {
    co_return fail(error_kind::bad_response,
                   fmt::format("stablestack: inconsistent: swap {} is {}",
                               excerpt(ref.provider_ref), found->direction_code));
  }
  known_swaps_.insert(ref.provider_ref);
  ambiguous_since_.erase(client);
  co_return std::optional<leg_status>(std::move(*found));
}

task<result<leg_status>> client::cancel(const leg_ref&) {
  co_return fail(error_kind::invalid_argument, "stablestack swaps cannot be cancelled");
}

task<result<std::vector<balance>>> client::balances() {
  const result<http_request> built = builder_.wallets();
  auto response = co_await call(wire::path::wallets, built, call_kind::read);
  if (!response) co_return std::unexpected(std::move(response.error()));
  auto wallets = parse_wallets(response->body);
  if (!wallets) co_return std::unexpected(std::move(wallets.error()));
  std::map<std::string, decimal> by_asset;
  for (const auto& w : *wallets) {
    auto& sum = by_asset[w.currency];
    auto added = sum.checked_add(w.balance);
    if (!added) co_return std::unexpected(std::move(added.error()));
    sum = *added;
  }
  std::vector<balance> out;
  for (const auto& [asset, amount] : by_asset) out.push_back(balance{asset, amount, decimal{}});
  co_return out;
}

}  // namespace swaprouter::stablestack
