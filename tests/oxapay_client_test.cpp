// OxaPay client: exact requests and the general_api_key header, indicative quotes with the rate
// fallback, and the outcome mapping of POST /general/swap against a scripted HTTP client.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "adapters/oxapay/client.hpp"
#include "oxapay_samples.hpp"

namespace swaprouter::oxapay {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

template <class T>
T run(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(value));
  });
  io.run();
  return std::move(*out);
}

class scripted_http final : public http_client {
 public:
  boost::asio::awaitable<result<http_response>> send(http_request request,
                                                     std::chrono::steady_clock::duration) override {
    sent.push_back(request);
    if (script.empty()) co_return fail(error_kind::internal, "unscripted " + request.target);
    auto next = std::move(script.front());
    script.pop_front();
    co_return next;
  }
  boost::asio::awaitable<void> warm(std::size_t) override { co_return; }
  http_client_stats stats() const override { return {}; }
  const http_endpoint& endpoint() const override { return endpoint_; }
  void answer(int status, std::string body) {
    script.emplace_back(http_response{.status = status, .headers = {}, .body = std::move(body)});
  }
  void fail_with(error_kind kind) { script.emplace_back(fail(kind, "scripted transport error")); }

  std::vector<http_request> sent;
  std::deque<result<http_response>> script;

 private:
  http_endpoint endpoint_;
};

std::string ok(std::string_view data) {
  return fmt::format(R"({{"data":{},"message":"ok","error":{{}},"status":200,"version":"1.0.0"}})",
                     data);
}

// The documented history with a copy of its swap 393831001 as `track_id` of `type`, listed
// before it (`first`) or after it.
std::string history_with(std::string_view track_id, std::string_view type, bool first) {
  std::string out(samples::history);
  const std::string original = R"({"track_id":"393831001")";
  const auto at = out.find(original);
  const auto end = out.find('}', at) + 1;
  std::string copy = out.substr(at, end - at);
  copy.replace(0, original.size(), fmt::format(R"({{"track_id":"{}")", track_id));
  copy.replace(copy.find("swapByApi"), 9, type);
  if (first) {
    out.insert(at, copy + ",");
  } else {
    out.insert(end, "," + copy);
  }
  return out;
}

class OxaPayClient : public ::testing::Test {
 protected:
  client& make() {
    client_clocks clocks;
    clocks.wall = [this] { return wall_; };
    clocks.steady = [this] { return steady_; };
    client_.emplace(http_, "oxa_key", options_, clocks);
    return *client_;
  }
  static leg usdt_trx(std::string_view amount) {
    leg l;
    l.spend_asset = "USDT";
    l.receive_asset = "TRX";
    l.amount = dec(amount);
    return l;
  }
  scripted_http http_;
  client_options options_;
  wall_time wall_{std::chrono::seconds(1736508790)};
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::optional<client> client_;
};

TEST_F(OxaPayClient, SwapRequestIsExact) {
  request_builder b("YOUR_GENERAL_API_KEY");
  auto r = b.swap("BTC", "USDT", dec("0.5"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/v1/general/swap");
  EXPECT_THAT(r->headers, ElementsAre(Pair("Accept", "application/json"),
                                      Pair("Content-Type", "application/json"),
                                      Pair("general_api_key", "YOUR_GENERAL_API_KEY")));
  // The seed's curl body, amount a JSON number from the exact decimal text.
  EXPECT_EQ(r->body, R"({"amount":0.5,"from_currency":"BTC","to_currency":"USDT"})");
  EXPECT_EQ(b.rate("BTC", "USDT")->body, R"({"from_currency":"BTC","to_currency":"USDT"})");
  EXPECT_EQ(b.calculate("USDT", "TRX", dec("0.00000001"))->body,
            R"({"amount":0.00000001,"from_currency":"USDT","to_currency":"TRX"})");
  EXPECT_EQ(b.balance().target, "/v1/general/account/balance");
  EXPECT_EQ(b.pairs(1).target, "/v1/general/swap/pairs?page=1");
  history_params h;
  h.track_id = "393831199";
  EXPECT_EQ(b.history(h)->target, "/v1/general/swap?track_id=393831199");
  EXPECT_FALSE(b.swap("BT C", "USDT", dec("1")).has_value());
}

// What price() answers for a calculation, and the planner's model of it (venue::pricing_for):
// the functions the decision benchmark times.
TEST(OxaPayQuote, QuoteAndPricingModelOfACalculation) {
  const wall_time at{std::chrono::seconds(1767323045)};
  const quote q = quote_of("USDT-USDC", "USDT", "USDC", dec("1000"), dec("996.123456789"), 8, at);
  EXPECT_EQ(q.provider, "oxapay");
  EXPECT_EQ(q.direction_code, "USDT-USDC");
  EXPECT_EQ(q.spend_asset, "USDT");
  EXPECT_EQ(q.receive_asset, "USDC");
  EXPECT_EQ(q.fee_asset, "USDC");
  EXPECT_EQ(q.spend_amount, dec("1000"));
  EXPECT_EQ(q.receive_gross, dec("996.123456789"));
  EXPECT_EQ(q.receive_net, dec("996.12345678"));
  EXPECT_EQ(q.model, pricing_model::indicative);
  EXPECT_FALSE(q.firm);
  EXPECT_EQ(q.obtained_at, at);
  EXPECT_FALSE(q.valid_until.has_value());

  const pricing p = quote_pricing(q, dec("1000.000000001"));
  EXPECT_EQ(p.provider, "oxapay");
  EXPECT_EQ(p.model, pricing_model::indicative);
  EXPECT_EQ(p.spend_precision, 0);  // the first precision at which the asked amount is 1000
  EXPECT_EQ(p.rate_spend, dec("1000"));
  EXPECT_EQ(p.rate_receive, dec("996.12345678"));
  EXPECT_EQ(p.min_spend, dec("1000"));
  EXPECT_EQ(p.max_spend, dec("1000"));
  EXPECT_FALSE(p.firm);
  EXPECT_FALSE(p.quoted_spend.has_value());
  EXPECT_TRUE(p.quote_id.empty());
  EXPECT_EQ(p.obtained_at, at);
}

TEST_F(OxaPayClient, IndicativeQuoteAndRateFallback) {
  client& c = make();
  http_.answer(200, std::string(samples::pairs));
  http_.answer(200, ok(R"({"to_amount":39.8,"rate":3.98,"amount":10})"));
  auto q = run(c.price({"USDT", "TRX", amount_side::spend, dec("10")}));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->model, pricing_model::indicative);
  EXPECT_FALSE(q->firm);
  EXPECT_FALSE(q->valid_until.has_value());
  EXPECT_EQ(q->receive_net, dec("39.8"));
  EXPECT_EQ(http_.sent[1].target, "/v1/general/swap/calculate");

  http_.answer(429, R"({"data":{},"message":"Too many","error":{"type":"rate_limit_error",)"
                    R"("key":"","message":"Too many"},"status":429,"version":"1.0.0"})");
  http_.answer(200, ok(R"({"rate":3.98})"));
  auto fallback = run(c.price({"USDT", "TRX", amount_side::spend, dec("10")}));
  ASSERT_TRUE(fallback.has_value()) << describe(fallback.error());
  EXPECT_EQ(fallback->receive_net, dec("39.8"));
  EXPECT_EQ(http_.sent.back().target, "/v1/general/swap/rate");

  auto small = run(c.price({"USDT", "TRX", amount_side::spend, dec("4.99")}));
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().kind, error_kind::rejected);
}

struct outcome_case {
  std::string name;
  int status;
  error_kind transport;
  std::string body;
  error_kind expected;
};

class OxaPaySubmitOutcome : public OxaPayClient,
                            public ::testing::WithParamInterface<outcome_case> {};

TEST_P(OxaPaySubmitOutcome, MapsAndNeverResends) {
  const outcome_case& oc = GetParam();
  client& c = make();
  if (oc.status == 0) {
    http_.fail_with(oc.transport);
  } else {
    http_.answer(oc.status, oc.body);
  }
  auto s = run(c.submit(usdt_trx("10"), "id-x"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, oc.expected) << describe(s.error());
  EXPECT_EQ(http_.sent.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OxaPaySubmitOutcome,
    ::testing::Values(
        outcome_case{
            "below_minimum",
            400,
            {},
            R"({"data":{},"message":"x","error":{"type":"business_error","key":"amount",)"
            R"j("message":"Amount is below the minimum (5)"},"status":400,"version":"1"})j",
            error_kind::rejected},
        outcome_case{
            "validation", 400, {}, std::string(samples::documented_error), error_kind::rejected},
        outcome_case{"disguised_timeout",
                     400,
                     {},
                     R"({"data":{},"message":"x","error":{"type":"x","key":"",)"
                     R"("message":"request timed out"},"status":400,"version":"1"})",
                     error_kind::unknown_outcome},
        outcome_case{"bare_400", 400, {}, "Bad Request", error_kind::unknown_outcome},
        outcome_case{"auth", 401, {}, "{}", error_kind::auth},
        outcome_case{"rate_limited", 429, {}, "{}", error_kind::rate_limited},
        outcome_case{"server_error", 500, {}, "", error_kind::unknown_outcome},
        outcome_case{"unreadable_200", 200, {}, "{\"data\":", error_kind::unknown_outcome},
        outcome_case{"reset", 0, error_kind::reset, "", error_kind::unknown_outcome},
        outcome_case{"timeout", 0, error_kind::timeout, "", error_kind::unknown_outcome}),
    [](const auto& info) { return info.param.name; });

TEST_F(OxaPayClient, SubmitIsFinalAtOnce) {
  client& c = make();
  std::string body(samples::history);
  http_.answer(200, ok(R"({"track_id":"393831001","from_currency":"USDT","to_currency":"TRX",)"
                       R"("from_amount":10.0000000000,"to_amount":39.8000000000,"rate":3.98,)"
                       R"("date":1736508792})"));
  auto s = run(c.submit(usdt_trx("10"), "id-1"));
  ASSERT_TRUE(s.has_value()) << describe(s.error());
  EXPECT_EQ(s->state, leg_state::filled);
  EXPECT_EQ(s->ref.provider_ref, "393831001");
  EXPECT_EQ(s->receive_filled, dec("39.8"));
  http_.answer(200, body);
  auto st = run(c.status(s->ref));
  ASSERT_TRUE(st.has_value()) << describe(st.error());
  EXPECT_EQ(http_.sent[1].target, "/v1/general/swap?track_id=393831001");
}

TEST_F(OxaPayClient, FindSearchesHistoryByPairTimeAndAmount) {
  client& c = make();
  http_.answer(502, "");
  ASSERT_EQ(run(c.submit(usdt_trx("10"), "id-2")).error().kind, error_kind::unknown_outcome);
  http_.answer(200, std::string(samples::history));
  auto found = run(c.find("id-2", usdt_trx("10"), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "393831001");
  EXPECT_EQ(http_.sent[1].target,
            "/v1/general/swap?from_currency=USDT&to_currency=TRX&from_date=1736508760&"
            "to_date=1736509090&page=1&size=200");
  // Another amount: nothing.
  http_.answer(200, std::string(samples::history));
  auto none = run(c.find("id-3", usdt_trx("11"), {}));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

// After a restart the client knows none of the swaps it made; the journal (held) tells it that
// 393831001 is another leg's, so 393831002 of the same pair and amount is the one candidate.
TEST_F(OxaPayClient, FindNeverCountsASwapAnotherLegHolds) {
  client& c = make();
  const std::string two = history_with("393831002", "swapByApi", false);
  http_.answer(200, two);
  auto unknown = run(c.find("id-4", usdt_trx("10"), {}));
  ASSERT_FALSE(unknown.has_value()) << "without the journal both are candidates";
  EXPECT_EQ(unknown.error().kind, error_kind::bad_response);
  EXPECT_NE(unknown.error().message.find("inconsistent: 2 swaps match"), std::string::npos)
      << describe(unknown.error());

  std::vector<std::string> asked;
  const held_swaps held = [&](std::string_view ref) {
    asked.emplace_back(ref);
    return ref == "393831001";
  };
  http_.answer(200, two);
  auto found = run(c.find("id-4", usdt_trx("10"), held));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "393831002");
  EXPECT_EQ((*found)->ref.client, "id-4");
  EXPECT_EQ((*found)->spend_filled, dec("10"));
  EXPECT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(asked, (std::vector<std::string>{"393831001", "393831002"}));
}

TEST_F(OxaPayClient, BalancesFromTheDocumentedMap) {
  client& c = make();
  http_.answer(200, std::string(samples::balances));
  auto b = run(c.balances());
  ASSERT_TRUE(b.has_value()) << describe(b.error());
  EXPECT_EQ((*b)[1].asset, "BTC");
  EXPECT_EQ((*b)[1].available, dec("0.0022866845"));
  EXPECT_EQ(find_header(http_.sent[0].headers, "general_api_key"), "oxa_key");
}

// The history lists every swap of the account: OxaPay's own auto-conversions of received
// payments (autoConvert) and swaps made by hand in the panel (manualSwap) beside ours
// (swapByApi). Only a swapByApi swap can be the one our POST made.
TEST_F(OxaPayClient, FindNeverAdoptsASwapNotMadeThroughTheApi) {
  client& c = make();
  std::string other(samples::history);
  other.replace(other.find("swapByApi"), 9, "autoConvert");
  http_.answer(200, other);
  auto none = run(c.find("id-8", usdt_trx("10"), {}));
  ASSERT_TRUE(none.has_value()) << describe(none.error());
  EXPECT_FALSE(none->has_value()) << "adopted " << (*none)->ref.provider_ref;

  // Ours beside a manual swap of the same pair and amount: ours is the one candidate.
  client& fresh = make();
  http_.answer(200, history_with("393831009", "manualSwap", true));
  auto found = run(fresh.find("id-9", usdt_trx("10"), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "393831001");
}

// A history that runs past the pages find() reads proves nothing: the swap, or a second
// candidate beside the one found, may be on a page left unread. find() answered "none" (or
// adopted the match it saw); it now answers an error that leaves the leg unknown.
TEST_F(OxaPayClient, FindConcludesNothingFromAHistoryItDidNotReadToTheEnd) {
  options_.find_max_pages = 1;
  client& c = make();
  std::string more(samples::history);
  more.replace(more.find(R"("last_page":1)"), 13, R"("last_page":2)");
  std::string other_amount = more;
  other_amount.replace(other_amount.find(R"("from_amount":10.00000000)"), 25,
                       R"("from_amount":12.00000000)");
  for (const std::string& page : {other_amount, more}) {
    http_.answer(200, page);
    auto found = run(c.find("id-8", usdt_trx("10"), {}));
    ASSERT_FALSE(found.has_value()) << "concluded from one page of two";
    EXPECT_EQ(found.error().kind, error_kind::bad_response);
    EXPECT_EQ(found.error().message,
              "oxapay: the history in the window runs past the 1 pages read: nothing concluded");
  }
  EXPECT_EQ(http_.sent.size(), 2u);
}

}  // namespace
}  // namespace swaprouter::oxapay
