// OxaPay parsing: the seed's POST /v1/general/swap answer, the documented envelopes, pairs,
// history and balances, read into exact decimals from JSON numbers; hostile bodies refused.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "adapters/oxapay/parse.hpp"
#include "oxapay_samples.hpp"

namespace swaprouter::oxapay {
namespace {

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

TEST(OxaPayParse, SeedSwapAnswerExactFromNumbers) {
  auto s = parse_swap(samples::seed_swap);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->track_id, "393831199");
  EXPECT_EQ(s->from_currency, "USDT");
  EXPECT_EQ(s->to_currency, "BTC");
  EXPECT_EQ(s->from_amount, dec("10"));
  EXPECT_EQ(s->to_amount, dec("0.0001054"));
  EXPECT_EQ(s->rate, dec("94876.66034156"));
  EXPECT_EQ(s->date.time_since_epoch(), std::chrono::seconds(1736508792));
  const leg_status st = to_leg_status(*s, "intent-1/leg-0");
  EXPECT_EQ(st.state, leg_state::filled);
  EXPECT_EQ(st.ref.provider_ref, "393831199");
  EXPECT_EQ(st.direction_code, "USDT-BTC");
  EXPECT_EQ(st.receive_filled, dec("0.0001054"));
}

TEST(OxaPayParse, ErrorEnvelopes) {
  const provider_error e = parse_error_body(samples::documented_error);
  EXPECT_EQ(e.type, "validation_error");
  EXPECT_EQ(e.key, "lifetime");
  EXPECT_EQ(e.message, "The lifetime field must be an integer.");
  EXPECT_EQ(e.status, 400);
  const provider_error other = parse_error_body("upstream connect error");
  EXPECT_EQ(other.type, "");
  EXPECT_EQ(other.status, 0);
  EXPECT_EQ(other.message, "upstream connect error");
  EXPECT_FALSE(parse_swap(samples::documented_error).has_value());
}

TEST(OxaPayParse, PairsHistoryCalculateRateAndBalances) {
  auto pairs = parse_pairs(samples::pairs);
  ASSERT_TRUE(pairs.has_value()) << pairs.error().message;
  ASSERT_EQ(pairs->list.size(), 2u);
  EXPECT_EQ(pairs->list[1].min_amount, dec("0.00005"));
  EXPECT_EQ(pairs->last_page, 1);
  auto history = parse_history(samples::history);
  ASSERT_TRUE(history.has_value()) << history.error().message;
  ASSERT_EQ(history->list.size(), 1u);
  EXPECT_EQ(history->list[0].type, "swapByApi");
  EXPECT_EQ(history->list[0].to_amount, dec("39.8"));
  auto calc = parse_calculation(
      R"({"data":{"to_amount":39.8,"rate":3.98,"amount":10},"message":"ok","error":{},)"
      R"("status":200,"version":"1.0.0"})");
  ASSERT_TRUE(calc.has_value()) << calc.error().message;
  EXPECT_EQ(calc->rate, dec("3.98"));
  auto rate = parse_rate(R"({"data":{"rate":94763.06},"message":"ok","error":{},"status":200,)"
                         R"("version":"1.0.0"})");
  ASSERT_TRUE(rate.has_value());
  EXPECT_EQ(*rate, dec("94763.06"));
  auto balances = parse_balances(samples::balances);
  ASSERT_TRUE(balances.has_value()) << balances.error().message;
  ASSERT_EQ(balances->size(), 2u);
  EXPECT_EQ((*balances)[0].asset, "USDT");
  EXPECT_EQ((*balances)[0].available, dec("10.5"));
  EXPECT_EQ((*balances)[1].available, dec("0.0022866845"));
}

TEST(OxaPayParse, HostileBodiesAreRefused) {
  EXPECT_FALSE(parse_swap(std::string(100000, '[')).has_value());
  EXPECT_FALSE(parse_balances(R"({"data":{"USDT":1e400},"status":200})").has_value());
  EXPECT_FALSE(parse_balances(R"({"data":{"USDT":-1},"status":200})").has_value());
  EXPECT_FALSE(parse_swap(R"({"data":{"track_id":"1","track_id":"2"},"status":200})").has_value());
  EXPECT_FALSE(
      parse_balances(R"({"data":{"USDT":0.1234567890123456789012},"status":200})").has_value());
}

}  // namespace
}  // namespace swaprouter::oxapay
