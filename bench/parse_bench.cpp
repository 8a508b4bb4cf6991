// Provider-payload parsing, the largest share of the engine's CPU per decision (BENCHMARKS.md
// "Engine decision without I/O"): KIIEX's GetL2Snapshot in the emulator's form with 10 levels a
// side (the emulator's default book) and 50 (the client's depth), the JSON document alone and
// through the adapter's book parse, the 001k seed's direction list, and StableStack's quote and
// OxaPay's calculation as their emulators write them; then each payload into the planner's model
// the way the engine turns it per decision (BM_parse_to_model_*: the adapter's parse, then the
// functions its venue prices with), the decision benchmark's parse step one provider at a time.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/kiiex/client.hpp"
#include "adapters/kiiex/parse.hpp"
#include "adapters/onek/client.hpp"
#include "adapters/onek/parse.hpp"
#include "adapters/oxapay/client.hpp"
#include "adapters/oxapay/parse.hpp"
#include "adapters/stablestack/client.hpp"
#include "adapters/stablestack/parse.hpp"
#include "engine/json_read.hpp"
#include "tests/onek_samples.hpp"

namespace {

using namespace swaprouter;

constexpr std::int64_t instrument_id = 7;

// As adapters/kiiex/emulator.cpp writes it: [MDUpdateId, Accounts, ActionDateTime, ActionType,
// LastTradePrice, Orders, Price, ProductPairCode, Quantity, Side], bids then asks.
std::string kiiex_book(int levels_a_side) {
  std::string out = "[";
  std::int64_t update = 1000;
  for (int side = 0; side < 2; ++side) {
    for (int i = 0; i < levels_a_side; ++i) {
      const int cents = side == 0 ? 398800 - 37 * i : 398900 + 41 * i;
      if (out.size() > 1) out += ',';
      out += fmt::format("[{},1,1795247504647,0,3988.005,1,{}.{:02},{},{}.{:04},{}]", ++update,
                         cents / 100, cents % 100, instrument_id, 1 + i % 7, 1234 + 17 * i, side);
    }
  }
  out += ']';
  return out;
}

// One parse of a body per iteration; stops with `what` when the body is not read.
template <class Parse>
void parse_each_iteration(benchmark::State& state, Parse parse, const char* what) {
  for (auto _ : state) {
    auto parsed = parse();
    if (!parsed) {
      state.SkipWithError(what);
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
}

void BM_parse_json_kiiex_book(benchmark::State& state) {
  const std::string body = kiiex_book(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto doc = parse_json_text(body, "l2");
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_parse_json_kiiex_book)->Arg(10)->Arg(50);

void BM_parse_kiiex_book(benchmark::State& state) {
  const auto levels = static_cast<std::size_t>(state.range(0));
  const std::string body = kiiex_book(static_cast<int>(levels));
  for (auto _ : state) {
    auto book = kiiex::parse_l2_snapshot(body, instrument_id);
    if (!book || book->bids.size() != levels || book->asks.size() != levels) {
      state.SkipWithError("book not read");
      break;
    }
    benchmark::DoNotOptimize(book);
  }
}
BENCHMARK(BM_parse_kiiex_book)->Arg(10)->Arg(50);

void BM_parse_onek_directions(benchmark::State& state) {
  parse_each_iteration(
      state, [] { return onek::parse_directions(onek::samples::seed_directions); },
      "directions not read");
}
BENCHMARK(BM_parse_onek_directions);

// POST /api/instant-swaps as adapters/stablestack/emulator.cpp answers it (quote_answer).
constexpr std::string_view stablestack_quote =
    R"({"status":"success","data":{"status":"success","message":"Successful","data":{)"
    R"("id":"6f1c2a9e-3b7d-4c55-9a1e-0d2f4b6c8e10","from_currency":"USDT","to_currency":"USDC",)"
    R"("quoted_price":"0.9995","quoted_currency":"USDC","from_amount":"1000.0","to_amount":"999.5",)"
    R"("confirmed":false,"expires_at":"2026-11-21T14:30:45.123Z",)"
    R"("created_at":"2026-11-21T14:30:15.123Z","updated_at":"2026-11-21T14:30:15.123Z",)"
    R"("user":{"id":"merchant-1","sn":"SS-1","email":"merchant@example.invalid","reference":null,)"
    R"("first_name":"Sim","last_name":"Merchant","display_name":"Sim Merchant",)"
    R"("created_at":"2026-11-21T14:00:00Z","updated_at":"2026-11-21T14:00:00Z"}}}})";

void BM_parse_stablestack_quote(benchmark::State& state) {
  parse_each_iteration(
      state, [] { return stablestack::parse_quote(stablestack_quote); }, "quote not read");
}
BENCHMARK(BM_parse_stablestack_quote);

// POST /v1/general/swap/calculate as adapters/oxapay/emulator.cpp answers it (post_calculate).
constexpr std::string_view oxapay_calculation =
    R"({"data":{"to_amount":999.5,"rate":0.9995,"amount":1000},)"
    R"("message":"Operation completed successfully!","error":{},"status":200,"version":"1.0.0"})";

void BM_parse_oxapay_calculation(benchmark::State& state) {
  parse_each_iteration(
      state, [] { return oxapay::parse_calculation(oxapay_calculation); },
      "calculation not read");
}
BENCHMARK(BM_parse_oxapay_calculation);

// One model a payload, as the decision parses it: `model` turns the body into the pricing.
template <class Model>
void pricing_each_iteration(benchmark::State& state, Model model, const char* what) {
  const wall_time now = std::chrono::system_clock::now();
  parse_each_iteration(state, [&] { return model(now); }, what);
}

// kiiex::client::book_for() and pricing_for(): the book's buy side (its asks).
void BM_parse_to_model_kiiex_book(benchmark::State& state) {
  const std::string body = kiiex_book(static_cast<int>(state.range(0)));
  kiiex::market_info market;
  market.inst.instrument_id = instrument_id;
  market.inst.symbol = "BTCUSDT";
  market.inst.quantity_increment = *decimal::parse("0.0001");
  market.inst.minimum_quantity = *decimal::parse("0.0001");
  market.base.symbol = "BTC";
  market.quote.symbol = "USDT";
  market.base.decimal_places = 8;
  market.quote.decimal_places = 2;
  market.fee_percent = *decimal::parse("0.2");
  pricing_each_iteration(
      state,
      [&](wall_time now) -> result<pricing> {
        auto book = kiiex::parse_l2_snapshot(body, instrument_id);
        if (!book) return std::unexpected(std::move(book.error()));
        return kiiex::pricing_of(market, kiiex::wire::side::buy, std::move(*book), now);
      },
      "book not priced");
}
BENCHMARK(BM_parse_to_model_kiiex_book)->Arg(10)->Arg(50);

// onek::client::directions(), then pricing_for() (pricing_for_pair over the directions read).
void BM_parse_to_model_onek_directions(benchmark::State& state) {
  pricing_each_iteration(
      state,
      [](wall_time now) -> result<pricing> {
        auto dirs = onek::parse_directions(onek::samples::seed_directions);
        if (!dirs || dirs->empty()) return fail(error_kind::bad_response, "no directions");
        const direction& first = dirs->front();
        return onek::pricing_for_pair(*dirs, first.spend_asset, first.receive_asset, now,
                                      onek::client_options{}.directions_max_age);
      },
      "directions not priced");
}
BENCHMARK(BM_parse_to_model_onek_directions);

// stablestack::client::quote_call(), then venue::pricing_for().
void BM_parse_to_model_stablestack_quote(benchmark::State& state) {
  const decimal asked = *decimal::parse("1000");
  pricing_each_iteration(
      state,
      [&](wall_time) -> result<pricing> {
        auto parsed = stablestack::parse_quote(stablestack_quote);
        if (!parsed) return std::unexpected(std::move(parsed.error()));
        auto q = stablestack::quote_of(std::move(*parsed), "USDT", "USDC", 6);
        if (!q) return std::unexpected(std::move(q.error()));
        return quote_pricing(std::move(*q), asked);
      },
      "quote not priced");
}
BENCHMARK(BM_parse_to_model_stablestack_quote);

// oxapay::client::price(), then venue::pricing_for().
void BM_parse_to_model_oxapay_calculation(benchmark::State& state) {
  const decimal asked = *decimal::parse("1000");
  pricing_each_iteration(
      state,
      [&](wall_time now) -> result<pricing> {
        auto calc = oxapay::parse_calculation(oxapay_calculation);
        if (!calc) return std::unexpected(std::move(calc.error()));
        return quote_pricing(
            oxapay::quote_of("USDT-USDC", "USDT", "USDC", asked, calc->to_amount, 8, now), asked);
      },
      "calculation not priced");
}
BENCHMARK(BM_parse_to_model_oxapay_calculation);

}  // namespace
