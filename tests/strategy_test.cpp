// Each strategy kind's decisions on scripted markets: prices, balances and time are given, the
// intents (or their absence) are checked.
#include "strategies/strategy.hpp"

#include <gtest/gtest.h>

namespace swaprouter::strategies {
namespace {

using namespace std::chrono_literals;

decimal d(std::string_view text) { return decimal::parse(text).value(); }

const wall_time t0 = wall_time(std::chrono::seconds(1'790'000'000));

strategy_common common(strategy_kind kind, std::string from = "USDT", std::string to = "COPM") {
  strategy_common c;
  c.name = "s";
  c.kind = kind;
  c.from = std::move(from);
  c.to = std::move(to);
  c.providers = {"onek", "kiiex"};
  c.deadline = 30s;
  return c;
}

// A rebalance of USDC on StableStack within [50100, 60000], aiming at 50200, buying with at most
// 500 USDT a swap.
strategy_config stablestack_band() {
  strategy_config c;
  c.common = common(strategy_kind::rebalance, "USDT", "USDC");
  c.rebalance.provider = "stablestack";
  c.rebalance.min = d("50100");
  c.rebalance.max = d("60000");
  c.rebalance.target = d("50200");
  c.rebalance.max_spend = d("500");
  return c;
}

// A market where every probe is answered at `rate` (net per unit spent).
market_view market(const std::vector<probe>& probes, std::string_view rate, wall_time now,
                   std::vector<balance_entry> balances = {}) {
  market_view v;
  v.now = now;
  // Read at the tick, as the bot reads them.
  if (!balances.empty()) v.balances_at = now;
  v.balances = std::move(balances);
  for (const auto& p : probes) {
    probe_answer a;
    a.asked = p;
    a.ok = true;
    a.rate = d(rate);
    a.net = p.amount.mul(a.rate, rounding::down).value();
    a.worst_net = a.net;
    v.quotes.push_back(a);
  }
  return v;
}

std::optional<swap_intent> tick(strategy& s, std::string_view rate, wall_time now,
                                std::vector<balance_entry> balances = {}) {
  market_view probe_view;
  probe_view.now = now;
  if (!balances.empty()) probe_view.balances_at = now;
  probe_view.balances = balances;
  auto probes = s.probes(now, probe_view);
  return s.on_tick(market(probes, rate, now, std::move(balances)));
}

TEST(ConvertStrategy, OnceSpendsTheAmountWithSlippageFloorAndDeadline) {
  strategy_config c;
  c.common = common(strategy_kind::convert);
  c.common.max_slippage_percent = d("0.5");
  c.convert.amount = d("100");
  auto s = make_strategy(c);
  auto intent = tick(*s, "4000", t0);
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->spend_asset, "USDT");
  EXPECT_EQ(intent->receive_asset, "COPM");
  EXPECT_EQ(intent->amount, d("100"));
  EXPECT_EQ(intent->min_receive, d("398000"));  // 400000 less 0.5 %
  EXPECT_EQ(intent->deadline, t0 + 30s);
  EXPECT_EQ(intent->providers, (std::vector<std::string>{"onek", "kiiex"}));
  // In flight: nothing more; settled once: done for good.
  EXPECT_FALSE(tick(*s, "4000", t0 + 1s));
  s->settled(true, t0 + 2s);
  EXPECT_FALSE(tick(*s, "4000", t0 + 1h));
}

TEST(ConvertStrategy, IntervalRepeatsAndRefusedIntentIsRetried) {
  strategy_config c;
  c.common = common(strategy_kind::convert);
  c.convert.amount = d("10");
  c.convert.interval = 15s;
  auto s = make_strategy(c);
  ASSERT_TRUE(tick(*s, "4000", t0));
  s->settled(false, t0);  // risk refused it: nothing was sent
  ASSERT_TRUE(tick(*s, "4000", t0 + 1s));
  s->settled(true, t0 + 2s);
  EXPECT_FALSE(tick(*s, "4000", t0 + 10s));
  EXPECT_TRUE(tick(*s, "4000", t0 + 16s));
}

TEST(ConvertStrategy, MinimumRateRefusesWorsePrices) {
  strategy_config c;
  c.common = common(strategy_kind::convert);
  c.common.min_rate = d("3990");
  c.convert.amount = d("10");
  auto s = make_strategy(c);
  EXPECT_FALSE(tick(*s, "3985", t0));
  EXPECT_NE(s->last_reason().find("below the minimum"), std::string::npos);
  auto intent = tick(*s, "3995", t0 + 1s);
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->min_receive, d("39900"));  // amount * min_rate
}

TEST(ThresholdStrategy, FiresWhenTheRateCrossesThenCoolsDown) {
  strategy_config c;
  c.common = common(strategy_kind::threshold);
  c.threshold.amount = d("50");
  c.threshold.rate_at_least = d("4000");
  c.threshold.cooldown = 20s;
  auto s = make_strategy(c);
  EXPECT_FALSE(tick(*s, "3999.99", t0));
  auto intent = tick(*s, "4001", t0 + 1s);
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->amount, d("50"));
  s->settled(true, t0 + 2s);
  EXPECT_FALSE(tick(*s, "4100", t0 + 10s));  // cooling down
  EXPECT_TRUE(tick(*s, "4100", t0 + 22s));
}

TEST(ThresholdStrategy, RateAtMostFiresBelowTheLimit) {
  strategy_config c;
  c.common = common(strategy_kind::threshold, "COPM", "USDT");
  c.threshold.amount = d("40000");
  c.threshold.rate_at_most = d("0.00025");
  auto s = make_strategy(c);
  EXPECT_FALSE(tick(*s, "0.00026", t0));
  EXPECT_TRUE(tick(*s, "0.00024", t0 + 1s));
}

TEST(RebalanceStrategy, BuysTheShortfallOnTheProviderAndStaysQuietInTheBand) {
  strategy_config c = stablestack_band();
  auto s = make_strategy(c);
  const std::vector<balance_entry> low{{"stablestack", "USDC", d("50000")},
                                       {"stablestack", "USDT", d("1000")},
                                       {"onek", "USDC", d("90000")}};
  auto intent = tick(*s, "0.5", t0, low);  // 200 USDC short at 0.5 USDC per USDT
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->spend_asset, "USDT");
  EXPECT_EQ(intent->receive_asset, "USDC");
  EXPECT_EQ(intent->amount, d("400"));
  s->settled(true, t0 + 1s);
  const std::vector<balance_entry> ok{{"stablestack", "USDC", d("50200")}};
  EXPECT_FALSE(tick(*s, "0.5", t0 + 2s, ok));
  EXPECT_NE(s->last_reason().find("within"), std::string::npos);
}

TEST(RebalanceStrategy, CapsTheSpendAndSellsASurplusInTotal) {
  strategy_config c;
  c.common = common(strategy_kind::rebalance, "USDT", "USDC");
  c.rebalance.min = d("100");
  c.rebalance.max = d("200");
  c.rebalance.max_spend = d("30");
  auto s = make_strategy(c);
  // In total (no provider): 40 + 20 = 60 < 100; target 150 needs 90 at rate 1, capped at 30.
  auto buy =
      tick(*s, "1", t0,
           {{"onek", "USDC", d("40")}, {"kiiex", "USDC", d("20")}, {"onek", "USDT", d("50")}});
  ASSERT_TRUE(buy);
  EXPECT_EQ(buy->amount, d("30"));
  s->settled(true, t0);
  auto sell = tick(*s, "1", t0 + 1s, {{"onek", "USDC", d("240")}});
  ASSERT_TRUE(sell);
  EXPECT_EQ(sell->spend_asset, "USDC");
  EXPECT_EQ(sell->receive_asset, "USDT");
  EXPECT_EQ(sell->amount, d("30"));
}

TEST(TwapStrategy, SlicesTheTotalEvenlyOverThePeriod) {
  strategy_config c;
  c.common = common(strategy_kind::twap, "USDT", "BTC");
  c.twap.total = d("100");
  c.twap.slices = 3;
  c.twap.period = 30s;
  auto s = make_strategy(c);
  std::vector<decimal> amounts;
  for (int second = 0; second <= 40; ++second) {
    auto intent = tick(*s, "0.0000153", t0 + std::chrono::seconds(second));
    if (!intent) continue;
    amounts.push_back(intent->amount);
    // Slice k is due at k * 10 s.
    EXPECT_EQ(second, 10 * (static_cast<int>(amounts.size()) - 1));
    s->settled(true, t0 + std::chrono::seconds(second));
  }
  ASSERT_EQ(amounts.size(), 3u);
  EXPECT_EQ(amounts[0], d("33.333333"));
  EXPECT_EQ(amounts[1], d("33.333333"));
  EXPECT_EQ(amounts[2], d("33.333334"));  // the remainder: the total is spent exactly
  EXPECT_EQ(s->last_reason(), "every slice sent");
}

TEST(Strategy, NoRouteMeansNoIntent) {
  strategy_config c;
  c.common = common(strategy_kind::convert);
  c.convert.amount = d("10");
  auto s = make_strategy(c);
  market_view v;
  v.now = t0;
  probe_answer none;
  none.asked = s->probes(t0, v).front();
  v.quotes.push_back(none);
  EXPECT_FALSE(s->on_tick(v));
  EXPECT_FALSE(s->in_flight());
}

TEST(ConvertStrategy, SlippageFloorRoundsTheMinimumReceiveUp) {
  strategy_config c;
  c.common = common(strategy_kind::convert);
  c.common.max_slippage_percent = d("1");
  c.convert.amount = d("1");
  auto s = make_strategy(c);
  // Net 100.000000000000000001 less 1 % is 99.00000000000000000099 exactly: 18 places hold it only
  // rounded, and a floor rounded down would accept more slippage than configured.
  auto intent = tick(*s, "100.000000000000000001", t0);
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->min_receive, d("99.000000000000000001"));
}

TEST(RebalanceStrategy, NeverSpendsMoreThanTheSourceAvailableOnTheProvider) {
  strategy_config c = stablestack_band();
  c.common.providers = {"stablestack"};
  auto s = make_strategy(c);
  // 200 USDC short at 0.5 needs 400 USDT, but stablestack holds 150 (the 9000 at onek cannot pay).
  auto intent = tick(*s, "0.5", t0,
                     {{"stablestack", "USDC", d("50000")},
                      {"stablestack", "USDT", d("150")},
                      {"onek", "USDT", d("9000")}});
  ASSERT_TRUE(intent);
  EXPECT_EQ(intent->amount, d("150"));
  s->settled(true, t0 + 1s);
  // Nothing left to spend there: no intent.
  EXPECT_FALSE(tick(*s, "0.5", t0 + 2s, {{"stablestack", "USDC", d("50075")}}));
  EXPECT_FALSE(s->in_flight());
}

TEST(RebalanceStrategy, SwapsOnlyOnTheProviderWhoseBalanceItKeeps) {
  strategy_config c = stablestack_band();
  c.common.providers = {};  // every provider may be used by default
  auto s = make_strategy(c);
  const std::vector<balance_entry> low{{"stablestack", "USDC", d("50000")},
                                       {"stablestack", "USDT", d("1000")}};
  market_view probe_view;
  probe_view.now = t0;
  probe_view.balances = low;
  const auto probes = s->probes(t0, probe_view);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].providers, (std::vector<std::string>{"stablestack"}));
  // A swap elsewhere would not raise stablestack's USDC: the intent stays there.
  auto buy = s->on_tick(market(probes, "0.5", t0, low));
  ASSERT_TRUE(buy);
  EXPECT_EQ(buy->providers, (std::vector<std::string>{"stablestack"}));
  s->settled(true, t0 + 1s);
  auto sell = tick(*s, "1", t0 + 2s, {{"stablestack", "USDC", d("60100")}});
  ASSERT_TRUE(sell);
  EXPECT_EQ(sell->spend_asset, "USDC");
  EXPECT_EQ(sell->providers, (std::vector<std::string>{"stablestack"}));
}

TEST(TwapStrategy, AFailedOrPartialSliceIsCarriedNotLost) {
  strategy_config c;
  c.common = common(strategy_kind::twap, "USDT", "BTC");
  c.twap.total = d("300");
  c.twap.slices = 3;
  c.twap.period = 30s;
  auto s = make_strategy(c);
  auto first = tick(*s, "0.0000153", t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->amount, d("100"));
  s->settled(true, t0 + 1s, d("0"));  // reached its provider, rejected: nothing spent
  auto second = tick(*s, "0.0000153", t0 + 10s);
  ASSERT_TRUE(second);
  // The 300 left over the two slices left: the 100 the first did not spend is made up by both.
  EXPECT_EQ(second->amount, d("150"));
  s->settled(true, t0 + 11s, d("120"));  // partly filled
  auto third = tick(*s, "0.0000153", t0 + 20s);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->amount, d("180"));  // 300 in all
  // An outcome not known (a leg unknown) counts as spent: never more than the total.
  s->settled(true, t0 + 21s);
  EXPECT_FALSE(tick(*s, "0.0000153", t0 + 40s));
  EXPECT_EQ(s->last_reason(), "every slice sent");
}

// Balances read before its own swap settled do not show that swap: the strategy does not decide
// on them (it would buy the same shortfall twice), whatever they say, until a read after it.
TEST(RebalanceStrategy, NeverDecidesOnBalancesReadBeforeItsLastSwapSettled) {
  strategy_config c = stablestack_band();
  auto s = make_strategy(c);
  const std::vector<balance_entry> low{{"stablestack", "USDC", d("50000")},
                                       {"stablestack", "USDT", d("1000")}};
  ASSERT_TRUE(tick(*s, "0.5", t0, low));
  s->settled(true, t0 + 2s);
  // The same tick's view, read at t0 + 1 s (before the swap settled): still short, quoted, but
  // stale.
  market_view before =
      market({probe{"USDT", "USDC", d("500"), {"stablestack"}}}, "0.5", t0 + 3s, low);
  before.balances_at = t0 + 1s;
  EXPECT_TRUE(s->probes(before.now, before).empty());
  EXPECT_FALSE(s->on_tick(before));
  EXPECT_NE(s->last_reason().find("balances read before its last swap settled"), std::string::npos)
      << s->last_reason();
  // Read after it: the swap shows and the balance is in the band.
  const std::vector<balance_entry> after{{"stablestack", "USDC", d("50200")},
                                         {"stablestack", "USDT", d("600")}};
  EXPECT_FALSE(tick(*s, "0.5", t0 + 4s, after));
  EXPECT_NE(s->last_reason().find("within"), std::string::npos) << s->last_reason();
  // A later shortfall read after the swap is bought again.
  EXPECT_TRUE(tick(*s, "0.5", t0 + 5s, low));
}

// min_rate is a price in `to` per `from`: a rebalance buys `to` at it or better and sells `to`
// back at it or better, paying at most 3950 COPM per USDT (receiving at least amount / 3950). Its
// sell's own rate, USDT per COPM, is never compared with 3950 (which refused every sell).
TEST(RebalanceStrategy, SellsBackAtMinRateOrBetter) {
  strategy_config c;
  c.common = common(strategy_kind::rebalance, "USDT", "COPM");
  c.common.min_rate = d("3950");
  c.rebalance.min = d("100000");
  c.rebalance.max = d("200000");
  c.rebalance.target = d("150000");
  c.rebalance.max_spend = d("1000");
  auto s = make_strategy(c);
  const std::vector<balance_entry> high{{"onek", "COPM", d("250000")}};
  // 1000 COPM for 0.25 USDT: 4000 COPM per USDT, a worse price than 3950.
  EXPECT_FALSE(tick(*s, "0.00025", t0, high));
  EXPECT_NE(s->last_reason().find("a price above the limit of 3950 COPM per USDT"),
            std::string::npos)
      << s->last_reason();
  // 1000 COPM for 0.2564 USDT: 3900 COPM per USDT.
  auto sell = tick(*s, "0.0002564", t0 + 1s, high);
  ASSERT_TRUE(sell) << s->last_reason();
  EXPECT_EQ(sell->spend_asset, "COPM");
  EXPECT_EQ(sell->amount, d("1000"));
  EXPECT_EQ(sell->min_receive, d("1000").div(d("3950"), rounding::up).value());
}

// A total too small to split at six places (2 millionths in 5 slices): the first slice takes it
// all, and the TWAP is then done rather than sending empty slices.
TEST(TwapStrategy, ATotalTooSmallToSplitGoesInOneSlice) {
  strategy_config c;
  c.common = common(strategy_kind::twap, "USDT", "BTC");
  c.twap.total = d("0.000002");
  c.twap.slices = 5;
  c.twap.period = 50s;
  auto s = make_strategy(c);
  auto first = tick(*s, "0.0000153", t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->amount, d("0.000002"));
  s->settled(true, t0 + 1s, d("0.000002"));
  EXPECT_FALSE(tick(*s, "0.0000153", t0 + 10s));
  EXPECT_EQ(s->last_reason(), "every slice sent");
  EXPECT_FALSE(tick(*s, "0.0000153", t0 + 60s));
}

}  // namespace
}  // namespace swaprouter::strategies
