#include "adapters/oxapay/emulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/oxapay/wire.hpp"
#include "adapters/sim/binding.hpp"
#include "adapters/sim/emulator_config.hpp"
#include "adapters/sim/rate_window.hpp"
#include "adapters/sim/text.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::oxapay {
namespace {

using sim::sim_request;
using sim::sim_response;

// The envelope around `data_json` (an object's JSON text; "{}" for errors).
sim_response envelope(int status, std::string_view message, std::string_view data_json,
                      std::string_view type = {}, std::string_view key = {},
                      std::string_view error_message = {}) {
  namespace e = wire::envelope;
  json_out j;
  j.begin_object();
  j.key(e::data);
  j.raw_object(data_json);
  j.field(e::message, message);
  j.key(e::error);
  j.begin_object();
  if (!type.empty()) {
    j.field(e::type, type);
    j.field(e::key, key);
    j.field(e::message, error_message);
  }
  j.end_object();
  j.key(e::status);
  j.integer(status);
  j.field(e::version, wire::api_version);
  j.end_object();
  return sim_response::json(status, j.take());
}

sim_response failure(int status, std::string_view type, std::string_view key,
                     std::string_view message) {
  return envelope(status, message, "{}", type, key, message);
}

sim_response invalid(std::string_view key, std::string_view message) {
  return failure(400, wire::error_type::validation, key, message);
}

std::int64_t unix_seconds(wall_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct swap_rec {
  std::uint64_t seq = 0;
  std::string track_id;
  std::string from;
  std::string to;
  decimal from_amount;
  decimal to_amount;
  decimal rate;
  std::int64_t date = 0;
};

}  // namespace

struct emulator::impl : std::enable_shared_from_this<impl> {
  impl(sim::timer_set timers, sim::server& server, sim::market& market, sim::provider_config config,
       emulator_settings settings)
      : server_(server),
        market_(market),
        config_(std::move(config)),
        settings_(settings),
        keys_(sim::take_access_keys(config_)),
        timers_(std::move(timers)) {
    sim::check_assets(config_, market_);
    sim::set_balances(ledger_, config_);
    sim::check_rate_limit_routes(config_, routes(), wire::base_path, "not an OxaPay route");
  }

  static const std::vector<std::string_view>& routes() {
    static const std::vector<std::string_view> r{wire::path::swap, wire::path::rate,
                                                 wire::path::calculate, wire::path::pairs,
                                                 wire::path::balance};
    return r;
  }

  void install() {
    const sim::emulator_binding<impl> binding(
        weak_from_this(), failure(503, wire::error_type::internal, "", "the emulator is stopped"));
    const auto bind = [&binding](auto handler) { return binding.bind(handler); };
    server_.route("POST", std::string(wire::path::swap), bind(&impl::post_swap));
    server_.route("GET", std::string(wire::path::swap), bind(&impl::get_history));
    server_.route("POST", std::string(wire::path::rate), bind(&impl::post_rate));
    server_.route("POST", std::string(wire::path::calculate), bind(&impl::post_calculate));
    server_.route("GET", std::string(wire::path::pairs), bind(&impl::get_pairs));
    server_.route("GET", std::string(wire::path::balance), bind(&impl::get_balance));
    binding.install(server_, config_.faults);
  }

  std::optional<sim_response> before_route(const sim_request& request, std::string_view pattern) {
    const std::string key(request.header(wire::header::api_key));
    if (key.empty() || !keys_.contains(key)) {
      return failure(401, wire::error_type::authentication, wire::header::api_key,
                     "Invalid or missing general API key");
    }
    const auto seconds = sim::take_rate_limit(limiter_, config_, pattern, wire::base_path, key);
    if (!seconds) return std::nullopt;
    sim_response res = failure(429, wire::error_type::rate_limit, "", "Too many requests");
    res.headers.emplace_back(std::string(wire::header::retry_after), std::to_string(*seconds));
    return res;
  }

  struct pair_body {
    const sim::direction_config* direction = nullptr;
    decimal amount;
  };

  // Reads {amount?, from_currency, to_currency}; amounts are JSON numbers (strings accepted).
  std::variant<pair_body, sim_response> read_body(const sim_request& request, bool with_amount) {
    namespace f = wire::request_field;
    auto root = parse_json_text(request.body, "body");
    if (!root || root->type != json_value::kind::object) {
      return invalid("body", "The body must be a JSON object.");
    }
    const auto text = [&](std::string_view name) -> std::optional<std::string> {
      const json_value* v = root->member(name);
      if (v == nullptr || v->type != json_value::kind::string) return std::nullopt;
      return std::string(v->text);
    };
    auto from = text(f::from_currency);
    if (!from) return invalid(f::from_currency, "The from currency field is required.");
    auto to = text(f::to_currency);
    if (!to) return invalid(f::to_currency, "The to currency field is required.");
    if (market_.find_asset(*from) == nullptr) {
      return failure(400, wire::error_type::business, f::from_currency,
                     wire::error_text::invalid_from);
    }
    if (market_.find_asset(*to) == nullptr) {
      return failure(400, wire::error_type::business, f::to_currency, wire::error_text::invalid_to);
    }
    if (*from == *to) {
      return failure(400, wire::error_type::business, f::to_currency,
                     wire::error_text::same_currency);
    }
    pair_body out;
    out.direction = config_.find_direction(*from + "-" + *to);
    if (out.direction == nullptr || !out.direction->enabled) {
      return failure(400, wire::error_type::business, f::to_currency,
                     "This swap pair is not supported.");
    }
    if (with_amount) {
      const json_value* v = root->member(f::amount);
      if (v == nullptr) return invalid(f::amount, "The amount field is required.");
      auto amount = v->type == json_value::kind::number || v->type == json_value::kind::string
                        ? decimal::parse(v->text)
                        : fail(error_kind::invalid_argument, "type");
      if (!amount || !amount->is_positive()) {
        return invalid(f::amount, "The amount must be a positive number.");
      }
      out.amount = *amount;
    }
    return out;
  }

  // Units of to per 1 from: the mid rate less the spread and the fee (the fee is inside it).
  result<decimal> rate_of(const sim::direction_config& d) const {
    auto mid = market_.mid_rate(d.spend, d.receive);
    if (!mid) return mid;
    const decimal hundred = decimal::from_int(100);
    const decimal keep =
        hundred - d.spread.value_or(config_.spread) - d.fee_percent.value_or(config_.fee_percent);
    auto rate = mid->mul_div(keep, hundred, rounding::down);
    if (!rate) return rate;
    return sim::round_significant(*rate, sim::market::significant_digits, rounding::down);
  }

  // Every place the amount has, and at least the currency's (100.000000, as the API shows it).
  std::string shown(const decimal& amount, std::string_view asset) const {
    const int least = std::max(places(asset), 1);
    return amount.round(least, rounding::down) == amount ? amount.to_string(least)
                                                         : amount.to_string();
  }

  int places(std::string_view asset) const {
    const sim::asset_info* a = market_.find_asset(asset);
    return a == nullptr ? 8 : a->precision;
  }

  result<decimal> min_amount(const sim::direction_config& d) const {
    if (d.min_spend) return d.min_spend->value_or(decimal{});
    auto usd = market_.mid_usd(d.spend);
    if (!usd) return usd;
    auto min = config_.min_spend_usd.div(*usd, rounding::up);
    if (!min) return min;
    return min->checked_round(places(d.spend), rounding::up);
  }

  sim_response post_rate(const sim_request& request) {
    auto body = read_body(request, false);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    auto rate = rate_of(*std::get<pair_body>(body).direction);
    if (!rate) return failure(500, wire::error_type::internal, "", rate.error().message);
    json_out j;
    j.begin_object();
    j.key(wire::calculate_field::rate);
    j.raw_number(rate->to_string());
    j.end_object();
    return envelope(200, "Operation completed successfully!", j.take());
  }

  sim_response post_calculate(const sim_request& request) {
    auto body = read_body(request, true);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    const pair_body& b = std::get<pair_body>(body);
    auto rate = rate_of(*b.direction);
    if (!rate) return failure(500, wire::error_type::internal, "", rate.error().message);
    auto to = b.amount.mul(*rate, rounding::down);
    if (!to) return invalid(wire::request_field::amount, "The amount is out of range.");
    json_out j;
    j.begin_object();
    j.key(wire::calculate_field::to_amount);
    j.raw_number(to->round(places(b.direction->receive), rounding::down).to_string());
    j.key(wire::calculate_field::rate);
    j.raw_number(rate->to_string());
    j.key(wire::calculate_field::amount);
    j.raw_number(b.amount.to_string());
    j.end_object();
    return envelope(200, "Operation completed successfully!", j.take());
  }

  void write_swap(json_out& j, const swap_rec& s, bool history) const {
    namespace f = wire::swap_field;
    j.begin_object();
    j.field(f::track_id, s.track_id);
    j.field(f::from_currency, s.from);
    j.field(f::to_currency, s.to);
    j.key(f::from_amount);
    j.raw_number(shown(s.from_amount, s.from));
    j.key(f::to_amount);
    j.raw_number(shown(s.to_amount, s.to));
    j.key(f::rate);
    j.raw_number(s.rate.to_string());
    j.key(f::date);
    j.integer(s.date);
    if (history) j.field(f::type, wire::swap_type_api);
    j.end_object();
  }

  sim_response post_swap(const sim_request& request) {
    auto body = read_body(request, true);
    if (auto* error = std::get_if<sim_response>(&body)) return *error;
    const pair_body& b = std::get<pair_body>(body);
    const sim::direction_config& d = *b.direction;
    if (b.amount.round(wire::amount_places, rounding::down) != b.amount) {
      return invalid(wire::request_field::amount, "The amount has too many decimal places.");
    }
    auto min = min_amount(d);
    if (!min) return failure(500, wire::error_type::internal, "", min.error().message);
    if (b.amount < *min) {
      return failure(400, wire::error_type::business, wire::request_field::amount,
                     std::string(wire::error_text::below_minimum) + " (" + min->to_string() + ")");
    }
    if (d.max_spend && *d.max_spend && b.amount > **d.max_spend) {
      return failure(400, wire::error_type::business, wire::request_field::amount,
                     "Amount is above the maximum");
    }
    auto rate = rate_of(d);
    if (!rate) return failure(500, wire::error_type::internal, "", rate.error().message);
    auto to = b.amount.mul(*rate, rounding::down);
    if (!to) return invalid(wire::request_field::amount, "The amount is out of range.");
    swap_rec s;
    s.seq = next_seq_++;
    s.track_id = std::to_string(393831000 + s.seq);
    s.from = d.spend;
    s.to = d.receive;
    s.from_amount = b.amount;
    s.to_amount = to->round(places(d.receive), rounding::down);
    s.rate = *rate;
    s.date = unix_seconds(std::chrono::system_clock::now() + config_.clock_offset);
    if (!ledger_.debit(s.from, s.from_amount)) {
      return failure(400, wire::error_type::business, wire::request_field::amount,
                     wire::error_text::insufficient_balance);
    }
    static_cast<void>(ledger_.credit(s.to, s.to_amount));
    swaps_.push_back(s);
    json_out j;
    write_swap(j, swaps_.back(), false);
    return envelope(200, "Operation completed successfully!", j.take());
  }

  sim_response get_history(const sim_request& request) {
    namespace q = wire::history_query;
    std::optional<std::int64_t> from_date;
    std::optional<std::int64_t> to_date;
    std::int64_t page = 1;
    std::int64_t size = wire::history_size_default;
    for (auto [name, target] :
         {std::pair{q::from_date, &from_date}, std::pair{q::to_date, &to_date}}) {
      if (auto v = request.query_param(name)) {
        *target = sim::parse_int(*v);
        if (!*target) return invalid(name, "The " + std::string(name) + " must be an integer.");
      }
    }
    if (auto v = request.query_param(q::page)) {
      auto n = sim::parse_int(*v);
      if (!n || *n < 1) return invalid(q::page, "The page must be at least 1.");
      page = *n;
    }
    if (auto v = request.query_param(q::size)) {
      auto n = sim::parse_int(*v);
      if (!n || *n < 1 || *n > wire::history_size_max) {
        return invalid(q::size, "The size must be between 1 and 200.");
      }
      size = *n;
    }
    const auto sort_by = request.query_param(q::sort_by).value_or("create_date");
    const auto sort_type = request.query_param(q::sort_type).value_or("desc");
    if (sort_by != "create_date" && sort_by != "amount") {
      return invalid(q::sort_by, "The selected sort by is invalid.");
    }
    if (sort_type != "asc" && sort_type != "desc") {
      return invalid(q::sort_type, "The selected sort type is invalid.");
    }
    const auto type = request.query_param(q::type);
    if (type && *type != wire::swap_type_api && *type != wire::swap_type_auto_convert &&
        *type != wire::swap_type_manual) {
      return invalid(q::type, "The selected type is invalid.");
    }
    const auto track_id = request.query_param(q::track_id);
    const auto from = request.query_param(q::from_currency);
    const auto to = request.query_param(q::to_currency);
    std::vector<const swap_rec*> matching;
    for (const auto& s : swaps_) {
      if (track_id && s.track_id != *track_id) continue;
      if (type && *type != wire::swap_type_api) continue;
      if (from && s.from != *from) continue;
      if (to && s.to != *to) continue;
      if (from_date && s.date < *from_date) continue;
      if (to_date && s.date > *to_date) continue;
      matching.push_back(&s);
    }
    const bool ascending = sort_type == "asc";
    const bool by_amount = sort_by == "amount";
    std::stable_sort(matching.begin(), matching.end(), [&](const swap_rec* a, const swap_rec* b) {
      const bool less = by_amount ? a->from_amount < b->from_amount : a->seq < b->seq;
      const bool greater = by_amount ? b->from_amount < a->from_amount : b->seq < a->seq;
      return ascending ? less : greater;
    });
    const std::int64_t total = static_cast<std::int64_t>(matching.size());
    const std::int64_t last_page = std::max<std::int64_t>(1, (total + size - 1) / size);
    json_out j;
    j.begin_object();
    j.key(wire::list_field::list);
    j.begin_array();
    // A page past the last lists nothing (and `page * size` could overflow there).
    const std::int64_t first = page <= last_page ? (page - 1) * size : total;
    for (std::int64_t i = first; i < total && i < first + size; ++i) {
      write_swap(j, *matching[static_cast<std::size_t>(i)], true);
    }
    j.end_array();
    write_meta(j, page, last_page, total);
    j.end_object();
    return envelope(200, "Operation completed successfully!", j.take());
  }

  static void write_meta(json_out& j, std::int64_t page, std::int64_t last, std::int64_t total) {
    j.key(wire::list_field::meta);
    j.begin_object();
    j.key(wire::list_field::page);
    j.integer(page);
    j.key(wire::list_field::last_page);
    j.integer(last);
    j.key(wire::list_field::total);
    j.integer(total);
    j.end_object();
  }

  sim_response get_pairs(const sim_request& request) {
    std::int64_t page = 1;
    if (auto v = request.query_param(wire::list_field::page)) {
      auto n = sim::parse_int(*v);
      if (!n || *n < 1) return invalid(wire::list_field::page, "The page must be at least 1.");
      page = *n;
    }
    std::vector<std::pair<const sim::direction_config*, decimal>> listed;
    for (const auto& d : config_.directions) {
      if (!d.enabled) continue;
      if (auto min = min_amount(d)) listed.emplace_back(&d, *min);
    }
    const auto total = static_cast<std::int64_t>(listed.size());
    const std::int64_t size = settings_.pairs_page_size > 0 ? settings_.pairs_page_size
                                                            : std::max<std::int64_t>(1, total);
    json_out j;
    j.begin_object();
    j.key(wire::list_field::list);
    j.begin_array();
    for (std::int64_t i = (page - 1) * size; i < total && i < page * size; ++i) {
      const auto& [d, min] = listed[static_cast<std::size_t>(i)];
      j.begin_object();
      j.field(wire::pair_field::from_currency, d->spend);
      j.field(wire::pair_field::to_currency, d->receive);
      j.key(wire::pair_field::min_amount);
      j.raw_number(min.to_string());
      j.end_object();
    }
    j.end_array();
    write_meta(j, page, std::max<std::int64_t>(1, (total + size - 1) / size), total);
    j.end_object();
    return envelope(200, "Operation completed successfully!", j.take());
  }

  sim_response get_balance(const sim_request& request) {
    const auto only = request.query_param("currency");
    if (only && !only->empty() && market_.find_asset(*only) == nullptr) {
      return invalid("currency", "The selected currency is invalid.");
    }
    json_out j;
    j.begin_object();
    for (const auto& code : market_.asset_codes()) {
      if (only && !only->empty() && code != *only) continue;
      j.key(code);
      j.raw_number(ledger_.balance(code).available.to_string());
    }
    j.end_object();
    return envelope(200, "Operation completed successfully!", j.take());
  }

  std::string ledger_json() const {
    json_out j;
    j.begin_object();
    j.field("provider", config_.name);
    j.key("balances");
    j.begin_object();
    for (const auto& e : ledger_.entries()) {
      j.key(e.asset);
      j.str(e.available.to_string());
    }
    j.end_object();
    j.key("swaps");
    j.begin_array();
    for (const auto& s : swaps_) write_swap(j, s, true);
    j.end_array();
    j.end_object();
    return j.take();
  }

  sim::server& server_;
  sim::market& market_;
  sim::provider_config config_;
  emulator_settings settings_;
  sim::ledger ledger_;
  std::set<std::string, std::less<>> keys_;
  sim::sliding_window_limiter limiter_;
  std::vector<swap_rec> swaps_;
  std::uint64_t next_seq_ = 1;
  // Stopped with the emulator; OxaPay swaps execute at once, so nothing is ever scheduled.
  sim::timer_set timers_;
};

emulator_settings settings_for(const sim::provider_config& config) {
  emulator_settings out;
  if (config.oxapay.pairs_page_size) out.pairs_page_size = *config.oxapay.pairs_page_size;
  return out;
}

emulator::emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
                   sim::provider_config config, sim::emulator_options, emulator_settings settings)
    : provider_emulator(wire::base_path, sim::timer_set(std::move(executor))),
      impl_(std::make_shared<impl>(timers(), server, market, std::move(config), settings)) {
  impl_->install();
}

sim::ledger& emulator::account() { return impl_->ledger_; }

std::size_t emulator::swap_count() const { return impl_->swaps_.size(); }

std::string emulator::ledger_json() const { return impl_->ledger_json(); }

}  // namespace swaprouter::oxapay
