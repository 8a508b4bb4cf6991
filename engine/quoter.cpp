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
                                 planner_options options, std::chrono::milliseconds fanout,
                                 quote_book* book) {
  const std::vector<venue*> asked = [&] {
    std::vector<venue*> out;
    for (venue* v : venues) {
      if (allowed(intent, v->id())) out.push_back(v);
    }
    return out;
  }();
  quoted_plan out;
  // Directions: from the book where it has a recent listing; every other venue is asked at once.
  std::vector<bool> cached(asked.size(), false);
  std::vector<fanout_call<std::vector<direction>>> direction_calls;
  std::vector<std::size_t> listing;  // index in `asked` of each direction call
  const wall_time started = std::chrono::system_clock::now();
  for (std::size_t i = 0; i < asked.size(); ++i) {
    venue* provider = asked[i];
    if (book && book->fresh_directions(provider->id(), started)) {
      cached[i] = true;
      continue;
    }
    listing.push_back(i);
    direction_calls.push_back(
        {std::string(provider->id()), [provider] { return provider->directions(); }});
  }
  std::vector<result<std::vector<direction>>> listed(
      asked.size(), fail(error_kind::internal, "not listed"));
  if (!direction_calls.empty()) {
    auto answers =
        co_await fan_out(std::move(direction_calls), std::chrono::steady_clock::now() + fanout);
    const wall_time now = std::chrono::system_clock::now();
    for (std::size_t k = 0; k < answers.size(); ++k) {
      const std::size_t i = listing[k];
      if (book && answers[k].value) {
        book->set_directions(asked[i]->id(), *answers[k].value, now);
      } else if (book) {
        book->record_failure(asked[i]->id(), poll_kind::directions, answers[k].value.error(), now);
      }
      listed[i] = std::move(answers[k].value);
    }
  }
  // Read after the listing's await: the poller may have replaced a listing meanwhile, and no
  // pointer into the book is kept across an await.
  const auto directions_of = [&](std::size_t i) -> const std::vector<direction>* {
    if (cached[i]) return book->directions(asked[i]->id());
    return listed[i] ? &*listed[i] : nullptr;
  };
  std::vector<direction> all;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    if (const auto* dirs = directions_of(i)) {
      all.insert(all.end(), dirs->begin(), dirs->end());
    } else {
      out.unavailable.push_back(
          {std::string(asked[i]->id()), "no directions: " + describe(listed[i].error())});
    }
  }
  const auto pairs = pairs_to_price(all, intent, options.max_hops);

  std::vector<fanout_call<pricing>> pricing_calls;
  std::vector<venue*> priced_by;  // the venue of each pricing call
  for (std::size_t i = 0; i < asked.size(); ++i) {
    const auto* dirs = directions_of(i);
    if (dirs == nullptr) continue;
    venue* provider = asked[i];
    for (const auto& pair : pairs) {
      const bool served = std::any_of(dirs->begin(), dirs->end(), [&](const direction& d) {
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
      priced_by.push_back(provider);
    }
  }
  all.clear();
  auto priced =
      co_await fan_out(std::move(pricing_calls), std::chrono::steady_clock::now() + fanout);
  const wall_time now = std::chrono::system_clock::now();
  if (book) {
    for (venue* v : asked) book->set_clock_offset(v->id(), v->health().clock_offset);
  }
  for (std::size_t k = 0; k < priced.size(); ++k) {
    auto& answer = priced[k];
    const std::string_view id = priced_by[k]->id();
    if (!answer.value) {
      if (book) book->record_failure(id, poll_kind::prices, answer.value.error(), now);
      out.unavailable.push_back({answer.provider, describe(answer.value.error())});
      continue;
    }
    if (book) {
      book->record_quote_latency(id, answer.latency);
      book->record_success(id);
      book->put(*answer.value, now);
      out.models.push_back(book->localized(std::move(*answer.value)));
    } else {
      out.models.push_back(std::move(*answer.value));
    }
  }
  // With a book, the routes of the last decision over the same providers' pairs are reused.
  out.result = book ? make_plan(intent, out.models, options, std::chrono::system_clock::now(),
                                book->decision_routes())
                    : make_plan(intent, out.models, options, std::chrono::system_clock::now());
  co_return out;
}

quoted_plan plan_from_book(const quote_book& book, const swap_intent& intent,
                           const planner_options& options, wall_time now) {
  quoted_plan out;
  // The book's market leaves out what fresh_prices(now) would, and the providers not allowed.
  const std::shared_ptr<const prepared_market> market = book.prepared();
  const std::span<const pricing> all = market->quotes();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (market->fresh(i, now) && allowed(intent, all[i].provider)) out.models.push_back(all[i]);
  }
  out.result = make_plan(intent, *market, options, now);
  return out;
}

task<quoted_plan> estimate_plan(std::span<venue* const> venues, swap_intent intent,
                                planner_options options, std::chrono::milliseconds fanout,
                                quote_book* book) {
  if (book != nullptr) {
    quoted_plan estimated =
        plan_from_book(*book, intent, options, std::chrono::system_clock::now());
    if (estimated.result.ok()) co_return estimated;
  }
  co_return co_await quote_and_plan(venues, std::move(intent), std::move(options), fanout, book);
}

}  // namespace swaprouter
