#include "engine/quote_book.hpp"

#include <algorithm>
#include <utility>

namespace swaprouter {
namespace {

std::string pair_key(std::string_view spend, std::string_view receive) {
  std::string key;
  key.reserve(spend.size() + receive.size() + 1);
  key += spend;
  key += '\n';
  key += receive;
  return key;
}

}  // namespace

quote_book::quote_book(quote_book_options options) : options_(options) {}

quote_book::provider_data& quote_book::data(std::string_view provider) {
  auto it = providers_.find(provider);
  if (it == providers_.end()) it = providers_.try_emplace(std::string(provider)).first;
  return it->second;
}

const quote_book::provider_data* quote_book::find(std::string_view provider) const {
  const auto it = providers_.find(provider);
  return it == providers_.end() ? nullptr : &it->second;
}

void quote_book::set_directions(std::string_view provider, std::vector<direction> directions,
                                wall_time now) {
  // The prepared market holds the prices of the directions listed before.
  prepared_.reset();
  provider_data& d = data(provider);
  d.directions = std::move(directions);
  d.directions_at = now;
  d.enabled.clear();
  for (const direction& one : d.directions) {
    if (one.enabled) d.enabled.insert(pair_key(one.spend_asset, one.receive_asset));
  }
}

const std::vector<direction>* quote_book::directions(std::string_view provider) const {
  const provider_data* d = find(provider);
  return d && d->directions_at ? &d->directions : nullptr;
}

const std::vector<direction>* quote_book::fresh_directions(std::string_view provider,
                                                           wall_time now) const {
  const provider_data* d = find(provider);
  if (!d || !d->directions_at || now - *d->directions_at > options_.directions_max_age) {
    return nullptr;
  }
  return &d->directions;
}

void quote_book::put(pricing model, wall_time now) {
  prepared_.reset();
  provider_data& d = data(model.provider);
  d.prices_at = now;
  const std::string key = pair_key(model.spend_asset, model.receive_asset);
  entry e{std::move(model), d.clock_offset};
  auto it = d.prices.find(key);
  if (it == d.prices.end()) {
    d.prices.emplace(key, std::move(e));
  } else {
    it->second = std::move(e);
  }
}

pricing quote_book::localized(const entry& e, const provider_data& d) const {
  pricing p = e.model;
  if (e.clock_offset) {
    p.obtained_at -= *e.clock_offset;
    if (p.valid_until) *p.valid_until -= *e.clock_offset;
  }
  const latency_summary executions = d.executions.summary();
  if (executions.count > 0) {
    const auto p95 = std::chrono::ceil<std::chrono::milliseconds>(executions.p95);
    p.execution_p95 = std::max(p.execution_p95, p95);
  }
  return p;
}

pricing quote_book::localized(pricing model) const {
  const provider_data* d = find(model.provider);
  if (!d) return model;
  std::optional<std::chrono::milliseconds> offset = d->clock_offset;
  return localized(entry{std::move(model), offset}, *d);
}

bool quote_book::is_fresh(const pricing& local, wall_time now) const {
  if (now - local.obtained_at > options_.quote_max_age) return false;
  return !local.valid_until || *local.valid_until > now;
}

std::optional<pricing> quote_book::fresh(std::string_view provider, std::string_view spend_asset,
                                         std::string_view receive_asset, wall_time now) const {
  const provider_data* d = find(provider);
  if (!d) return std::nullopt;
  const auto it = d->prices.find(pair_key(spend_asset, receive_asset));
  if (it == d->prices.end() || !d->listed(it->first)) return std::nullopt;
  pricing p = localized(it->second, *d);
  if (!is_fresh(p, now)) return std::nullopt;
  return p;
}

std::shared_ptr<const prepared_market> quote_book::prepared() const {
  if (prepared_) return prepared_;
  std::vector<pricing> all;
  for (const auto& [name, d] : providers_) {
    for (const auto& [key, e] : d.prices) {
      if (!d.listed(key)) continue;
      all.push_back(localized(e, d));
    }
  }
  prepared_ = std::make_shared<const prepared_market>(std::move(all), options_.quote_max_age);
  return prepared_;
}

std::vector<pricing> quote_book::fresh_prices(wall_time now) const {
  std::vector<pricing> out;
  for (const auto& [name, d] : providers_) {
    for (const auto& [key, e] : d.prices) {
      if (!d.listed(key)) continue;
      pricing p = localized(e, d);
      if (is_fresh(p, now)) out.push_back(std::move(p));
    }
  }
  return out;
}

void quote_book::set_clock_offset(std::string_view provider,
                                  std::optional<std::chrono::milliseconds> offset) {
  data(provider).clock_offset = offset;
}

std::optional<std::chrono::milliseconds> quote_book::clock_offset(std::string_view provider) const {
  const provider_data* d = find(provider);
  return d ? d->clock_offset : std::nullopt;
}

void quote_book::record_quote_latency(std::string_view provider, std::chrono::nanoseconds latency) {
  data(provider).quotes.record(latency, options_.latency_window);
}

void quote_book::record_execution_latency(std::string_view provider,
                                          std::chrono::nanoseconds latency) {
  // localized() raises execution_p95 to the provider's recent p95.
  prepared_.reset();
  data(provider).executions.record(latency, options_.latency_window);
}

latency_summary quote_book::quote_latency(std::string_view provider) const {
  const provider_data* d = find(provider);
  return d ? d->quotes.summary() : latency_summary{};
}

latency_summary quote_book::execution_latency(std::string_view provider) const {
  const provider_data* d = find(provider);
  return d ? d->executions.summary() : latency_summary{};
}

void quote_book::set_balances(std::string_view provider, std::vector<balance> balances,
                              wall_time now) {
  provider_data& d = data(provider);
  d.balances = std::move(balances);
  d.balances_at = now;
}

const std::vector<balance>* quote_book::balances(std::string_view provider) const {
  const provider_data* d = find(provider);
  return d && d->balances_at ? &d->balances : nullptr;
}

void quote_book::record_failure(std::string_view provider, poll_kind kind, error what,
                                wall_time now) {
  provider_data& d = data(provider);
  ++d.failures;
  ++d.consecutive_failures;
  d.last_failure = book_failure{kind, std::move(what), now};
}

void quote_book::record_success(std::string_view provider) {
  data(provider).consecutive_failures = 0;
}

provider_view quote_book::view(std::string_view provider) const {
  provider_view v;
  v.provider = std::string(provider);
  const provider_data* d = find(provider);
  if (!d) return v;
  v.directions_at = d->directions_at;
  v.directions = d->directions.size();
  v.prices = d->prices.size();
  v.prices_at = d->prices_at;
  v.balances_at = d->balances_at;
  v.clock_offset = d->clock_offset;
  v.quote_latency = d->quotes.summary();
  v.execution_latency = d->executions.summary();
  v.failures = d->failures;
  v.consecutive_failures = d->consecutive_failures;
  v.last_failure = d->last_failure;
  return v;
}

std::vector<std::string> quote_book::providers() const {
  std::vector<std::string> out;
  out.reserve(providers_.size());
  for (const auto& [name, d] : providers_) out.push_back(name);
  return out;
}

}  // namespace swaprouter
