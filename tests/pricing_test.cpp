#include "engine/pricing.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string_view>

namespace swaprouter {

void PrintTo(const decimal& value, std::ostream* out) { *out << value.to_string(); }

namespace {

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

// 001k BTC-USDT as VENUES.md reads the seed: spend 1 BTC, receive 29485.25 USDT gross.
pricing onek_btc_usdt() {
  pricing p;
  p.provider = "onek";
  p.direction_code = "BTC-USDT";
  p.spend_asset = "BTC";
  p.receive_asset = "USDT";
  p.spend_precision = 8;
  p.receive_precision = 6;
  p.fee_percent = dec("0.25");
  p.min_spend = dec("0.001");
  p.max_spend = dec("10");
  p.rate_spend = dec("1");
  p.rate_receive = dec("29485.25");
  p.exact_receive = true;
  return p;
}

pricing ask_book() {
  pricing p;
  p.provider = "kiiex";
  p.spend_asset = "USDT";
  p.receive_asset = "COPM";
  p.model = pricing_model::order_book;
  p.spend_precision = 2;
  p.receive_precision = 8;
  p.fee_percent = dec("0.1");
  p.book.side = book_side::buy;
  p.book.quantity_increment = dec("0.01");
  p.book.levels = {{dec("100"), dec("1")}, {dec("101"), dec("2")}, {dec("102"), dec("5")}};
  return p;
}

TEST(Pricing, RateTableSeedSample) {
  auto q = price_spend(onek_btc_usdt(), dec("0.01"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->spend, dec("0.01"));
  EXPECT_EQ(q->gross, dec("294.8525"));
  EXPECT_EQ(q->fee, dec("0.73713125"));
  EXPECT_EQ(q->net, dec("294.115368"));
  EXPECT_FALSE(q->firm);
  // The spend is rounded down to its precision first.
  q = price_spend(onek_btc_usdt(), dec("0.0100000099"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->spend, dec("0.01"));
}

TEST(Pricing, RateTableExactReceiveFollowsTheProvider) {
  auto q = price_receive(onek_btc_usdt(), dec("294.115368"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->spend, dec("0.01"));
  EXPECT_EQ(q->net, dec("294.115368"));
  q = price_receive(onek_btc_usdt(), dec("294.1153601"));
  ASSERT_TRUE(q.has_value());
  EXPECT_GE(q->net, dec("294.1153601"));
}

TEST(Pricing, LimitsNameTheRule) {
  const pricing p = onek_btc_usdt();
  EXPECT_EQ(price_spend(p, dec("0.0009")).error().reason, price_failure::min_spend);
  EXPECT_EQ(price_spend(p, dec("10.1")).error().reason, price_failure::max_spend);
  EXPECT_EQ(price_spend(p, dec("0.000000001")).error().reason, price_failure::precision);
  pricing tight = p;
  tight.min_receive = dec("300");
  EXPECT_EQ(price_spend(tight, dec("0.01")).error().reason, price_failure::min_receive);
  tight = p;
  tight.max_receive = dec("294.85");
  EXPECT_EQ(price_spend(tight, dec("0.01")).error().reason, price_failure::max_receive);
  tight = p;
  tight.available = dec("0.005");
  auto e = price_spend(tight, dec("0.01"));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().reason, price_failure::balance);
  EXPECT_EQ(describe(e.error()), "balance: spend 0.01 above the 0.005 available");
  tight = p;
  tight.fee_fixed = dec("300");
  EXPECT_EQ(price_spend(tight, dec("0.01")).error().reason, price_failure::zero_receive);
}

TEST(Pricing, FixedFeeAndIncrement) {
  pricing p = onek_btc_usdt();
  p.fee_fixed = dec("1.5");
  p.receive_increment = dec("0.01");
  auto q = price_spend(p, dec("0.01"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->fee, dec("2.23713125"));
  EXPECT_EQ(q->net, dec("292.61"));  // 292.61536875 down to the increment
}

TEST(Pricing, OrderBookWalkWithPartialLastLevel) {
  auto q = price_spend(ask_book(), dec("400"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  // 1 @ 100, 2 @ 101, then 98 left buys 0.96 @ 102 = 97.92.
  EXPECT_EQ(q->spend, dec("399.92"));
  EXPECT_EQ(q->gross, dec("3.96"));
  EXPECT_EQ(q->fee, dec("0.00396"));
  EXPECT_EQ(q->net, dec("3.95604"));
  EXPECT_EQ(q->levels, 3);
}

TEST(Pricing, OrderBookInsufficientDepth) {
  auto q = price_spend(ask_book(), dec("1000"));
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().reason, price_failure::depth);
  EXPECT_EQ(q.error().limit, dec("812"));
  EXPECT_EQ(bounds_of(ask_book()).high, dec("812"));
  EXPECT_TRUE(price_spend(ask_book(), dec("812")).has_value());
}

TEST(Pricing, OrderBookSellSide) {
  pricing p;
  p.model = pricing_model::order_book;
  p.spend_precision = 8;
  p.receive_precision = 2;
  p.fee_percent = dec("0.2");
  p.book.side = book_side::sell;
  p.book.quantity_increment = dec("0.001");
  p.book.levels = {{dec("4000"), dec("0.5")}, {dec("3990"), dec("1")}};
  auto q = price_spend(p, dec("1.0004"));  // rounded down to the increment
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->spend, dec("1"));
  EXPECT_EQ(q->gross, dec("3995"));
  EXPECT_EQ(q->fee, dec("7.99"));
  EXPECT_EQ(q->net, dec("3987.01"));
  EXPECT_EQ(q->levels, 2);
}

TEST(Pricing, OrderBookExactReceiveIsTheSmallestSpend) {
  auto q = price_receive(ask_book(), dec("3.95604"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_GE(q->net, dec("3.95604"));
  auto less = price_spend(ask_book(), q->spend - dec("0.01"));
  ASSERT_TRUE(less.has_value());
  EXPECT_LT(less->net, dec("3.95604"));
}

// A minimum quantity the doubling search steps over on its way to the maximum spend: 3.5 COPM
// costs 353 USDT, between the search's 327.68 and 655.36, and 655.36 is above the 400 maximum.
TEST(Pricing, OrderBookExactReceiveBetweenTheLastDoublingAndTheMaximum) {
  pricing p = ask_book();
  p.min_receive = dec("3.5");
  p.max_spend = dec("400");
  auto q = price_receive(p, dec("0.00000001"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->spend, dec("353"));
  EXPECT_EQ(q->gross, dec("3.5"));
  // Beyond the maximum it still fails from above.
  EXPECT_EQ(price_receive(p, dec("4")).error().reason, price_failure::max_spend);
}

// A walk from the whole-level sums is the walk itself: levels taken whole come from the sums,
// the one taken in part is walked.
TEST(Pricing, BookSumsPriceAsTheWalk) {
  const pricing p = ask_book();
  const book_sums sums = sums_of(p);
  ASSERT_EQ(sums.whole.size(), 3u);
  EXPECT_EQ(sums.whole[0].reach, dec("100"));
  EXPECT_EQ(sums.whole[1].reach, dec("302"));
  EXPECT_EQ(sums.whole[2].reach, dec("812"));
  EXPECT_EQ(sums.whole[2].spent, dec("812"));
  EXPECT_EQ(sums.whole[2].received, dec("8"));
  EXPECT_EQ(sums.whole[2].fee, dec("0.008"));
  EXPECT_FALSE(sums.below.has_value());  // 100 x 10^20 is beyond the range: no division limit
  for (const char* amount :
       {"0.01", "99.99", "100", "301.99", "302", "400", "811.99", "812", "1000"}) {
    const auto plain = price_spend(p, dec(amount));
    const auto summed = price_spend(p, dec(amount), p.available, &sums);
    ASSERT_EQ(plain.has_value(), summed.has_value()) << amount;
    if (!plain) {
      EXPECT_EQ(plain.error().reason, summed.error().reason) << amount;
      EXPECT_EQ(plain.error().limit, summed.error().limit) << amount;
      continue;
    }
    EXPECT_EQ(plain->spend, summed->spend) << amount;
    EXPECT_EQ(plain->gross, summed->gross) << amount;
    EXPECT_EQ(plain->fee, summed->fee) << amount;
    EXPECT_EQ(plain->net, summed->net) << amount;
    EXPECT_EQ(plain->levels, summed->levels) << amount;
  }
  const auto q = price_spend(p, dec("400"), p.available, &sums);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->spend, dec("399.92"));
  EXPECT_EQ(q->net, dec("3.95604"));
  EXPECT_EQ(q->levels, 3);
}

// A buy level is taken whole only when what is left divides into its whole quantity: its value
// rounded at 18 places (0.03 x 0.333333333333333333 down to 0.009999999999999999) is not enough.
TEST(Pricing, BookSumsReachCoversTheExactValue) {
  pricing p = ask_book();
  p.spend_precision = 18;
  p.book.levels = {{dec("0.333333333333333333"), dec("0.03")}, {dec("0.5"), dec("1")}};
  const book_sums sums = sums_of(p);
  ASSERT_EQ(sums.whole.size(), 2u);
  EXPECT_EQ(sums.whole[0].spent, dec("0.009999999999999999"));
  EXPECT_EQ(sums.whole[0].reach, dec("0.01"));
  ASSERT_TRUE(sums.below.has_value());
  const decimal left = dec("0.009999999999999999");
  const auto plain = price_spend(p, left);
  const auto summed = price_spend(p, left, p.available, &sums);
  ASSERT_TRUE(plain.has_value());
  ASSERT_TRUE(summed.has_value());
  EXPECT_EQ(summed->gross, dec("0.02"));  // one increment less than the level
  EXPECT_EQ(summed->gross, plain->gross);
  EXPECT_EQ(summed->spend, plain->spend);
  EXPECT_EQ(summed->levels, plain->levels);
  // A quantity off the increment is never taken whole: the sums stop before it.
  p.book.levels[0].quantity = dec("0.035");
  EXPECT_TRUE(sums_of(p).whole.empty());
}

TEST(Pricing, IndicativeAndFirm) {
  pricing p;
  p.model = pricing_model::indicative;
  p.spend_precision = 2;
  p.receive_precision = 2;
  p.rate_receive = dec("4000.5");
  auto q = price_spend(p, dec("10"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->net, dec("40005"));
  EXPECT_EQ(q->fee, decimal{});
  EXPECT_FALSE(q->firm);
  // A firm quote binds only at its amount: from 20 to 19.6.
  p.model = pricing_model::firm_quote;
  p.firm = true;
  p.rate_spend = dec("20");
  p.rate_receive = dec("19.6");
  p.quoted_spend = dec("20");
  q = price_spend(p, dec("20"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->net, dec("19.6"));
  EXPECT_TRUE(q->firm);
  q = price_spend(p, dec("10"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->net, dec("9.8"));
  EXPECT_FALSE(q->firm);
}

TEST(Pricing, WorstCaseMovesRatesAgainstUs) {
  pricing p = onek_btc_usdt();
  p.slippage_percent = dec("1");
  EXPECT_EQ(worst_case(p).rate_receive, dec("29190.3975"));
  pricing b = ask_book();
  b.slippage_percent = dec("1");
  EXPECT_EQ(worst_case(b).book.levels[0].price, dec("101"));
}

}  // namespace
}  // namespace swaprouter
