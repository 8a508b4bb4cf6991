// Risk limits: caps per swap and per day, provider exposure, the kill switch file, unknown legs
// and the automatic halts on reliability signals (unknown outcomes, expired legs, 429s, clock
// jumps, circuits open too long).
#include "strategies/risk.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <tuple>

namespace swaprouter::strategies {
namespace {

using namespace std::chrono_literals;

decimal d(std::string_view text) { return decimal::parse(text).value(); }

const wall_time t0 = wall_time(std::chrono::seconds(1'790'000'000));

swap_intent usdt(std::string_view amount) {
  swap_intent i;
  i.spend_asset = "USDT";
  i.receive_asset = "COPM";
  i.amount = d(amount);
  return i;
}

TEST(Risk, PerSwapCap) {
  risk_config c;
  c.max_per_swap["USDT"] = d("1000");
  risk_guard r(c);
  EXPECT_TRUE(r.admit(usdt("1000"), t0).allowed);
  const auto refused = r.admit(usdt("1000.01"), t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("per-swap cap"), std::string::npos);
  swap_intent other = usdt("5000");
  other.spend_asset = "USDC";  // no cap on USDC
  EXPECT_TRUE(r.admit(other, t0).allowed);
}

TEST(Risk, DailyCapCountsOpenedIntentsAndResetsAtMidnightUtc) {
  risk_config c;
  c.max_per_day["USDT"] = d("250");
  risk_guard r(c);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(r.admit(usdt("100"), t0).allowed);
    r.opened("I" + std::to_string(i), usdt("100"), {}, t0);
  }
  EXPECT_EQ(r.spent_today("USDT"), d("200"));
  const auto refused = r.admit(usdt("100"), t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("daily cap"), std::string::npos);
  EXPECT_TRUE(r.admit(usdt("50"), t0).allowed);
  EXPECT_TRUE(r.admit(usdt("100"), t0 + 24h).allowed);
}

TEST(Risk, ProviderExposureIsReleasedWhenTheIntentCloses) {
  risk_config c;
  c.provider_exposure["onek"]["USDT"] = d("150");
  risk_guard r(c);
  const std::vector<provider_spend> plan{{"onek", "USDT", d("100")}, {"kiiex", "USDT", d("900")}};
  ASSERT_TRUE(r.admit_plan("I1", plan).allowed);
  r.opened("I1", usdt("1000"), plan, t0);
  EXPECT_EQ(r.exposure("onek", "USDT"), d("100"));
  const auto refused = r.admit_plan("I2", {{"onek", "USDT", d("60")}});
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("onek exposure"), std::string::npos);
  r.closed("I1");
  EXPECT_TRUE(r.admit_plan("I2", {{"onek", "USDT", d("60")}}).allowed);
}

TEST(Risk, KillSwitchFileStopsNewIntentsWhileItExists) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("swaprouter-kill-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove(path);
  risk_config c;
  c.kill_switch = path.string();
  std::vector<std::string> halts;
  risk_guard r(c, {}, [&](std::string_view why) { halts.emplace_back(why); });
  EXPECT_TRUE(r.admit(usdt("1"), t0).allowed);
  std::ofstream(path) << "stop\n";
  const auto refused = r.admit(usdt("1"), t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("kill switch"), std::string::npos);
  EXPECT_FALSE(r.admit(usdt("1"), t0).allowed);
  ASSERT_EQ(halts.size(), 1u);  // logged once, not at every refusal
  EXPECT_NE(halts[0].find(path.string()), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_TRUE(r.admit(usdt("1"), t0).allowed);
}

TEST(Risk, BurstOfUnknownOutcomesHaltsUntilResumed) {
  risk_config c;
  c.unknown_burst = 3;
  c.unknown_window = 60s;
  c.max_unknown_legs = 100;
  std::vector<std::string> halts;
  risk_guard r(c, {}, [&](std::string_view why) { halts.emplace_back(why); });
  r.unknown_outcome("L1", t0);
  r.unknown_outcome("L2", t0 + 70s);  // L1 left the window
  EXPECT_FALSE(r.halted());
  r.unknown_outcome("L3", t0 + 80s);
  EXPECT_FALSE(r.halted());
  r.unknown_outcome("L4", t0 + 90s);
  ASSERT_TRUE(r.halted());
  ASSERT_EQ(halts.size(), 1u);
  EXPECT_EQ(halts[0], "3 unknown outcomes within 60s");
  const auto refused = r.admit(usdt("1"), t0 + 91s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reason, "halted: 3 unknown outcomes within 60s");
  r.resume();
  EXPECT_TRUE(r.admit(usdt("1"), t0 + 92s).allowed);
}

TEST(Risk, TooManyUnknownLegsHalts) {
  risk_config c;
  c.max_unknown_legs = 2;
  c.unknown_burst = 100;
  risk_guard r(c);
  r.unknown_outcome("L1", t0);
  r.unknown_outcome("L2", t0 + 1h);
  EXPECT_EQ(r.unknown_legs(), 2u);
  EXPECT_FALSE(r.admit(usdt("1"), t0 + 2h).allowed);
  EXPECT_TRUE(r.halted());
  EXPECT_EQ(r.halt_reason(), "2 unknown legs (max 2)");
  r.unknown_resolved("L1");
  r.resume();
  EXPECT_TRUE(r.admit(usdt("1"), t0 + 3h).allowed);
}

// Reliability signals (issue 8 "Risk"): each halts with its own signal name, reason and time, and
// nothing below its threshold does.
struct halt_log {
  std::vector<std::string> reasons;
  risk_guard::halt_fn sink() {
    return [this](std::string_view why) { reasons.emplace_back(why); };
  }
};

TEST(RiskSignals, BurstOfExpiredLegsHalts) {
  risk_config c;
  c.expired_burst = 3;
  c.expired_window = 30s;
  halt_log log;
  risk_guard r(c, {}, log.sink());
  r.quote_expired("L1", t0);
  r.quote_expired("L2", t0 + 10s);
  r.quote_expired("L3", t0 + 41s);  // L1 and L2 left the window
  r.quote_expired("L4", t0 + 50s);
  EXPECT_FALSE(r.halted());
  r.quote_expired("L5", t0 + 55s);
  ASSERT_TRUE(r.halted());
  EXPECT_EQ(r.halt_signal(), "expired_quotes");
  EXPECT_EQ(r.halt_reason(), "3 legs expired before executing within 30s (last: leg L5)");
  EXPECT_EQ(r.halted_at(), t0 + 55s);
  ASSERT_EQ(log.reasons, std::vector<std::string>{r.halt_reason()});
  EXPECT_EQ(r.admit(usdt("1"), t0 + 56s).reason, "halted: " + r.halt_reason());
  r.resume();
  EXPECT_FALSE(r.halted());
  EXPECT_EQ(r.halt_signal(), "");
  EXPECT_FALSE(r.halted_at().has_value());
  r.quote_expired("L6", t0 + 57s);  // the window was cleared by the resume
  EXPECT_FALSE(r.halted());
}

TEST(RiskSignals, BurstOf429sAcrossProvidersHalts) {
  risk_config c;
  c.rate_limited_burst = 10;
  c.rate_limited_window = 60s;
  halt_log log;
  risk_guard r(c, {}, log.sink());
  r.rate_limited("onek", 4, t0);
  r.rate_limited("kiiex", 5, t0 + 30s);
  r.rate_limited("onek", 0, t0 + 40s);  // a reading without new 429s never halts
  EXPECT_FALSE(r.halted());
  r.rate_limited("kiiex", 3, t0 + 61s);  // the first 4 left the window: 8
  EXPECT_FALSE(r.halted());
  r.rate_limited("oxapay", 2, t0 + 62s);
  ASSERT_TRUE(r.halted());
  EXPECT_EQ(r.halt_signal(), "rate_limited");
  EXPECT_EQ(r.halt_reason(), "10 HTTP 429 answers within 60s (last from oxapay)");
  EXPECT_EQ(log.reasons.size(), 1u);
  r.rate_limited("oxapay", 50, t0 + 63s);  // already halted: reported once
  EXPECT_EQ(log.reasons.size(), 1u);
}

TEST(RiskSignals, ClockOffsetJumpHalts) {
  risk_config c;
  c.max_clock_jump = 2000ms;
  halt_log log;
  risk_guard r(c, {}, log.sink());
  r.clock_offset("onek", 1500ms, t0);  // the first reading is the baseline, however large
  r.clock_offset("onek", 2900ms, t0 + 1s);
  r.clock_offset("onek", 900ms, t0 + 2s);  // 2000 ms exactly is tolerated
  r.clock_offset("stablestack", -40000ms, t0 + 2s);
  EXPECT_FALSE(r.halted());
  r.clock_offset("onek", -1101ms, t0 + 3s);
  ASSERT_TRUE(r.halted());
  EXPECT_EQ(r.halt_signal(), "clock_jump");
  EXPECT_EQ(r.halt_reason(),
            "onek clock offset jumped from 900 ms to -1101 ms (max change 2000 ms)");
  EXPECT_EQ(r.halted_at(), t0 + 3s);
}

TEST(RiskSignals, CircuitOpenTooLongHalts) {
  risk_config c;
  c.max_circuit_open = 60s;
  halt_log log;
  risk_guard r(c, {}, log.sink());
  r.circuit("kiiex", circuit_state::open, t0);
  r.circuit("kiiex", circuit_state::half_open, t0 + 30s);
  r.circuit("kiiex", circuit_state::closed, t0 + 40s);  // recovered: the clock restarts
  r.circuit("kiiex", circuit_state::open, t0 + 50s);
  r.circuit("kiiex", circuit_state::open, t0 + 110s);  // 60 s exactly is tolerated
  r.circuit("onek", circuit_state::closed, t0 + 110s);
  EXPECT_FALSE(r.halted());
  r.circuit("kiiex", circuit_state::half_open, t0 + 111s);
  ASSERT_TRUE(r.halted());
  EXPECT_EQ(r.halt_signal(), "circuit_open");
  EXPECT_EQ(r.halt_reason(), "kiiex circuit half_open for 61s (max 60s)");
  r.resume();
  r.circuit("kiiex", circuit_state::open, t0 + 112s);  // still open: a full period again
  r.circuit("kiiex", circuit_state::open, t0 + 171s);
  EXPECT_FALSE(r.halted());
  r.circuit("kiiex", circuit_state::open, t0 + 173s);
  EXPECT_TRUE(r.halted());
  EXPECT_EQ(log.reasons.size(), 2u);
}

TEST(RiskSignals, UnknownOutcomesAndOperatorHaltsCarryTheirSignal) {
  risk_config c;
  c.unknown_burst = 2;
  risk_guard r(c);
  r.unknown_outcome("L1", t0);
  r.unknown_outcome("L2", t0 + 1s);
  EXPECT_EQ(r.halt_signal(), "unknown_outcomes");
  EXPECT_EQ(r.halted_at(), t0 + 1s);
  r.halt("operator request");  // already halted: the first cause stays
  EXPECT_EQ(r.halt_signal(), "unknown_outcomes");
  r.unknown_resolved("L1");
  r.unknown_resolved("L2");
  r.resume();
  r.halt("maintenance");
  EXPECT_EQ(r.halt_signal(), "operator");
  EXPECT_EQ(r.halt_reason(), "maintenance");
  EXPECT_TRUE(r.halted_at().has_value());
}

TEST(Risk, DailyCapKeepsWhatAClosedIntentActuallySpent) {
  risk_config c;
  c.max_per_day["USDT"] = d("1000");
  risk_guard r(c);
  ASSERT_TRUE(r.admit(usdt("600"), t0).allowed);
  r.opened("I1", usdt("600"), {}, t0);
  EXPECT_FALSE(r.admit(usdt("600"), t0).allowed);  // 600 held while it runs
  r.closed("I1", d("0"));                          // rejected at its provider: nothing spent
  EXPECT_EQ(r.spent_today("USDT"), d("0"));
  ASSERT_TRUE(r.admit(usdt("600"), t0 + 1s).allowed);
  r.opened("I2", usdt("600"), {}, t0 + 1s);
  r.closed("I2", d("250"));  // partly filled
  EXPECT_EQ(r.spent_today("USDT"), d("250"));
  // An outcome not known keeps the whole amount.
  ASSERT_TRUE(r.admit(usdt("700"), t0 + 2s).allowed);
  r.opened("I3", usdt("700"), {}, t0 + 2s);
  r.closed("I3");
  EXPECT_EQ(r.spent_today("USDT"), d("950"));
  // Closed the next UTC day: yesterday's spend is not taken from today's.
  r.opened("I4", usdt("50"), {}, t0 + 3s);
  ASSERT_TRUE(r.admit(usdt("100"), t0 + 24h).allowed);
  r.opened("I5", usdt("100"), {}, t0 + 24h);
  r.closed("I4", d("0"));
  EXPECT_EQ(r.spent_today("USDT"), d("100"));
}

// An intent that paid more than its amount (a fee charged in the spend asset on top of it, KIIEX):
// the day's spend counts what it paid.
TEST(Risk, DailyCapCountsAFeePaidOnTopOfTheAmount) {
  risk_config c;
  c.max_per_day["USDT"] = d("1000");
  risk_guard r(c);
  ASSERT_TRUE(r.admit(usdt("600"), t0).allowed);
  r.opened("I1", usdt("600"), {}, t0);
  r.closed("I1", d("601.5"));
  EXPECT_EQ(r.spent_today("USDT"), d("601.5"));
  EXPECT_TRUE(r.admit(usdt("398.5"), t0 + 1s).allowed);
  EXPECT_FALSE(r.admit(usdt("398.51"), t0 + 1s).allowed);
}

// A two-hop route USDT -> USDC at onek, USDC -> COPM at kiiex puts USDC at kiiex while it runs:
// kiiex's USDC cap sees it (only the first leg was counted).
TEST(Risk, ExposureCountsEveryLegOfAMultiHopRoute) {
  plan p;
  planned_route route;
  for (const auto& [provider, spend, receive, amount] :
       {std::tuple{"onek", "USDT", "USDC", "100"}, std::tuple{"kiiex", "USDC", "COPM", "99.5"}}) {
    planned_leg leg;
    leg.order.provider = provider;
    leg.order.spend_asset = spend;
    leg.order.receive_asset = receive;
    leg.order.amount = d(amount);
    route.legs.push_back(leg);
  }
  p.routes.push_back(route);
  const auto spend = spend_of(p);
  ASSERT_EQ(spend.size(), 2u);
  EXPECT_EQ(spend[1].provider, "kiiex");
  EXPECT_EQ(spend[1].asset, "USDC");
  EXPECT_EQ(spend[1].amount, d("99.5"));
  risk_config c;
  c.provider_exposure["kiiex"]["USDC"] = d("50");
  risk_guard r(c);
  const auto refused = r.admit_plan("I1", spend);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NE(refused.reason.find("kiiex exposure"), std::string::npos) << refused.reason;
}

// A remainder the executor re-plans meets the caps of the providers it now goes to, counts
// against them once admitted, and is refused while the bot is halted.
TEST(Risk, ARemainderMeetsTheExposureCapsOfItsNewProviders) {
  risk_config c;
  c.provider_exposure["kiiex"]["USDT"] = d("150");
  risk_guard r(c);
  const std::vector<provider_spend> first{{"onek", "USDT", d("100")}};
  ASSERT_TRUE(r.admit_plan("I1", first).allowed);
  r.opened("I1", usdt("100"), first, t0);
  r.opened("I2", usdt("100"), {{"kiiex", "USDT", d("100")}}, t0);
  // I1's leg at onek filled 40: its 60 USDT re-planned at kiiex would bring it to 160.
  const auto refused = r.admit_remainder("I1", {{"kiiex", "USDT", d("60")}});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reason, "kiiex exposure would reach 160 USDT, above its cap 150");
  EXPECT_EQ(r.exposure("kiiex", "USDT"), d("100"));
  ASSERT_TRUE(r.admit_remainder("I1", {{"kiiex", "USDT", d("50")}}).allowed);
  EXPECT_EQ(r.exposure("kiiex", "USDT"), d("150"));
  r.closed("I1");
  EXPECT_EQ(r.exposure("kiiex", "USDT"), d("100"));
  r.halt("operator stop");
  const auto halted = r.admit_remainder("I2", {{"onek", "USDT", d("1")}});
  EXPECT_FALSE(halted.allowed);
  EXPECT_EQ(halted.reason, "halted: operator stop");
}

// An exact-receive intent's amount is what it is to receive (4 000 000 COPM here), not what it
// spends: the caps see its plan's spend of USDT (a two-hop route's USDC leg is no USDT spend), on
// admission and in the day's spend.
TEST(Risk, AnExactReceiveIntentCountsItsPlansSpend) {
  risk_config c;
  c.max_per_swap["USDT"] = d("1000");
  c.max_per_day["USDT"] = d("1500");
  risk_guard r(c);
  swap_intent intent = usdt("4000000");
  intent.side = amount_side::receive;
  const std::vector<provider_spend> plan{
      {"onek", "USDT", d("600")}, {"kiiex", "USDT", d("300.5")}, {"kiiex", "USDC", d("299")}};
  EXPECT_EQ(intent_spend(intent, plan), d("900.5"));
  EXPECT_EQ(intent_spend(usdt("700"), plan), d("700"));

  ASSERT_TRUE(r.admit(intent, t0).allowed);
  ASSERT_TRUE(r.admit_spend(intent, plan, t0).allowed);
  r.opened("I1", intent, plan, t0);
  EXPECT_EQ(r.spent_today("USDT"), d("900.5"));
  EXPECT_EQ(r.exposure("kiiex", "USDC"), d("299"));

  const std::vector<provider_spend> big{{"onek", "USDT", d("1000.01")}};
  const auto per_swap = r.admit_spend(intent, big, t0);
  EXPECT_FALSE(per_swap.allowed);
  EXPECT_EQ(per_swap.reason, "1000.01 USDT above the per-swap cap 1000");
  const auto daily = r.admit_spend(intent, {{"onek", "USDT", d("600")}}, t0);
  EXPECT_FALSE(daily.allowed);
  EXPECT_EQ(daily.reason, "600 USDT would bring today's spend to 1500.5, above the daily cap 1500");
  r.closed("I1", d("899"));
  EXPECT_EQ(r.spent_today("USDT"), d("899"));
}

// An amount near decimal's range (POST /intents takes any positive decimal) overflowed today's
// spend or a provider's exposure: std::overflow_error out of admit() ended the bot. It is refused.
TEST(Risk, AnAmountBeyondTheCapsRangeIsRefusedNotThrown) {
  risk_config c;
  c.max_per_day["USDT"] = d("10000");
  c.provider_exposure["onek"]["USDT"] = d("2000");
  risk_guard r(c);
  r.opened("I1", usdt("5"), {{"onek", "USDT", d("5")}}, t0);
  const std::string huge = "170141183460469231731";
  risk_decision day{true, ""};
  ASSERT_NO_THROW(day = r.admit(usdt(huge), t0 + 1s));
  EXPECT_FALSE(day.allowed);
  EXPECT_NE(day.reason.find("above the daily cap 10000"), std::string::npos) << day.reason;
  risk_decision exposure{true, ""};
  ASSERT_NO_THROW(exposure = r.admit_plan("I2", {{"onek", "USDT", d(huge)}}));
  EXPECT_FALSE(exposure.allowed);
  EXPECT_NE(exposure.reason.find("above its cap 2000"), std::string::npos) << exposure.reason;
}

}  // namespace
}  // namespace swaprouter::strategies
