// Provider-payload parsing, the largest share of the engine's CPU per decision (BENCHMARKS.md
// "Engine decision without I/O"): KIIEX's GetL2Snapshot in the emulator's form with 10 levels a
// side (the emulator's default book) and 50 (the client's depth), the JSON document alone and
// through the adapter's book parse, and the 001k seed's direction list.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/kiiex/parse.hpp"
#include "adapters/onek/parse.hpp"
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
  for (auto _ : state) {
    auto dirs = onek::parse_directions(onek::samples::seed_directions);
    if (!dirs) {
      state.SkipWithError("directions not read");
      break;
    }
    benchmark::DoNotOptimize(dirs);
  }
}
BENCHMARK(BM_parse_onek_directions);

}  // namespace
