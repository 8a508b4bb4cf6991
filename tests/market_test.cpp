// The simulated market's walk and the account ledger.
#include "adapters/sim/market.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "adapters/sim/ledger.hpp"

namespace swaprouter::sim {
namespace {

using std::chrono::seconds;

decimal d(std::string_view text) {
  auto value = decimal::parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(decimal{});
}

market_config config(std::uint64_t seed, double volatility) {
  return market_config{
      .seed = seed, .volatility = volatility, .assets = default_assets(), .rates = {}};
}

std::vector<decimal> prices(const market& m) {
  std::vector<decimal> out;
  for (const auto& code : m.asset_codes()) out.push_back(*m.mid_usd(code));
  return out;
}

TEST(market, has_the_built_in_assets) {
  market m(config(1, 0.0));
  for (auto code : {"USDT", "USDC", "COPM", "BTC", "ETH", "TRX", "LTC", "EUR", "NGN"}) {
    ASSERT_NE(m.find_asset(code), nullptr) << code;
    EXPECT_TRUE(m.mid_usd(code)->is_positive()) << code;
  }
  EXPECT_EQ(m.find_asset("XYZ"), nullptr);
  EXPECT_EQ(m.mid_usd("XYZ").error().kind, error_kind::not_found);
  EXPECT_EQ(m.mid_rate("USDT", "XYZ").error().kind, error_kind::not_found);
}

TEST(market, mid_rate_is_the_exact_price_ratio) {
  market m(config(1, 0.0));
  EXPECT_EQ(*m.mid_rate("BTC", "USDT"), d("65000"));
  EXPECT_EQ(*m.mid_rate("USDT", "COPM"), d("4000"));
  EXPECT_EQ(*m.mid_rate("COPM", "USDT"), d("0.00025"));
  EXPECT_EQ(*m.mid_rate("USDT", "USDT"), d("1"));
  // 1/65000 = 0.0000153846153846153..., kept to 12 significant digits, half-even.
  EXPECT_EQ(*m.mid_rate("USDT", "BTC"), d("0.0000153846153846"));
}

TEST(market, volatility_zero_keeps_prices_fixed) {
  market m(config(7, 0.0));
  const auto before = prices(m);
  for (int i = 0; i < 1000; ++i) m.advance(seconds(1));
  EXPECT_EQ(prices(m), before);
  EXPECT_EQ(m.elapsed(), seconds(1000));
}

TEST(market, same_seed_same_walk) {
  market a(config(42, 0.001));
  market b(config(42, 0.001));
  market c(config(43, 0.001));
  const auto start = prices(a);
  for (int i = 0; i < 200; ++i) {
    a.advance(std::chrono::milliseconds(250));
    b.advance(std::chrono::milliseconds(250));
    c.advance(std::chrono::milliseconds(250));
    ASSERT_EQ(prices(a), prices(b)) << "step " << i;
  }
  EXPECT_NE(prices(a), start);
  EXPECT_NE(prices(a), prices(c));
}

TEST(market, walk_keeps_twelve_significant_digits_and_stays_positive) {
  market m(config(3, 0.05));
  for (int i = 0; i < 500; ++i) {
    m.advance(seconds(1));
    for (const auto& code : m.asset_codes()) {
      const decimal price = *m.mid_usd(code);
      ASSERT_TRUE(price.is_positive()) << code;
      EXPECT_EQ(round_significant(price, market::significant_digits, rounding::half_even), price);
    }
  }
}

TEST(market, walk_has_the_configured_volatility) {
  // Log returns of a geometric walk over 1 s steps have standard deviation sigma. The test reads
  // prices as doubles only to measure them.
  const double sigma = 0.01;
  market_config cfg = config(11, sigma);
  market m(cfg);
  std::vector<double> returns;
  double last = std::stod(m.mid_usd("BTC")->to_string());
  for (int i = 0; i < 4000; ++i) {
    m.advance(seconds(1));
    const double now = std::stod(m.mid_usd("BTC")->to_string());
    returns.push_back(std::log(now / last));
    last = now;
  }
  double mean = 0;
  for (double r : returns) mean += r;
  mean /= static_cast<double>(returns.size());
  double var = 0;
  for (double r : returns) var += (r - mean) * (r - mean);
  const double measured = std::sqrt(var / static_cast<double>(returns.size() - 1));
  EXPECT_NEAR(measured, sigma, sigma * 0.1);
}

TEST(market, per_asset_volatility_overrides_the_default) {
  market_config cfg = config(5, 0.01);
  for (auto& asset : cfg.assets) {
    if (asset.code == "USDT") asset.volatility = 0.0;
  }
  market m(cfg);
  const decimal usdt = *m.mid_usd("USDT");
  const decimal btc = *m.mid_usd("BTC");
  m.advance(seconds(1));
  EXPECT_EQ(*m.mid_usd("USDT"), usdt);
  EXPECT_NE(*m.mid_usd("BTC"), btc);

  // A market volatility of 0 fixes every asset except those with their own volatility.
  cfg = config(5, 0.0);
  for (auto& asset : cfg.assets) {
    if (asset.code == "BTC") asset.volatility = 0.01;
  }
  market only_btc(cfg);
  const decimal eth = *only_btc.mid_usd("ETH");
  only_btc.advance(seconds(1));
  EXPECT_NE(*only_btc.mid_usd("BTC"), btc);
  EXPECT_EQ(*only_btc.mid_usd("ETH"), eth);
}

TEST(market, pinned_rates_win_and_do_not_move) {
  market_config cfg = config(9, 0.01);
  cfg.rates[{"USDT", "COPM"}] = d("3990.5");
  market m(cfg);
  EXPECT_EQ(*m.mid_rate("USDT", "COPM"), d("3990.5"));
  for (int i = 0; i < 10; ++i) m.advance(seconds(1));
  EXPECT_EQ(*m.mid_rate("USDT", "COPM"), d("3990.5"));
  EXPECT_NE(*m.mid_rate("COPM", "USDT"), d("3990.5"));  // only that direction is pinned

  ASSERT_TRUE(m.set_rate("BTC", "USDT", d("70000")));
  EXPECT_EQ(*m.mid_rate("BTC", "USDT"), d("70000"));
  m.clear_rate("BTC", "USDT");
  EXPECT_NE(*m.mid_rate("BTC", "USDT"), d("70000"));
  EXPECT_FALSE(m.set_rate("BTC", "USDT", d("0")));
}

TEST(market, set_mid_usd) {
  market m(config(1, 0.0));
  ASSERT_TRUE(m.set_mid_usd("BTC", d("70000")));
  EXPECT_EQ(*m.mid_rate("BTC", "USDT"), d("70000"));
  EXPECT_EQ(m.set_mid_usd("BTC", d("-1")).error().kind, error_kind::invalid_argument);
  EXPECT_EQ(m.set_mid_usd("XYZ", d("1")).error().kind, error_kind::not_found);
}

TEST(market, rejects_bad_configuration) {
  market_config cfg = config(1, 0.0);
  cfg.assets.front().mid_usd = d("0");
  EXPECT_THROW(market{cfg}, std::invalid_argument);
  cfg = config(1, -0.1);
  EXPECT_THROW(market{cfg}, std::invalid_argument);
  cfg = config(1, 0.0);
  cfg.assets.push_back(cfg.assets.front());
  EXPECT_THROW(market{cfg}, std::invalid_argument);
}

TEST(round_significant, keeps_the_given_digits) {
  EXPECT_EQ(round_significant(d("65000.123456789"), 6, rounding::half_even), d("65000.1"));
  EXPECT_EQ(round_significant(d("0.000123456789"), 3, rounding::half_even), d("0.000123"));
  EXPECT_EQ(round_significant(d("0.000123556789"), 3, rounding::down), d("0.000123"));
  EXPECT_EQ(round_significant(d("123456"), 2, rounding::half_even), d("123456"));
  EXPECT_EQ(round_significant(d("0"), 3, rounding::half_even), d("0"));
  EXPECT_EQ(round_significant(d("-1.23456"), 3, rounding::half_even), d("-1.23"));
}

class ledger_test : public ::testing::Test {
 protected:
  std::chrono::system_clock::time_point now_{
      std::chrono::sys_days{std::chrono::January / 15 / 2023}};
  ledger ledger_{[this] { return now_; }};
};

TEST_F(ledger_test, credit_and_debit) {
  ASSERT_TRUE(ledger_.credit("USDT", d("100.5")));
  ASSERT_TRUE(ledger_.debit("USDT", d("0.5")));
  EXPECT_EQ(ledger_.balance("USDT").available, d("100"));
  EXPECT_EQ(ledger_.balance("USDT").frozen, d("0"));
  const auto refused = ledger_.debit("USDT", d("100.000001"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, error_kind::rejected);
  EXPECT_EQ(ledger_.balance("USDT").available, d("100"));
}

TEST_F(ledger_test, freeze_unfreeze_and_debit_frozen) {
  ASSERT_TRUE(ledger_.set("BTC", d("1")));
  ASSERT_TRUE(ledger_.freeze("BTC", d("0.4")));
  EXPECT_EQ(ledger_.balance("BTC").available, d("0.6"));
  EXPECT_EQ(ledger_.balance("BTC").frozen, d("0.4"));
  EXPECT_FALSE(ledger_.freeze("BTC", d("0.6000001")));
  EXPECT_FALSE(ledger_.unfreeze("BTC", d("0.4000001")));
  EXPECT_FALSE(ledger_.debit_frozen("BTC", d("0.5")));
  ASSERT_TRUE(ledger_.unfreeze("BTC", d("0.1")));
  ASSERT_TRUE(ledger_.debit_frozen("BTC", d("0.3")));
  EXPECT_EQ(ledger_.balance("BTC").available, d("0.7"));
  EXPECT_EQ(ledger_.balance("BTC").frozen, d("0"));
}

TEST_F(ledger_test, refuses_negative_amounts) {
  for (auto op : {&ledger::credit, &ledger::debit, &ledger::freeze, &ledger::unfreeze,
                  &ledger::debit_frozen}) {
    const auto r = (ledger_.*op)("USDT", d("-1"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, error_kind::invalid_argument);
  }
  EXPECT_FALSE(ledger_.set("USDT", d("-1")));
  EXPECT_FALSE(ledger_.set("USDT", d("1"), d("-1")));
}

TEST_F(ledger_test, untouched_assets_are_zero_and_refusals_do_not_create_entries) {
  EXPECT_EQ(ledger_.balance("ETH").available, d("0"));
  EXPECT_FALSE(ledger_.debit("ETH", d("1")));
  EXPECT_TRUE(ledger_.entries().empty());
}

TEST_F(ledger_test, stamps_updated_at_from_its_clock) {
  ASSERT_TRUE(ledger_.credit("USDT", d("1")));
  const auto first = ledger_.balance("USDT").updated_at;
  EXPECT_EQ(first, now_);
  now_ += seconds(5);
  ASSERT_TRUE(ledger_.freeze("USDT", d("1")));
  EXPECT_EQ(ledger_.balance("USDT").updated_at, now_);
  EXPECT_FALSE(ledger_.freeze("USDT", d("1")));
  now_ += seconds(5);
  EXPECT_EQ(ledger_.balance("USDT").updated_at, now_ - seconds(5));  // a refusal changes nothing
}

TEST_F(ledger_test, random_operations_never_go_negative_and_conserve_value) {
  std::mt19937_64 rng(2024);
  ASSERT_TRUE(ledger_.set("USDT", d("1000")));
  decimal credited = d("1000");
  decimal debited;
  for (int i = 0; i < 20000; ++i) {
    const auto amount = decimal::from_raw(static_cast<int128>(rng() % 200'000'000) *
                                          1'000'000'000'000);  // 0 .. 200 with 6 places
    switch (rng() % 5) {
      case 0:
        if (ledger_.credit("USDT", amount)) credited += amount;
        break;
      case 1:
        if (ledger_.debit("USDT", amount)) debited += amount;
        break;
      case 2:
        (void)ledger_.freeze("USDT", amount);
        break;
      case 3:
        (void)ledger_.unfreeze("USDT", amount);
        break;
      default:
        if (ledger_.debit_frozen("USDT", amount)) debited += amount;
        break;
    }
    const auto b = ledger_.balance("USDT");
    ASSERT_FALSE(b.available.is_negative());
    ASSERT_FALSE(b.frozen.is_negative());
    ASSERT_EQ(b.available + b.frozen, credited - debited);
  }
}

}  // namespace
}  // namespace swaprouter::sim
