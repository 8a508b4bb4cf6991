// The planner on 4 providers x 50 directions, one intent, no I/O (issue 6 "Performance").
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "engine/router.hpp"

namespace swaprouter {
namespace {

const wall_time bench_now{std::chrono::milliseconds(1'700'000'000'000)};

decimal bench_dec(const char* text) { return decimal::parse(text).value(); }

// Both markets: four providers quoting 50 of the 56 ordered pairs of eight assets each.
// `price(p, v, a, b)` fills in provider v's model of assets[a] -> assets[b].
template <class Price>
std::vector<pricing> four_by_fifty(Price price) {
  const std::array<const char*, 8> assets = {"USDT", "COPM", "USDC", "BTC",
                                             "ETH",  "TRX",  "LTC",  "BRL"};
  std::vector<pricing> out;
  for (int v = 0; v < 4; ++v) {
    int made = 0;
    for (std::size_t a = 0; a < assets.size() && made < 50; ++a) {
      for (std::size_t b = 0; b < assets.size() && made < 50; ++b) {
        if (a == b) continue;
        pricing p;
        p.provider = "provider" + std::to_string(v);
        p.spend_asset = assets[a];
        p.receive_asset = assets[b];
        p.direction_code = p.spend_asset + "-" + p.receive_asset;
        p.obtained_at = bench_now;
        price(p, v, a, b);
        out.push_back(std::move(p));
        ++made;
      }
    }
  }
  return out;
}

// One provider prices by order book.
std::vector<pricing> bench_market() {
  return four_by_fifty([](pricing& p, int v, std::size_t a, std::size_t b) {
    p.spend_precision = 2;
    p.receive_precision = 6;
    p.fee_percent = bench_dec("0.25");
    p.rate_spend = decimal::from_int(static_cast<std::int64_t>(10 + a));
    p.rate_receive = decimal::from_int(static_cast<std::int64_t>(10 + b + v));
    p.max_spend = decimal::from_int(5000);
    if (v == 3) {
      p.model = pricing_model::order_book;
      p.book.side = book_side::sell;
      p.book.quantity_increment = bench_dec("0.01");
      for (int l = 0; l < 10; ++l) {
        p.book.levels.push_back(
            {decimal::from_int(static_cast<std::int64_t>(4000 - l)), decimal::from_int(200)});
      }
    }
  });
}

// The same shape with consistent prices: every asset has a value, each provider quotes every
// pair at that cross rate less its own spread, and provider 3's books are laddered around it.
// Two hops then pay two fees and lose to the direct routes, as in a real market.
std::vector<pricing> consistent_market() {
  // Value of one unit in millionths of a dollar, in four_by_fifty's asset order.
  static constexpr std::array<std::int64_t, 8> value = {
      1'000'000, 250, 999'800, 60'000'000'000, 3'000'000'000, 120'000, 80'000'000, 180'000};
  return four_by_fifty([](pricing& p, int v, std::size_t a, std::size_t b) {
    p.spend_precision = 8;
    p.receive_precision = 8;
    p.fee_percent = bench_dec("0.25");
    // value[a] / value[b], less 0.1 % per provider index.
    const decimal cross =
        decimal::from_int(value[a]).div(decimal::from_int(value[b]), rounding::down).value();
    p.rate_receive =
        cross.mul_div(decimal::from_int(1000 - v), decimal::from_int(1000), rounding::down).value();
    p.max_spend =
        decimal::from_int(5000)
            .mul_div(decimal::from_int(1'000'000), decimal::from_int(value[a]), rounding::down)
            .value()
            .round(8, rounding::down);
    if (v == 3) {
      p.model = pricing_model::order_book;
      p.book.side = book_side::sell;
      p.book.quantity_increment = bench_dec("0.00000001");
      // Ten levels of a twentieth of the max each, 0.05 % apart.
      const decimal quantity =
          p.max_spend->div(decimal::from_int(20), rounding::down).value().round(8, rounding::down);
      decimal price = p.rate_receive;
      for (int l = 0; l < 10; ++l) {
        p.book.levels.push_back({price.round(8, rounding::down), quantity});
        price = price.mul_div(decimal::from_int(9995), decimal::from_int(10000), rounding::down)
                    .value();
      }
    }
  });
}

// One intent: spend 1000 USDT for COPM.
swap_intent bench_intent() {
  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "COPM";
  intent.amount = decimal::from_int(1000);
  return intent;
}

void plan_span(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  for (auto _ : state) {
    plan p = make_plan(intent, quotes, options, bench_now);
    benchmark::DoNotOptimize(p);
  }
}

void BM_router_plan(benchmark::State& state) { plan_span(state, bench_market()); }
BENCHMARK(BM_router_plan);

void BM_router_plan_consistent(benchmark::State& state) { plan_span(state, consistent_market()); }
BENCHMARK(BM_router_plan_consistent);

// The target is a p99: every plan is timed on its own (steady clock around one call)
// into a sorted vector, and p50 and p99 are reported as counters in microseconds.
// `plan_once` makes one plan; 2000 of them are timed one by one.
template <class Plan>
void time_percentiles(benchmark::State& state, Plan plan_once) {
  constexpr std::size_t samples = 2000;
  std::vector<double> micros;
  micros.reserve(samples);
  for (auto _ : state) {
    micros.clear();
    for (std::size_t i = 0; i < samples; ++i) {
      const auto start = std::chrono::steady_clock::now();
      plan p = plan_once();
      const auto stop = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(p);
      micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    }
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
}

void plan_percentiles(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  time_percentiles(state, [&] { return make_plan(intent, quotes, options, bench_now); });
}

void BM_router_plan_percentiles(benchmark::State& state) {
  plan_percentiles(state, bench_market());
}
BENCHMARK(BM_router_plan_percentiles)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_router_plan_consistent_percentiles(benchmark::State& state) {
  plan_percentiles(state, consistent_market());
}
BENCHMARK(BM_router_plan_consistent_percentiles)->Iterations(1)->Unit(benchmark::kMillisecond);

// The same plans over a prepared market (engine/router.hpp prepared_market): what the quote
// book does once per quote update is out of the loop, so this is the per-intent cost. The first
// plan of the market (its route search and the bounds it needs) runs before the loop.

void plan_prepared(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  const prepared_market market(quotes);
  benchmark::DoNotOptimize(make_plan(intent, market, options, bench_now));
  for (auto _ : state) {
    plan p = make_plan(intent, market, options, bench_now);
    benchmark::DoNotOptimize(p);
  }
}

void BM_router_plan_prepared(benchmark::State& state) { plan_prepared(state, bench_market()); }
BENCHMARK(BM_router_plan_prepared);

void BM_router_plan_consistent_prepared(benchmark::State& state) {
  plan_prepared(state, consistent_market());
}
BENCHMARK(BM_router_plan_consistent_prepared);

// Once per quote update: preparing the market alone, and preparing it plus the first plan (which
// searches the intent's routes and bounds the ones it needs for the next plans).
void prepare(benchmark::State& state, const std::vector<pricing>& quotes, bool first_plan) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  for (auto _ : state) {
    prepared_market market(quotes);
    if (first_plan) {
      plan p = make_plan(intent, market, options, bench_now);
      benchmark::DoNotOptimize(p);
    }
    benchmark::DoNotOptimize(market);
  }
}

void BM_router_prepare(benchmark::State& state) { prepare(state, bench_market(), false); }
BENCHMARK(BM_router_prepare);

void BM_router_prepare_consistent(benchmark::State& state) {
  prepare(state, consistent_market(), false);
}
BENCHMARK(BM_router_prepare_consistent);

void BM_router_prepare_and_first_plan(benchmark::State& state) {
  prepare(state, bench_market(), true);
}
BENCHMARK(BM_router_prepare_and_first_plan);

void BM_router_prepare_and_first_plan_consistent(benchmark::State& state) {
  prepare(state, consistent_market(), true);
}
BENCHMARK(BM_router_prepare_and_first_plan_consistent);

// The first plan of a market searches its routes and bounds the ones it needs: made before the
// 2000 timed ones.
template <class Plan>
void percentiles_after_first(benchmark::State& state, Plan plan_once) {
  benchmark::DoNotOptimize(plan_once());
  time_percentiles(state, plan_once);
}

void prepared_percentiles(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  const prepared_market market(quotes);
  percentiles_after_first(state, [&] { return make_plan(intent, market, options, bench_now); });
}

void BM_router_plan_prepared_percentiles(benchmark::State& state) {
  prepared_percentiles(state, bench_market());
}
BENCHMARK(BM_router_plan_prepared_percentiles)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_router_plan_consistent_prepared_percentiles(benchmark::State& state) {
  prepared_percentiles(state, consistent_market());
}
BENCHMARK(BM_router_plan_consistent_prepared_percentiles)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The same over the prepared market with the amount alternating between 1000 and 1000.5: no
// two consecutive plans ask the same intent, as real intents differ in amount.
void alternating_percentiles(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent first = bench_intent();
  swap_intent second = first;
  second.amount = decimal::parse("1000.5").value();
  const planner_options options;
  const prepared_market market(quotes);
  std::size_t n = 0;
  percentiles_after_first(
      state, [&] { return make_plan(++n % 2 == 0 ? first : second, market, options, bench_now); });
}

void BM_router_plan_prepared_alternating_percentiles(benchmark::State& state) {
  alternating_percentiles(state, bench_market());
}
BENCHMARK(BM_router_plan_prepared_alternating_percentiles)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_router_plan_consistent_prepared_alternating_percentiles(benchmark::State& state) {
  alternating_percentiles(state, consistent_market());
}
BENCHMARK(BM_router_plan_consistent_prepared_alternating_percentiles)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// A decision over newly received quotes (quote_and_plan, `bench quotes`' decision): the route
// cache keeps the topology's route searches from the previous decision, and everything that
// depends on prices (rates, bounds, linear models, admission) is redone on every plan, as for
// quotes with new prices.
void cached_percentiles(benchmark::State& state, const std::vector<pricing>& quotes) {
  const swap_intent intent = bench_intent();
  const planner_options options;
  route_cache routes;
  percentiles_after_first(
      state, [&] { return make_plan(intent, quotes, options, bench_now, routes); });
}

void BM_router_plan_cached_percentiles(benchmark::State& state) {
  cached_percentiles(state, bench_market());
}
BENCHMARK(BM_router_plan_cached_percentiles)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_router_plan_consistent_cached_percentiles(benchmark::State& state) {
  cached_percentiles(state, consistent_market());
}
BENCHMARK(BM_router_plan_consistent_cached_percentiles)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace swaprouter
