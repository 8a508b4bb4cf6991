#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <string_view>

#include "engine/decimal.hpp"

namespace {

using swaprouter::decimal;
using swaprouter::rounding;

decimal parse(std::string_view text) { return decimal::parse(text).value(); }

// Amounts and rates shaped like the providers' answers: a USDT amount, a COPM rate, a BTC price,
// a small fee rate and a full 18-place quotient.
const std::array<decimal, 5> values = {parse("1500.5"), parse("4123.77"), parse("29485.25"),
                                       parse("0.00003390"), parse("3.548387096774193548")};

void BM_decimal_parse(benchmark::State& state) {
  constexpr std::array<std::string_view, 4> texts = {"0.00003390", "29485.25", "4123.77",
                                                     "-3.548387096774193548"};
  std::size_t i = 0;
  for (auto _ : state) {
    auto parsed = decimal::parse(texts[i++ % texts.size()]);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_decimal_parse);

void BM_decimal_mul(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const decimal a = values[i % values.size()];
    const decimal b = values[(i + 1) % values.size()];
    ++i;
    auto product = a.mul(b, rounding::down);
    benchmark::DoNotOptimize(product);
  }
}
BENCHMARK(BM_decimal_mul);

void BM_decimal_div(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const decimal a = values[i % values.size()];
    const decimal b = values[(i + 1) % values.size()];
    ++i;
    auto quotient = a.div(b, rounding::down);
    benchmark::DoNotOptimize(quotient);
  }
}
BENCHMARK(BM_decimal_div);

void BM_decimal_mul_div(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const decimal a = values[i % values.size()];
    const decimal num = values[(i + 1) % values.size()];
    const decimal den = values[(i + 2) % values.size()];
    ++i;
    auto proportion = a.mul_div(num, den, rounding::down);
    benchmark::DoNotOptimize(proportion);
  }
}
BENCHMARK(BM_decimal_mul_div);

void BM_decimal_format(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto text = values[i++ % values.size()].to_string();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_decimal_format);

}  // namespace
