// Risk limits: caps per swap and per day, provider exposure, the kill switch file, unknown legs
// and the automatic halt on a burst of unknown outcomes.
#include "strategies/risk.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace swaprouter::strategies
