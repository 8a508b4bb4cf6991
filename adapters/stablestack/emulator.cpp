#include "adapters/stablestack/emulator.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/sim/binding.hpp"
#include "adapters/sim/emulator_config.hpp"
#include "adapters/sim/rate_window.hpp"
#include "adapters/sim/text.hpp"
#include "adapters/stablestack/wire.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::stablestack {
namespace {

using sim::sim_request;
using sim::sim_response;
using std::chrono::milliseconds;

sim_response error_response(int status, std::string_view code, std::string_view message,
                            std::string_view reason = {}) {
  namespace e = wire::envelope;
  json_out j;
  j.begin_object();
  j.field(e::status, e::failed);
  j.field(e::message, message);
  j.key(e::error);
  j.begin_object();
  j.field(e::code, code);
  j.field(e::message, message);
  j.key(e::details);
  j.begin_object();
  if (!reason.empty()) j.field("reason", reason);
  j.end_object();
  j.end_object();
  j.end_object();
  return sim_response::json(status, j.take());
}

// {"status": "success", "data": ...} with what `write_data` writes as the data.
template <class Write>
sim_response success(int status, Write write_data) {
  json_out j;
  j.begin_object();
  j.field(wire::envelope::status, wire::envelope::success);
  j.key(wire::envelope::data);
  write_data(j);
  j.end_object();
  return sim_response::json(status, j.take());
}

// Parses `body` into `doc`; false unless it is a JSON object.
bool parse_object(const std::string& body, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  return !doc.HasParseError() && doc.IsObject();
}

sim_response not_json() {
  return error_response(400, wire::error_code::invalid_format, "the body must be JSON");
}

sim_response invalid(std::string_view message, std::string_view reason = {}) {
  return error_response(400, wire::error_code::invalid_parameter, message, reason);
}

sim_response missing(std::string_view field) {
  return error_response(400, wire::error_code::missing_required_field,
                        std::string(field) + " is required");
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
  return out;
}

// customer_id is "string<uuid>" (the seed): 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// "YYYY-MM-DD" -> the UTC midnight starting that day.
std::optional<wall_time> parse_date(std::string_view text) {
  auto t = parse_iso_timestamp(std::string(text) + "T00:00:00Z");
  if (!t || text.size() != 10) return std::nullopt;
  return *t;
}

struct quote_rec {
  std::uint64_t seq = 0;
  std::string id;
  std::string scope;  // customer id; empty for the merchant
  std::string from;
  std::string to;
  decimal amount;
  decimal quoted_price;
  decimal to_amount;
  bool confirmed = false;
  wall_time expires_at{};
  wall_time created_at{};
  wall_time updated_at{};
};

struct tx_rec {
  std::uint64_t seq = 0;
  std::string id;
  std::string sender_wallet_id;
  std::string receiver_wallet_id;
  std::string transaction_id;
  std::string asset;  // upper-case code; written lower-case as the seed shows
  decimal amount;
  std::string reference_id;
  std::string status{wire::tx_status::pending};
  wall_time created_at{};
  wall_time updated_at{};
  std::string mode;
  decimal exchange_rate;
  decimal balance;
  std::string reason;
  std::string scope;
};

struct swap_rec {
  std::string id;
  std::string scope;
  std::size_t debit = 0;
  std::size_t credit = 0;
};

struct wallet_rec {
  std::string id;
  std::string currency;
  std::string network;
  std::string description;
  wall_time created_at{};
};

}  // namespace

struct emulator::impl : std::enable_shared_from_this<impl> {
  impl(sim::timer_set timers, sim::server& server, sim::market& market, sim::provider_config config,
       const sim::emulator_options& options)
      : server_(server),
        market_(market),
        config_(std::move(config)),
        offset_(config_.clock_offset),
        rng_(options.seed),
        keys_(sim::take_access_keys(config_)),
        timers_(std::move(timers)) {
    sim::check_assets(config_, market_);
    const std::vector<std::string_view> routes{
        wire::path::instant_swaps, wire::route::refresh, wire::path::swaps,
        wire::route::by_ref_id,    wire::route::by_txid, wire::route::by_customer_id,
        wire::path::transactions,  wire::path::wallets};
    sim::check_rate_limit_routes(config_, routes, wire::base_path, "not a StableStack route");
    account({});
  }

  wall_time now() const {
    return std::chrono::time_point_cast<wall_time::duration>(std::chrono::system_clock::now() +
                                                             offset_);
  }

  // --- ids, accounts, wallets --------------------------------------------------------------

  std::string uuid() {
    const std::uint64_t a = rng_();
    const std::uint64_t b = rng_();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                       a & 0xfff, 0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
  }

  std::string short_code() {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string out;
    for (int i = 0; i < 10; ++i) out += alphabet[rng_() % alphabet.size()];
    return out;
  }

  sim::ledger& account(const std::string& scope) {
    auto it = ledgers_.find(scope);
    if (it != ledgers_.end()) return it->second;
    auto& ledger = ledgers_.emplace(scope, sim::ledger([this] { return now(); })).first->second;
    for (const auto& [asset, amount] : config_.balances) {
      static_cast<void>(ledger.set(asset, amount));
      static_cast<void>(wallet(scope, asset));
    }
    return ledger;
  }

  wallet_rec& wallet(const std::string& scope, const std::string& currency) {
    auto& w = wallets_[scope + '\n' + currency];
    if (w.id.empty()) {
      w.id = uuid();
      w.currency = currency;
      w.created_at = now();
    }
    return w;
  }

  // --- registration, auth, limits -----------------------------------------------------------

  void install() {
    const sim::emulator_binding<impl> binding(
        weak_from_this(),
        error_response(503, wire::error_code::internal, "the emulator is stopped"));
    const auto bind = [&binding](auto handler) { return binding.bind(handler); };
    server_.route("POST", std::string(wire::path::instant_swaps), bind(&impl::post_quote));
    server_.route("POST", std::string(wire::route::refresh), bind(&impl::post_refresh));
    server_.route("POST", std::string(wire::path::swaps), bind(&impl::post_swap));
    server_.route("GET", std::string(wire::route::by_ref_id), bind(&impl::get_by_ref));
    server_.route("GET", std::string(wire::route::by_txid), bind(&impl::get_by_txid));
    server_.route("GET", std::string(wire::route::by_customer_id), bind(&impl::get_by_customer));
    server_.route("GET", std::string(wire::path::transactions), bind(&impl::get_transactions));
    server_.route("POST", std::string(wire::path::wallets), bind(&impl::post_wallet));
    server_.route("GET", std::string(wire::path::wallets), bind(&impl::get_wallets));
    server_.add_admin_route("GET", "/_sim/clock", bind(&impl::get_clock));
    server_.add_admin_route("PUT", "/_sim/clock", bind(&impl::put_clock));
    server_.add_admin_route("POST", "/_sim/clock", bind(&impl::put_clock));
    binding.install(server_, config_.faults);
  }

  std::optional<sim_response> before_route(const sim_request& request, std::string_view pattern) {
    std::string_view key = request.header(wire::header::api_key);
    if (key.empty()) {
      // The general auth page documents a Bearer token instead (VENUES.md 2.2).
      const std::string_view auth = request.header(wire::header::authorization);
      if (auth.starts_with("Bearer ")) key = auth.substr(7);
    }
    if (key.empty()) {
      return error_response(401, wire::error_code::missing_token, "API key is missing");
    }
    if (!keys_.contains(std::string(key))) {
      return error_response(401, wire::error_code::invalid_token, "API key is invalid");
    }
    const auto seconds = sim::take_rate_limit(limiter_, config_, pattern, wire::base_path, key);
    if (!seconds) return std::nullopt;
    sim_response res = error_response(429, wire::error_code::rate_limited, "too many requests");
    res.headers.emplace_back(std::string(wire::header::retry_after), std::to_string(*seconds));
    return res;
  }

  // --- request bodies ------------------------------------------------------------------------

  struct swap_body {
    std::string scope;
    std::string from;
    std::string to;
    decimal amount;
  };

  // Reads {customer_id?, from_currency, to_currency, <amount_key>} or the error answer.
  std::variant<swap_body, sim_response> read_swap_body(const sim_request& request,
                                                       std::string_view amount_key) {
    namespace f = wire::request_field;
    rapidjson::Document doc;
    if (!parse_object(request.body, doc)) return not_json();
    const auto text = [&](std::string_view name) -> std::optional<std::string> {
      auto it = doc.FindMember(rapidjson::StringRef(name.data(), name.size()));
      if (it == doc.MemberEnd() || it->value.IsNull() || !it->value.IsString()) return std::nullopt;
      return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    swap_body out;
    // "string<uuid> | null": null, like absent, is the merchant (seed: "omit for merchant").
    if (auto c = doc.FindMember(f::customer_id.data());
        c != doc.MemberEnd() && !c->value.IsNull()) {
      auto id = text(f::customer_id);
      if (!id || !is_uuid(*id)) return invalid("customer_id must be a uuid");
      out.scope = *id;
    }
    auto from = text(f::from_currency);
    if (!from) return missing(f::from_currency);
    auto to = text(f::to_currency);
    if (!to) return missing(f::to_currency);
    auto amount_value = text(amount_key);
    if (!amount_value) return missing(amount_key);
    auto amount = decimal::parse(*amount_value);
    if (!amount || !amount->is_positive() ||
        amount->round(wire::ledger_places, rounding::down) != *amount) {
      return invalid(std::string(amount_key) +
                     " must be a positive decimal string with at most 8 "
                     "decimal places");
    }
    out.from = *from;
    out.to = *to;
    out.amount = *amount;
    if (market_.find_asset(out.from) == nullptr) return invalid("unsupported from_currency");
    if (market_.find_asset(out.to) == nullptr) return invalid("unsupported to_currency");
    if (out.from == out.to) return invalid("from_currency and to_currency must differ");
    return out;
  }

  // --- pricing and quotes ------------------------------------------------------------------

  std::optional<sim_response> price(quote_rec& q) {
    const sim::direction_config* d = config_.find_direction(q.from + "-" + q.to);
    if (d == nullptr || !d->enabled) return invalid("the currency pair is not supported");
    if (d->min_spend && *d->min_spend && q.amount < **d->min_spend) {
      return invalid("amount is below the minimum " + (*d->min_spend)->to_string());
    }
    if (d->max_spend && *d->max_spend && q.amount > **d->max_spend) {
      return invalid("amount is above the maximum " + (*d->max_spend)->to_string());
    }
    auto mid = market_.mid_rate(q.from, q.to);
    if (!mid) return error_response(500, wire::error_code::internal, mid.error().message);
    const decimal spread = d->spread.value_or(config_.spread);
    const decimal fee = d->fee_percent.value_or(config_.fee_percent);
    const decimal hundred = decimal::from_int(100);
    auto rate = mid->mul_div(hundred - spread, hundred, rounding::down);
    if (!rate) return error_response(500, wire::error_code::internal, rate.error().message);
    q.quoted_price = sim::round_significant(*rate, sim::market::significant_digits, rounding::down);
    // to_amount is what is credited: the quoted price less the fee, rounded down (VENUES.md 2.4).
    auto gross = q.amount.mul(q.quoted_price, rounding::down);
    if (!gross) return invalid("amount is out of range");
    auto net = gross->mul_div(hundred - fee, hundred, rounding::down);
    if (!net) return invalid("amount is out of range");
    const int places = std::min(wire::ledger_places, market_.find_asset(q.to)->precision);
    q.to_amount = net->round(places, rounding::down);
    if (!q.to_amount.is_positive()) return invalid("amount is too small");
    q.updated_at = now();
    q.expires_at = q.updated_at + quote_ttl_;
    return std::nullopt;
  }

  sim_response quote_answer(const quote_rec& q, int status) {
    namespace f = wire::quote_field;
    namespace e = wire::envelope;
    return success(status, [&](json_out& j) {
      j.begin_object();
      j.field(e::status, e::success);
      j.field(e::message, "Successful");
      j.key(e::data);
      j.begin_object();
      j.field(f::id, q.id);
      j.field(f::from_currency, q.from);
      j.field(f::to_currency, q.to);
      j.field(f::quoted_price, q.quoted_price.to_string());
      j.field(f::quoted_currency, q.to);
      j.field(f::from_amount, q.amount.to_string(std::max(1, places_of(q.amount))));
      j.field(f::to_amount, q.to_amount.to_string());
      j.key(f::confirmed);
      j.boolean(q.confirmed);
      j.field(f::expires_at, q.expires_at);
      j.field(f::created_at, q.created_at);
      j.field(f::updated_at, q.updated_at);
      j.key(f::user);
      j.begin_object();
      j.field("id", q.scope.empty() ? merchant_id_ : q.scope);
      j.field("sn", "SS-" + std::to_string(q.seq));
      j.field("email", "merchant@example.invalid");
      j.key("reference");
      j.null();
      j.field("first_name", "Sim");
      j.field("last_name", "Merchant");
      j.field("display_name", "Sim Merchant");
      j.field("created_at", started_at_);
      j.field("updated_at", started_at_);
      j.end_object();
      j.end_object();
      j.end_object();
    });
  }

  static int places_of(decimal value) {
    const std::string text = value.to_string();
    const auto dot = text.find('.');
    return dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  }

  sim_response post_quote(const sim_request& request) {
    auto body = read_swap_body(request, wire::request_field::amount);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    const swap_body& b = std::get<swap_body>(body);
    quote_rec q;
    q.seq = next_seq_++;
    q.id = uuid();
    q.scope = b.scope;
    q.from = b.from;
    q.to = b.to;
    q.amount = b.amount;
    if (auto error = price(q)) return *error;
    q.created_at = q.updated_at;
    quotes_.push_back(q);
    return quote_answer(quotes_.back(), 200);
  }

  sim_response post_refresh(const sim_request& request) {
    auto body = read_swap_body(request, wire::request_field::from_amount);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    const swap_body& b = std::get<swap_body>(body);
    const std::string_view id = request.path_param("id");
    auto it = std::find_if(quotes_.begin(), quotes_.end(),
                           [&](const quote_rec& q) { return q.id == id && q.scope == b.scope; });
    if (it == quotes_.end()) {
      return error_response(404, wire::error_code::resource_not_found, "swap quote not found");
    }
    if (it->confirmed) return invalid("the quote was already executed");
    it->from = b.from;
    it->to = b.to;
    it->amount = b.amount;
    it->seq = next_seq_++;
    if (auto error = price(*it)) return *error;
    return quote_answer(*it, 200);
  }

  sim_response post_swap(const sim_request& request) {
    auto body = read_swap_body(request, wire::request_field::amount);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    const swap_body& b = std::get<swap_body>(body);
    // The latest quote for this customer, pair and amount (VENUES.md Part 1 "StableStack").
    quote_rec* latest = nullptr;
    for (auto& q : quotes_) {
      if (q.confirmed || q.scope != b.scope || q.from != b.from || q.to != b.to ||
          q.amount != b.amount) {
        continue;
      }
      if (latest == nullptr || q.seq > latest->seq) latest = &q;
    }
    const wall_time at = now();
    if (latest == nullptr) {
      return invalid("no quote for this customer, pair and amount", wire::reason::no_quote);
    }
    if (latest->expires_at <= at)
      return invalid("the quote has expired", wire::reason::quote_expired);
    sim::ledger& ledger = account(b.scope);
    if (!ledger.freeze(b.from, b.amount)) {
      return invalid("insufficient " + b.from + " balance", wire::reason::insufficient_balance);
    }
    latest->confirmed = true;
    latest->updated_at = at;

    const std::string swap_id = uuid();
    const wallet_rec& from_wallet = wallet(b.scope, b.from);
    const wallet_rec& to_wallet = wallet(b.scope, b.to);
    tx_rec debit;
    debit.seq = next_seq_++;
    debit.id = uuid();
    debit.sender_wallet_id = from_wallet.id;
    debit.receiver_wallet_id = to_wallet.id;
    debit.transaction_id = short_code();
    debit.asset = b.from;
    debit.amount = b.amount;
    debit.reference_id = swap_id;
    debit.created_at = at;
    debit.updated_at = at;
    debit.mode = std::string(wire::tx_mode::debit);
    debit.exchange_rate = latest->quoted_price;
    debit.balance = ledger.balance(b.from).available;
    debit.scope = b.scope;
    tx_rec credit = debit;
    credit.seq = next_seq_++;
    credit.id = uuid();
    credit.transaction_id = short_code();
    credit.asset = b.to;
    credit.amount = latest->to_amount;
    credit.mode = std::string(wire::tx_mode::credit);
    credit.balance = ledger.balance(b.to).available + latest->to_amount;
    txs_.push_back(std::move(debit));
    txs_.push_back(std::move(credit));
    swaps_.push_back(swap_rec{swap_id, b.scope, txs_.size() - 2, txs_.size() - 1});
    const std::size_t index = swaps_.size() - 1;
    timers_.schedule(config_.fill_delay,
                     [self = shared_from_this(), index] { self->settle(index); });

    namespace e = wire::envelope;
    json_out j;
    j.begin_object();
    j.field(e::status, e::success);
    j.key(e::data);
    j.begin_object();
    j.key(wire::swap_field::debit);
    write_tx(j, txs_[swaps_[index].debit], false);
    j.key(wire::swap_field::credit);
    write_tx(j, txs_[swaps_[index].credit], false);
    j.field(wire::swap_field::swap_id, swap_id);
    j.end_object();
    j.field(e::message, "Swap transaction successful");
    j.end_object();
    return sim_response::json(200, j.take());
  }

  void settle(std::size_t index) {
    const swap_rec& s = swaps_[index];
    tx_rec& debit = txs_[s.debit];
    tx_rec& credit = txs_[s.credit];
    if (debit.status != wire::tx_status::pending) return;
    sim::ledger& ledger = account(s.scope);
    const wall_time at = now();
    bool failed = false;
    if (config_.failure_rate > 0.0) {
      constexpr double two_to_minus_53 = 1.0 / 9007199254740992.0;
      failed = static_cast<double>(rng_() >> 11) * two_to_minus_53 < config_.failure_rate;
    }
    if (!failed) {
      failed = !ledger.debit_frozen(debit.asset, debit.amount) ||
               !ledger.credit(credit.asset, credit.amount);
    }
    if (failed) {
      static_cast<void>(ledger.unfreeze(debit.asset, debit.amount));
      debit.status = std::string(wire::tx_status::reversed);
      credit.status = std::string(wire::tx_status::failed);
      debit.reason = "swap failed at the provider (simulated); debit reversed";
      credit.reason = "swap failed at the provider (simulated)";
    } else {
      debit.status = std::string(wire::tx_status::completed);
      credit.status = std::string(wire::tx_status::completed);
    }
    debit.balance = ledger.balance(debit.asset).available;
    credit.balance = ledger.balance(credit.asset).available;
    debit.updated_at = at;
    credit.updated_at = at;
  }

  // --- transactions --------------------------------------------------------------------------

  void write_tx(json_out& j, const tx_rec& t, bool listing) const {
    namespace f = wire::tx_field;
    j.begin_object();
    j.field(f::id, t.id);
    j.field(f::sender_wallet_id, t.sender_wallet_id);
    j.field(f::receiver_wallet_id, t.receiver_wallet_id);
    j.field(f::transaction_id, t.transaction_id);
    j.field(f::asset_code, lower(t.asset));
    j.field(f::amount, t.amount.to_string(wire::ledger_places, rounding::down));
    j.field(f::reference_id, t.reference_id);
    j.field(f::status, t.status);
    j.field(f::created_at, t.created_at);
    j.field(f::updated_at, t.updated_at);
    j.key(f::network);
    j.null();
    j.key(f::crypto_transaction_id);
    j.null();
    j.field(f::transaction_type, wire::internal_transfer);
    j.field(f::transaction_mode, t.mode);
    j.field(f::exchange_rate, t.exchange_rate.to_string());
    j.key(f::fee);
    j.null();
    j.key(f::withdrawal_recipient_name);
    j.null();
    j.field(f::balance, t.balance.to_string(wire::ledger_places, rounding::down));
    j.key(f::reason);
    j.str_or_null(t.reason);
    j.key(f::customer_id);
    j.str_or_null(t.scope);
    if (listing) {
      for (std::string_view k : {f::recipient_currency, f::recipient_country, f::bank_name,
                                 f::bank_code, f::address, f::bank_account}) {
        j.key(k);
        j.null();
      }
      j.field(f::merchant_id, merchant_id_);
    }
    j.end_object();
  }

  sim_response tx_list(const std::vector<const tx_rec*>& items,
                       std::optional<std::pair<std::int64_t, std::int64_t>> paging,
                       std::size_t total) const {
    namespace e = wire::envelope;
    json_out j;
    j.begin_object();
    j.field(e::status, e::success);
    j.key(e::data);
    j.begin_array();
    for (const auto* t : items) write_tx(j, *t, true);
    j.end_array();
    if (paging) {
      namespace p = wire::pagination_field;
      j.key(e::pagination);
      j.begin_object();
      j.key(p::total);
      j.integer(static_cast<std::int64_t>(total));
      j.key(p::page);
      j.integer(paging->first);
      j.key(p::limit);
      j.integer(paging->second);
      j.key(p::total_pages);
      j.integer((static_cast<std::int64_t>(total) + paging->second - 1) / paging->second);
      j.end_object();
    }
    j.end_object();
    return sim_response::json(200, j.take());
  }

  sim_response get_by_ref(const sim_request& request) {
    const std::string_view id = request.path_param("id");
    std::vector<const tx_rec*> items;
    for (const auto& t : txs_) {
      if (t.reference_id == id) items.push_back(&t);
    }
    return tx_list(items, std::nullopt, items.size());
  }

  sim_response get_by_txid(const sim_request& request) {
    const std::string_view id = request.path_param("id");
    // The document's example passes the uuid id although the name says transaction_id: both.
    for (const auto& t : txs_) {
      if (t.transaction_id == id || t.id == id) {
        return success(200, [&](json_out& j) { write_tx(j, t, true); });
      }
    }
    return error_response(404, wire::error_code::resource_not_found, "transaction not found");
  }

  sim_response list_scope(const sim_request& request, const std::string& scope) {
    namespace q = wire::list_query;
    std::optional<wall_time> start;
    std::optional<wall_time> end;
    if (auto v = request.query_param(q::start_date)) {
      start = parse_date(*v);
      if (!start) return invalid("start_date must be YYYY-MM-DD");
    }
    if (auto v = request.query_param(q::end_date)) {
      end = parse_date(*v);
      if (!end) return invalid("end_date must be YYYY-MM-DD");
      *end += std::chrono::hours(24);
    }
    std::int64_t page = 1;
    std::int64_t limit = wire::list_limit_default;
    if (auto v = request.query_param(q::page)) {
      auto n = sim::parse_int(*v);
      if (!n || *n < 1) return invalid("page must be a positive integer");
      page = *n;
    }
    if (auto v = request.query_param(q::limit)) {
      auto n = sim::parse_int(*v);
      if (!n || *n < 1 || *n > wire::list_limit_max) return invalid("limit must be 1 to 100");
      limit = *n;
    }
    const auto status = request.query_param(q::status);
    const auto type = request.query_param(q::transaction_type);
    const auto mode = request.query_param(q::transaction_mode);
    const auto currency = request.query_param(q::currency);
    const auto search = request.query_param(q::search);
    std::vector<const tx_rec*> matching;
    for (const auto& t : txs_) {
      if (t.scope != scope) continue;
      if (status && t.status != *status) continue;
      if (type && *type != wire::internal_transfer) continue;
      if (mode && t.mode != *mode) continue;
      if (currency && upper(*currency) != t.asset) continue;
      if (start && t.created_at < *start) continue;
      if (end && t.created_at >= *end) continue;
      if (search && !search->empty() && t.id.find(*search) == std::string::npos &&
          t.transaction_id.find(*search) == std::string::npos &&
          t.reference_id.find(*search) == std::string::npos) {
        continue;
      }
      matching.push_back(&t);
    }
    std::stable_sort(matching.begin(), matching.end(),
                     [](const tx_rec* a, const tx_rec* b) { return a->seq > b->seq; });
    std::vector<const tx_rec*> items;
    const auto first = static_cast<std::size_t>((page - 1) * limit);
    for (std::size_t i = first; i < matching.size() && i < first + static_cast<std::size_t>(limit);
         ++i) {
      items.push_back(matching[i]);
    }
    return tx_list(items, std::pair{page, limit}, matching.size());
  }

  sim_response get_by_customer(const sim_request& request) {
    const std::string customer(request.path_param("id"));
    if (!is_uuid(customer)) return invalid("customer_id must be a uuid");
    return list_scope(request, customer);
  }

  sim_response get_transactions(const sim_request& request) { return list_scope(request, {}); }

  // --- wallets -------------------------------------------------------------------------------

  void write_wallet(json_out& j, const std::string& scope, const wallet_rec& w) {
    namespace f = wire::wallet_field;
    const sim::asset_info* asset = market_.find_asset(w.currency);
    const sim::ledger_entry e = account(scope).balance(w.currency);
    j.begin_object();
    j.field(f::id, w.id);
    j.field(f::asset_type, asset != nullptr && asset->is_fiat ? "FIAT" : "STABLECOIN");
    j.field(f::currency, w.currency);
    j.field(f::balance, e.available.to_string(wire::ledger_places, rounding::down));
    j.key(f::description);
    j.str_or_null(w.description);
    j.field(f::status, "active");
    j.field(f::created_at, w.created_at);
    j.field(f::updated_at, std::max(w.created_at, e.updated_at));
    j.key(f::customer_id);
    j.str_or_null(scope);
    j.key(f::addresses);
    j.begin_array();
    j.end_array();
    j.end_object();
  }

  sim_response post_wallet(const sim_request& request) {
    namespace f = wire::request_field;
    rapidjson::Document doc;
    if (!parse_object(request.body, doc)) return not_json();
    auto currency = doc.FindMember(f::currency.data());
    if (currency == doc.MemberEnd() || !currency->value.IsString()) return missing(f::currency);
    const std::string code(currency->value.GetString(), currency->value.GetStringLength());
    if (market_.find_asset(code) == nullptr) return invalid("unsupported currency");
    std::string scope;
    if (auto c = doc.FindMember(f::customer_id.data());
        c != doc.MemberEnd() && c->value.IsString()) {
      scope.assign(c->value.GetString(), c->value.GetStringLength());
      if (!is_uuid(scope)) return invalid("customer_id must be a uuid");
    }
    account(scope);
    wallet_rec& w = wallet(scope, code);
    if (auto d = doc.FindMember(f::description.data());
        d != doc.MemberEnd() && d->value.IsString()) {
      w.description.assign(d->value.GetString(), d->value.GetStringLength());
    }
    return success(201, [&](json_out& j) { write_wallet(j, scope, w); });
  }

  sim_response get_wallets(const sim_request& request) {
    const std::string scope(request.query_param(wire::list_query::customer_id).value_or(""));
    if (!scope.empty() && !is_uuid(scope)) return invalid("customer_id must be a uuid");
    sim::ledger& ledger = account(scope);
    for (const auto& e : ledger.entries()) wallet(scope, e.asset);
    const std::string prefix = scope + '\n';
    return success(200, [&](json_out& j) {
      j.begin_array();
      for (auto& [key, w] : wallets_) {
        if (key.starts_with(prefix)) write_wallet(j, scope, w);
      }
      j.end_array();
    });
  }

  // --- admin ---------------------------------------------------------------------------------

  sim_response get_clock(const sim_request&) {
    json_out j;
    j.begin_object();
    j.key("offset_ms");
    j.integer(offset_.count());
    j.field("now", now());
    j.end_object();
    return sim_response::json(200, j.take());
  }

  sim_response put_clock(const sim_request& request) {
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("offset_ms") ||
        !doc["offset_ms"].IsInt64()) {
      return invalid(R"(expected {"offset_ms": <integer milliseconds>})");
    }
    offset_ = milliseconds(doc["offset_ms"].GetInt64());
    return get_clock(request);
  }

  std::string ledger_json() {
    json_out j;
    j.begin_object();
    j.field("provider", config_.name);
    j.field("now", now());
    j.key("accounts");
    j.begin_object();
    for (const auto& [scope, ledger] : ledgers_) {
      j.key(scope.empty() ? "merchant" : scope);
      j.begin_object();
      for (const auto& e : ledger.entries()) {
        j.key(e.asset);
        j.begin_object();
        j.field("available", e.available.to_string());
        j.field("frozen", e.frozen.to_string());
        j.end_object();
      }
      j.end_object();
    }
    j.end_object();
    j.key("swaps");
    j.begin_array();
    for (const auto& s : swaps_) {
      j.begin_object();
      j.field("swapId", s.id);
      j.key("debitTransaction");
      write_tx(j, txs_[s.debit], true);
      j.key("creditTransaction");
      write_tx(j, txs_[s.credit], true);
      j.end_object();
    }
    j.end_array();
    j.end_object();
    return j.take();
  }

  sim::server& server_;
  sim::market& market_;
  sim::provider_config config_;
  milliseconds offset_;
  milliseconds quote_ttl_ = wire::default_quote_ttl;
  std::mt19937_64 rng_;
  std::set<std::string, std::less<>> keys_;
  sim::sliding_window_limiter limiter_;
  std::map<std::string, sim::ledger> ledgers_;
  std::map<std::string, wallet_rec> wallets_;
  std::vector<quote_rec> quotes_;
  std::vector<tx_rec> txs_;
  std::vector<swap_rec> swaps_;
  std::string merchant_id_ = "3f1c0a52-8d7e-4b1a-9c55-2a6e4d0b7f10";
  wall_time started_at_ = now();
  std::uint64_t next_seq_ = 1;
  sim::timer_set timers_;
};

emulator::emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
                   sim::provider_config config, sim::emulator_options options)
    : provider_emulator(wire::base_path, sim::timer_set(std::move(executor))),
      impl_(std::make_shared<impl>(timers(), server, market, std::move(config), options)) {
  impl_->install();
}

wall_time emulator::now() const { return impl_->now(); }

void emulator::set_clock_offset(std::chrono::milliseconds offset) { impl_->offset_ = offset; }

void emulator::set_quote_ttl(std::chrono::milliseconds ttl) { impl_->quote_ttl_ = ttl; }

sim::ledger& emulator::account(const std::string& customer_id) {
  return impl_->account(customer_id);
}

std::size_t emulator::swap_count() const { return impl_->swaps_.size(); }

std::string emulator::ledger_json() const { return impl_->ledger_json(); }

}  // namespace swaprouter::stablestack
