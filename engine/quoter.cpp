#include "engine/quoter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "engine/fanout.hpp"

namespace swaprouter {
namespace {

struct pair_key {
  std::string spend;
  std::string receive;
  auto operator<=>(const pair_key&) const = default;
};

// The pairs a plan of up to `max_hops` (1 or 2) legs can use: the direct pair and, through every
// asset some provider takes from `from` and some provider turns into `to`, both hops.
std::set<pair_key> pairs_to_price(const std::vector<direction>& all, const swap_intent& intent,
                                  int max_hops) {
  std::set<pair_key> out{{intent.spend_asset, intent.receive_asset}};
  if (max_hops < 2) return out;
  std::set<std::string> from_first;
  std::set<std::string> into_last;
  for (const auto& d : all) {
    if (!d.enabled) continue;
    if (d.spend_asset == intent.spend_asset) from_first.insert(d.receive_asset);
    if (d.receive_asset == intent.receive_asset) into_last.insert(d.spend_asset);
  }
  for (const auto& middle : from_first) {
    if (middle == intent.receive_asset || !into_last.contains(middle)) continue;
    out.insert({intent.spend_asset, middle});
    out.insert({middle, intent.receive_asset});
  }
  return out;
}

bool allowed(const swap_intent& intent, std::string_view provider) {
  return intent.providers.empty() || std::find(intent.providers.begin(), intent.providers.end(),
                                               provider) != intent.providers.end();
}

}  // namespace

task<quoted_plan> quote_and_plan(std::span<venue* const> venues, swap_intent intent,
                                 planner_options options, std::chrono::milliseconds fanout) {
  const std::vector<venue*> asked = [&] {
    std::vector<venue*> out;
    for (venue* v : venues) {
      if (allowed(intent, v->id())) out.push_back(v);
    }
    return out;
  }();
  quoted_plan out;
  // Directions first (cached by the adapters), then every provider's pricing for every pair it
  // serves, all at once.
  std::vector<fanout_call<std::vector<direction>>> direction_calls;
  for (venue* provider : asked) {
    direction_calls.push_back(
        {std::string(provider->id()), [provider] { return provider->directions(); }});
  }
  auto listed =
      co_await fan_out(std::move(direction_calls), std::chrono::steady_clock::now() + fanout);
  std::vector<direction> all;
  for (auto& answer : listed) {
    if (!answer.value) {
      out.unavailable.push_back(
          {answer.provider, "no directions: " + describe(answer.value.error())});
      continue;
    }
    all.insert(all.end(), answer.value->begin(), answer.value->end());
  }
  const auto pairs = pairs_to_price(all, intent, options.max_hops);

  std::vector<fanout_call<pricing>> pricing_calls;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    if (!listed[i].value) continue;
    venue* provider = asked[i];
    for (const auto& pair : pairs) {
      const bool served =
          std::any_of(listed[i].value->begin(), listed[i].value->end(), [&](const direction& d) {
            return d.spend_asset == pair.spend && d.receive_asset == pair.receive;
          });
      if (!served) continue;
      quote_request request{pair.spend, pair.receive, intent.side, intent.amount};
      // Only the hop whose amount the intent fixes is priced for that amount; the others get the
      // provider's model as such (a firm quote needs an amount, so it prices the intent's).
      const bool fixed_hop = intent.side == amount_side::spend
                                 ? pair.spend == intent.spend_asset
                                 : pair.receive == intent.receive_asset;
      if (!fixed_hop) request.side = amount_side::spend;
      pricing_calls.push_back({fmt::format("{}: {}->{}", provider->id(), pair.spend, pair.receive),
                               [provider, request] { return provider->pricing_for(request); }});
    }
  }
  auto priced =
      co_await fan_out(std::move(pricing_calls), std::chrono::steady_clock::now() + fanout);
  for (auto& answer : priced) {
    if (!answer.value) {
      out.unavailable.push_back({answer.provider, describe(answer.value.error())});
      continue;
    }
    out.models.push_back(std::move(*answer.value));
  }
  out.result = make_plan(intent, out.models, options, std::chrono::system_clock::now());
  co_return out;
}

}  // namespace swaprouter
