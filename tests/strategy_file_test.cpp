// The strategy file: the engine configuration plus strategies: and risk:, with every error at
// FILE:LINE:COLUMN: KEY.PATH.
#include "strategies/strategy_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/check.hpp"

namespace swaprouter::strategies {
namespace {

using namespace std::chrono_literals;

decimal d(std::string_view text) { return decimal::parse(text).value(); }

std::vector<std::string> messages(const strategy_load_result& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.emplace_back(e.what());
  return out;
}

constexpr std::string_view good = R"(engine:
  max_hops: 2
strategies:
  usdt-copm:
    kind: convert
    from: USDT
    to: COPM
    amount: "100"
    interval: 15s
    providers: [onek, kiiex]
    max_slippage_percent: "0.5"
    deadline: 30s
  dip:
    kind: threshold
    from: USDC
    to: COPM
    amount: "50"
    rate_at_least: "3900"
    cooldown: 20s
  usdc-band:
    kind: rebalance
    from: USDT
    to: USDC
    provider: stablestack
    min: "50100"
    max: "60000"
    max_spend: "500"
  btc-twap:
    kind: twap
    from: USDT
    to: BTC
    total: "300"
    slices: 5
    period: 40s
    min_rate: "0.00001"
risk:
  max_per_swap: {USDT: "1000"}
  max_per_day: {USDT: "5000"}
  provider_exposure: {onek: {USDT: "2000"}}
  max_unknown_legs: 3
  kill_switch: /tmp/stop-the-bot
  halt_on_unknown: {count: 4, window: 2m}
)";

TEST(StrategyFile, ReadsEveryKindAndTheRiskSection) {
  const auto r = parse_strategy_file(good, "demo.yaml");
  ASSERT_TRUE(r.ok()) << messages(r).front();
  const auto& s = r.file.sections.strategies;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].common.name, "usdt-copm");
  EXPECT_EQ(s[0].common.kind, strategy_kind::convert);
  EXPECT_EQ(s[0].convert.amount, d("100"));
  EXPECT_EQ(s[0].convert.interval, 15s);
  EXPECT_EQ(s[0].common.providers, (std::vector<std::string>{"onek", "kiiex"}));
  EXPECT_EQ(s[0].common.max_slippage_percent, d("0.5"));
  EXPECT_EQ(s[0].common.deadline, 30s);
  EXPECT_EQ(s[1].threshold.rate_at_least, d("3900"));
  EXPECT_EQ(s[1].threshold.cooldown, 20s);
  EXPECT_EQ(s[2].rebalance.provider, "stablestack");
  EXPECT_EQ(s[2].rebalance.max_spend, d("500"));
  EXPECT_EQ(s[3].twap.slices, 5);
  EXPECT_EQ(s[3].twap.period, 40s);
  const auto& risk = r.file.sections.risk;
  EXPECT_EQ(risk.max_per_swap.at("USDT"), d("1000"));
  EXPECT_EQ(risk.max_per_day.at("USDT"), d("5000"));
  EXPECT_EQ(risk.provider_exposure.at("onek").at("USDT"), d("2000"));
  EXPECT_EQ(risk.kill_switch, "/tmp/stop-the-bot");
  EXPECT_EQ(risk.unknown_burst, 4);
  EXPECT_EQ(risk.unknown_window, 120s);
  EXPECT_EQ(r.file.engine.engine.max_hops, 2);
}

TEST(StrategyFile, ReliabilityHaltSettings) {
  const auto r = parse_strategy_file(R"(strategies:
  a: {kind: convert, from: USDT, to: COPM, amount: "1"}
risk:
  halt_on_expired: {count: 7, window: 30s}
  halt_on_429: {count: 12, window: 2m}
  max_clock_jump: 1500ms
  max_circuit_open: 90s
)",
                                     "halts.yaml");
  ASSERT_TRUE(r.ok()) << messages(r).front();
  const auto& risk = r.file.sections.risk;
  EXPECT_EQ(risk.expired_burst, 7);
  EXPECT_EQ(risk.expired_window, 30s);
  EXPECT_EQ(risk.rate_limited_burst, 12);
  EXPECT_EQ(risk.rate_limited_window, 120s);
  EXPECT_EQ(risk.max_clock_jump, 1500ms);
  EXPECT_EQ(risk.max_circuit_open, 90s);
  const auto bad = parse_strategy_file(R"(strategies:
  a: {kind: convert, from: USDT, to: COPM, amount: "1"}
risk:
  halt_on_429: {count: 0, windw: 1s}
)",
                                       "halts.yaml");
  const auto m = messages(bad);
  ASSERT_EQ(m.size(), 2u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0].rfind("halts.yaml:4:24: risk.halt_on_429.count: ", 0), 0u) << m[0];
  EXPECT_EQ(m[1], "halts.yaml:4:27: risk.halt_on_429.windw: unknown key");
}

TEST(StrategyFile, ErrorsNameFileLineColumnAndKeyPath) {
  const std::string_view bad = R"(strategies:
  a:
    kind: convert
    from: USDT
    to: COPM
    amount: "12.3.4"
    colour: blue
  b:
    kind: twap
    from: USDT
    to: BTC
    total: "10"
    slices: many
    period: 10s
    cooldown: 5s
  c:
    kind: sideways
risk:
  max_per_swap: {usdt: "1"}
  max_unknown_legs: -1
  kil_switch: x
)";
  const auto r = parse_strategy_file(bad, "bot.yaml");
  const auto m = messages(r);
  ASSERT_EQ(m.size(), 8u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0].rfind("bot.yaml:6:13: strategies.a.amount: ", 0), 0u) << m[0];
  EXPECT_EQ(m[1], "bot.yaml:7:5: strategies.a.colour: unknown key");
  EXPECT_EQ(m[2].rfind("bot.yaml:13:13: strategies.b.slices: ", 0), 0u) << m[2];
  EXPECT_EQ(m[3], "bot.yaml:15:5: strategies.b.cooldown: not a key of a twap strategy");
  EXPECT_EQ(m[4].rfind("bot.yaml:17:11: strategies.c.kind: unknown strategy kind 'sideways'", 0),
            0u)
      << m[4];
  EXPECT_EQ(m[5].rfind("bot.yaml:19:18: risk.max_per_swap.usdt: an asset code", 0), 0u) << m[5];
  EXPECT_EQ(m[6].rfind("bot.yaml:20:21: risk.max_unknown_legs: ", 0), 0u) << m[6];
  EXPECT_EQ(m[7], "bot.yaml:21:3: risk.kil_switch: unknown key");
}

TEST(StrategyFile, UnknownProviderAndMissingFields) {
  const auto r = parse_strategy_file(R"(strategies:
  a:
    kind: rebalance
    from: USDT
    to: USDT
    provider: binance
    min: "1"
)",
                                     "f.yaml");
  const auto m = messages(r);
  ASSERT_GE(m.size(), 3u) << ::testing::PrintToString(m);
  std::string all;
  for (const auto& line : m) all += line + "\n";
  EXPECT_NE(all.find("f.yaml:6:15: strategies.a.provider: unknown provider 'binance'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("strategies.a: missing required field max"), std::string::npos) << all;
  EXPECT_NE(all.find("strategies.a: from and to are the same asset"), std::string::npos) << all;
}

TEST(StrategyFile, CancelOnStopIsAPerStrategyBooleanDefaultingToFalse) {
  const auto r = parse_strategy_file(R"(strategies:
  a: {kind: convert, from: USDT, to: COPM, amount: "1", cancel_on_stop: true}
  b: {kind: twap, from: USDT, to: BTC, total: "3", slices: 3, period: 30s, cancel_on_stop: false}
  c: {kind: convert, from: USDT, to: COPM, amount: "1"}
)",
                                     "stop.yaml");
  ASSERT_TRUE(r.ok()) << messages(r).front();
  const auto& s = r.file.sections.strategies;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].common.cancel_on_stop);
  EXPECT_FALSE(s[1].common.cancel_on_stop);
  EXPECT_FALSE(s[2].common.cancel_on_stop);
  const std::string listed = describe(r.file.sections);
  EXPECT_NE(listed.find("strategy a: convert USDT -> COPM (cancel on stop)\n"), std::string::npos)
      << listed;
  EXPECT_NE(listed.find("strategy c: convert USDT -> COPM\n"), std::string::npos) << listed;

  const auto bad = parse_strategy_file(R"(strategies:
  a:
    kind: threshold
    from: USDT
    to: COPM
    amount: "1"
    rate_at_least: "4000"
    cancel_on_stop: sometimes
  b:
    kind: convert
    from: USDT
    to: COPM
    amount: "1"
    cancel_on_stop: [true]
)",
                                       "stop.yaml");
  const auto m = messages(bad);
  ASSERT_EQ(m.size(), 2u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0],
            "stop.yaml:8:21: strategies.a.cancel_on_stop: expected true or false, got 'sometimes'");
  EXPECT_EQ(m[1].rfind("stop.yaml:14:21: strategies.b.cancel_on_stop: ", 0), 0u) << m[1];
}

TEST(StrategyFile, CheckCoversTheSections) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / "swaprouter-strategy-check.yaml";
  {
    std::ofstream out(path);
    out << "strategies:\n  a:\n    kind: convert\n    from: USDT\n    to: COPM\n    amount: x\n"
        << "    cancel_on_stop: yes please\n";
  }
  std::ostringstream out;
  std::ostringstream err;
  const int code = config::check_config(
      path.string(), out, err, with_strategy_sections(std::make_shared<strategy_sections>()));
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.str().find(":6:13: strategies.a.amount: "), std::string::npos) << err.str();
  EXPECT_NE(err.str().find(":7:21: strategies.a.cancel_on_stop: expected true or false, got "
                           "'yes please'"),
            std::string::npos)
      << err.str();
  std::filesystem::remove(path);
}

// max_unknown_legs: 0 halted the bot at its first intent with no unknown leg at all ("0 unknown
// legs (max 0)"): the guard halts once the count reaches the maximum, so the least is 1.
TEST(StrategyFile, MaxUnknownLegsOfZeroIsRefused) {
  const auto r = parse_strategy_file(R"(strategies:
  a:
    kind: convert
    from: USDT
    to: COPM
    amount: "1"
risk:
  max_unknown_legs: 0
)",
                                     "legs.yaml");
  const auto m = messages(r);
  ASSERT_EQ(m.size(), 1u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "legs.yaml:8:21: risk.max_unknown_legs: must be between 1 and 1000000");
}

// A threshold whose rate_at_least is above its rate_at_most can never fire: refused, not idle.
TEST(StrategyFile, ThresholdWithAnEmptyRateBandIsRefused) {
  const auto r = parse_strategy_file(R"(strategies:
  dip:
    kind: threshold
    from: USDC
    to: COPM
    amount: "50"
    rate_at_least: "4000"
    rate_at_most: "3900"
)",
                                     "band.yaml");
  const auto m = messages(r);
  ASSERT_EQ(m.size(), 1u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0].rfind("band.yaml:3:5: strategies.dip: ", 0), 0u) << m[0];
  EXPECT_NE(m[0].find("rate_at_least 4000 is above rate_at_most 3900"), std::string::npos) << m[0];
}

}  // namespace
}  // namespace swaprouter::strategies
