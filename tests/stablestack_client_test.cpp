// StableStack client: exact requests and headers, firm quotes, and the outcome mapping of
// POST /swaps against a scripted HTTP client (no sockets, fixed key and clocks).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "adapters/stablestack/client.hpp"
#include "engine/json_read.hpp"
#include "stablestack_samples.hpp"
#include "tests/support/run_together.hpp"

namespace swaprouter::stablestack {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr std::string_view test_key = "ss_test_key_0001";

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
    if (hold_next) {
      // In flight until release(): the answer is taken now, given then.
      hold_next = false;
      boost::asio::steady_timer wake(co_await boost::asio::this_coro::executor,
                                     boost::asio::steady_timer::time_point::max());
      held = &wake;
      co_await wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      held = nullptr;
    }
    co_return next;
  }
  boost::asio::awaitable<int> release() {
    held->cancel();
    co_return 0;
  }
  boost::asio::awaitable<void> warm(std::size_t) override { co_return; }
  http_client_stats stats() const override { return {}; }
  const http_endpoint& endpoint() const override { return endpoint_; }

  void answer(int status, std::string body, http_headers headers = {}) {
    script.emplace_back(
        http_response{.status = status, .headers = std::move(headers), .body = std::move(body)});
  }
  void fail_with(error_kind kind) { script.emplace_back(fail(kind, "scripted transport error")); }

  std::vector<http_request> sent;
  std::deque<result<http_response>> script;
  bool hold_next = false;  // the next request stays in flight until release()
  boost::asio::steady_timer* held = nullptr;

 private:
  http_endpoint endpoint_;
};

std::string quote_body(std::string_view id, std::string_view amount, std::string_view to_amount,
                       std::string_view updated, std::string_view expires) {
  return fmt::format(
      R"({{"status":"success","data":{{"status":"success","message":"Successful","data":{{)"
      R"("id":"{}","from_currency":"USDT","to_currency":"USDC","quoted_price":"0.99",)"
      R"("quoted_currency":"USDC","from_amount":"{}","to_amount":"{}","confirmed":false,)"
      R"("expires_at":"{}","created_at":"{}","updated_at":"{}","user":{{}}}}}}}})",
      id, amount, to_amount, expires, updated, updated);
}

// A USDT -> USDC quote answered at 13:25:`second` on the test day, valid 15 s.
std::string quote_at(std::string_view id, std::string_view amount, std::string_view to_amount,
                     int second) {
  const auto at = [](int s) { return fmt::format("2025-05-21T13:25:{:02}.000Z", s); };
  return quote_body(id, amount, to_amount, at(second), at(second + 15));
}

// price() of `amount` USDT for USDC (a coroutine: the request, a named local for GCC PR 99576,
// lives until the call has read it).
boost::asio::awaitable<result<quote>> price_of(client& c, std::string_view amount) {
  const quote_request request{"USDT", "USDC", amount_side::spend, dec(amount)};
  co_return co_await c.price(request);
}

// The seed's answer with the amount the client sent (the seed's own 0.13 does not match "1").
std::string swap_body_for(std::string_view amount) {
  std::string body(samples::seed_swap);
  body.replace(body.find("0.13000000"), 10, std::string(amount));
  return body;
}

class StableStackClient : public ::testing::Test {
 protected:
  client& make(std::optional<std::string> customer = std::nullopt) {
    client_options o;
    o.customer_id = customer;
    direction d;
    d.spend_asset = "USDT";
    d.receive_asset = "USDC";
    d.enabled = true;
    d.spend_precision = 2;
    d.receive_precision = 2;
    o.directions.push_back(d);
    o.find_max_pages = find_max_pages_;
    client_clocks clocks;
    clocks.wall = [this] { return wall_; };
    clocks.steady = [this] { return steady_; };
    client_.emplace(http_, std::string(test_key), o, clocks);
    return *client_;
  }

  static leg usdt_usdc(std::string_view amount, std::string quote_id = {}) {
    leg l;
    l.provider = "stablestack";
    l.direction_code = "USDT-USDC";
    l.spend_asset = "USDT";
    l.receive_asset = "USDC";
    l.amount = dec(amount);
    l.quote_id = std::move(quote_id);
    return l;
  }

  scripted_http http_;
  int find_max_pages_ = client_options{}.find_max_pages;
  wall_time wall_ = *parse_iso_timestamp("2025-05-21T13:25:00Z");
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::optional<client> client_;
};

TEST_F(StableStackClient, Traits) {
  const venue_traits t = make().traits();
  EXPECT_TRUE(t.firm_quotes);
  EXPECT_FALSE(t.cancel);
  EXPECT_FALSE(t.client_id);
  EXPECT_FALSE(t.exact_receive);
}

TEST_F(StableStackClient, FirmQuoteExactRequestAndExpiry) {
  client& c = make();
  http_.answer(200, quote_at("q-1", "20.0", "19.6", 0));
  auto q = run(price_of(c, "20.009"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  ASSERT_EQ(http_.sent.size(), 1u);
  const http_request& r = http_.sent[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/instant-swaps");
  EXPECT_THAT(r.headers, ElementsAre(Pair("Accept", "application/json"),
                                     Pair("Content-Type", "application/json"),
                                     Pair("x-api-key", "ss_test_key_0001")));
  // Rounded down to the spend precision; amounts are strings.
  EXPECT_EQ(r.body, R"({"from_currency":"USDT","to_currency":"USDC","amount":"20"})");
  EXPECT_EQ(q->quote_id, "q-1");
  EXPECT_EQ(q->model, pricing_model::firm_quote);
  EXPECT_EQ(q->receive_net, dec("19.6"));
  EXPECT_EQ(*q->valid_until, *parse_iso_timestamp("2025-05-21T13:25:15Z"));
}

// What price() answers for a parsed quote, and the planner's model of it (venue::pricing_for):
// the functions the decision benchmark times.
TEST(StableStackQuote, QuoteAndPricingModelOfAFirmQuote) {
  auto parsed = parse_quote(samples::documented_quote);
  ASSERT_TRUE(parsed.has_value()) << describe(parsed.error());
  auto q = quote_of(*parsed, "USDT", "USDC", 1);
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_EQ(q->provider, "stablestack");
  EXPECT_EQ(q->direction_code, "USDT-USDC");
  EXPECT_EQ(q->spend_asset, "USDT");
  EXPECT_EQ(q->receive_asset, "USDC");
  EXPECT_EQ(q->fee_asset, "USDC");
  EXPECT_EQ(q->spend_amount, dec("20"));
  EXPECT_EQ(q->receive_gross, dec("19.6"));
  EXPECT_EQ(q->receive_net, dec("19.6"));
  EXPECT_TRUE(q->firm);
  EXPECT_EQ(q->quote_id, "0c6f7a53-0b6c-4f0e-9d0e-5a9c1f3f4c11");
  EXPECT_EQ(q->obtained_at, *parse_iso_timestamp("2025-05-13T13:24:31Z"));
  EXPECT_EQ(*q->valid_until, *parse_iso_timestamp("2025-05-13T13:24:46Z"));
  EXPECT_EQ(quote_of(*parsed, "USDT", "USDC", 0)->receive_net, dec("19"));

  const pricing p = quote_pricing(*q, dec("20.009"));
  EXPECT_EQ(p.provider, "stablestack");
  EXPECT_EQ(p.direction_code, "USDT-USDC");
  EXPECT_EQ(p.model, pricing_model::firm_quote);
  EXPECT_EQ(p.spend_precision, 0);  // 20.009 rounded down to 0 places is the quoted 20
  EXPECT_EQ(p.receive_precision, decimal::scale);
  EXPECT_EQ(p.rate_spend, dec("20"));
  EXPECT_EQ(p.rate_receive, dec("19.6"));
  EXPECT_EQ(p.min_spend, dec("20"));
  EXPECT_EQ(p.max_spend, dec("20"));
  EXPECT_TRUE(p.firm);
  EXPECT_EQ(p.quoted_spend, dec("20"));
  EXPECT_EQ(p.quote_id, q->quote_id);
  EXPECT_EQ(p.valid_until, q->valid_until);
  EXPECT_EQ(quote_pricing(*q, dec("20")).spend_precision, decimal::scale);

  const auto other = quote_of(*parsed, "USDT", "COPM", 2);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().kind, error_kind::bad_response);
  EXPECT_EQ(other.error().message,
            "stablestack: inconsistent: quote 0c6f7a53-0b6c-4f0e-9d0e-5a9c1f3f4c11 is for USDT "
            "-> USDC");
}

TEST_F(StableStackClient, CustomerScopeGoesFirstInBodiesAndPaths) {
  client& c = make("85b148ab-3f6b-4d55-917f-3c8de668a48e");
  http_.answer(200, R"({"status":"success","data":[]})");
  ASSERT_TRUE(run(c.balances()).has_value());
  EXPECT_EQ(http_.sent[0].target, "/api/wallets?customer_id=85b148ab-3f6b-4d55-917f-3c8de668a48e");
  http_.answer(400, std::string(samples::documented_error));
  static_cast<void>(run(c.submit(usdt_usdc("1"), "id-1")));
  EXPECT_EQ(http_.sent[1].body,
            R"({"customer_id":"85b148ab-3f6b-4d55-917f-3c8de668a48e","from_currency":"USDT",)"
            R"("to_currency":"USDC","amount":"1"})");
}

TEST_F(StableStackClient, SubmitRefreshesAQuoteCloseToExpiry) {
  client& c = make();
  http_.answer(200, quote_at("q-7", "5", "4.9", 0));
  auto q = run(price_of(c, "5"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  wall_ += 13s;
  steady_ += 13s;
  http_.answer(200, quote_at("q-7", "5", "4.9", 13));
  http_.answer(200, swap_body_for("5.00000000"));
  auto s = run(c.submit(usdt_usdc("5", "q-7"), "id-7"));
  ASSERT_TRUE(s.has_value()) << describe(s.error());
  ASSERT_EQ(http_.sent.size(), 3u);
  EXPECT_EQ(http_.sent[1].target, "/api/swaps/q-7/refresh");
  EXPECT_EQ(http_.sent[1].body,
            R"({"from_currency":"USDT","to_currency":"USDC","from_amount":"5"})");
  EXPECT_EQ(http_.sent[2].target, "/api/swaps");
  EXPECT_EQ(s->state, leg_state::open);
  EXPECT_EQ(s->ref.provider_ref, "e60637ec-e5d0-4c68-9bc8-a12658e5735e");
  EXPECT_EQ(s->ref.client, "id-7");
}

struct outcome_case {
  std::string name;
  int status;  // 0: transport error
  error_kind transport;
  std::string body;
  error_kind expected;
  bool may_have_reached;
};

class StableStackSubmitOutcome : public StableStackClient,
                                 public ::testing::WithParamInterface<outcome_case> {};

TEST_P(StableStackSubmitOutcome, MapsAndNeverResends) {
  const outcome_case& oc = GetParam();
  client& c = make();
  if (oc.status == 0) {
    http_.fail_with(oc.transport);
  } else {
    http_.answer(oc.status, oc.body);
  }
  auto s = run(c.submit(usdt_usdc("1"), "id-x"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, oc.expected) << describe(s.error());
  EXPECT_EQ(s.error().may_have_reached, oc.may_have_reached);
  EXPECT_EQ(http_.sent.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StableStackSubmitOutcome,
    ::testing::Values(
        outcome_case{"validation",
                     400,
                     {},
                     R"({"status":"failed","message":"x","error":{"code":"INVALID_PARAMETER",)"
                     R"("message":"the quote has expired","details":{}}})",
                     error_kind::rejected,
                     false},
        outcome_case{"missing_field",
                     422,
                     {},
                     R"({"status":"failed","message":"x","error":{"code":)"
                     R"("MISSING_REQUIRED_FIELD","message":"amount","details":{}}})",
                     error_kind::rejected,
                     false},
        outcome_case{"disguised_timeout",
                     400,
                     {},
                     R"({"status":"failed","message":"x","error":{"code":"INVALID_PARAMETER",)"
                     R"("message":"upstream request timed out","details":{}}})",
                     error_kind::unknown_outcome,
                     true},
        outcome_case{"bare_400", 400, {}, "Bad Request", error_kind::unknown_outcome, true},
        outcome_case{"token",
                     401,
                     {},
                     R"({"status":"failed","message":"x","error":{"code":"INVALID_TOKEN",)"
                     R"("message":"bad","details":{}}})",
                     error_kind::auth,
                     false},
        outcome_case{"rate_limited", 429, {}, "{}", error_kind::rate_limited, false},
        outcome_case{"server_error", 500, {}, "oops", error_kind::unknown_outcome, true},
        outcome_case{"bad_gateway", 502, {}, "", error_kind::unknown_outcome, true},
        outcome_case{"unreadable_200",
                     200,
                     {},
                     R"({"status":"success","data":{}})",
                     error_kind::unknown_outcome,
                     true},
        outcome_case{"reset", 0, error_kind::reset, "", error_kind::unknown_outcome, true},
        outcome_case{"truncated", 0, error_kind::truncated, "", error_kind::unknown_outcome, true},
        outcome_case{"connect", 0, error_kind::connect, "", error_kind::unknown_outcome, false}),
    [](const auto& info) { return info.param.name; });

TEST_F(StableStackClient, InconsistentSwapAnswerIsUnknown) {
  client& c = make();
  // The seed's debit is 0.13 USDT, not the 1 USDT sent.
  http_.answer(200, std::string(samples::seed_swap));
  auto s = run(c.submit(usdt_usdc("1"), "id-2"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, error_kind::unknown_outcome);
}

TEST_F(StableStackClient, StatusReadsBothLegsByReference) {
  client& c = make();
  http_.answer(200, std::string(samples::by_customer_page));
  auto s = run(c.status({"e60637ec-e5d0-4c68-9bc8-a12658e5735e", "id-3"}));
  ASSERT_TRUE(s.has_value()) << describe(s.error());
  EXPECT_EQ(http_.sent[0].method, "GET");
  EXPECT_EQ(http_.sent[0].target,
            "/api/customers/transactions/by_ref_id/e60637ec-e5d0-4c68-9bc8-a12658e5735e");
  EXPECT_EQ(s->state, leg_state::filled);
  EXPECT_EQ(s->spend_filled, dec("0.13"));
  EXPECT_EQ(s->receive_filled, dec("0.12"));
  http_.answer(200, R"({"status":"success","data":[]})");
  EXPECT_EQ(run(c.status({"nothing", "id-3"})).error().kind, error_kind::not_found);
  http_.answer(500, "");
  EXPECT_EQ(run(c.status({"nothing", "id-3"})).error().kind, error_kind::http_status);
}

TEST_F(StableStackClient, FindListsDebitsInTheWindowAndAdoptsTheOneMatch) {
  client& c = make();
  http_.answer(503, "");
  ASSERT_EQ(run(c.submit(usdt_usdc("0.13"), "id-4")).error().kind, error_kind::unknown_outcome);
  std::string listing(samples::by_customer_page);
  listing.replace(listing.find(R"("totalPages":3)"), 14, R"("totalPages":1)");
  http_.answer(200, listing);
  http_.answer(200, std::string(samples::by_customer_page));
  auto found = run(c.find("id-4", usdt_usdc("0.13"), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "e60637ec-e5d0-4c68-9bc8-a12658e5735e");
  EXPECT_EQ((*found)->ref.client, "id-4");
  ASSERT_EQ(http_.sent.size(), 3u);
  EXPECT_EQ(http_.sent[1].target,
            "/api/transactions?transaction_type=INTERNAL%20TRANSFER&transaction_mode=DEBIT&"
            "currency=USDT&start_date=2025-05-21&end_date=2025-05-21&page=1&limit=100");
  // One POST only: the ambiguous swap was never resent.
  EXPECT_EQ(std::count_if(http_.sent.begin(), http_.sent.end(),
                          [](const http_request& r) { return r.method == "POST"; }),
            1);
}

// The seed's listing with its credit leg turned into a second 0.13 USDT debit, of swap f6...
std::string two_debits() {
  std::string two(samples::by_customer_page);
  const auto replace = [&](std::string_view from, std::string_view to) {
    two.replace(two.find(from), from.size(), to);
  };
  replace(R"("asset_code":"usdc","amount":"0.12000000","reference_id":"e6)",
          R"("asset_code":"usdt","amount":"0.13000000","reference_id":"f6)");
  replace(R"("transaction_mode":"CREDIT")", R"("transaction_mode":"DEBIT")");
  replace(R"("totalPages":3)", R"("totalPages":1)");
  return two;
}

TEST_F(StableStackClient, FindAnswersNoneAndRefusesTwoCandidates) {
  client& c = make();
  http_.answer(200, R"({"status":"success","data":[],"pagination":{"total":0,"page":1,)"
                    R"("limit":100,"totalPages":0}})");
  auto none = run(c.find("id-5", usdt_usdc("0.13"), {}));
  ASSERT_TRUE(none.has_value()) << describe(none.error());
  EXPECT_FALSE(none->has_value());

  http_.answer(200, two_debits());
  auto both = run(c.find("id-6", usdt_usdc("0.13"), {}));
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().kind, error_kind::bad_response);
  EXPECT_NE(both.error().message.find("inconsistent: 2 swaps match"), std::string::npos)
      << describe(both.error());
}

// After a restart the client knows none of the swaps it made; the journal (held) tells it that
// the e6... debit is another leg's, so the f6... debit of the same amount is the one candidate.
TEST_F(StableStackClient, FindNeverCountsASwapAnotherLegHolds) {
  client& c = make();
  const std::string e6 = "e60637ec-e5d0-4c68-9bc8-a12658e5735e";
  const std::string f6 = "f60637ec-e5d0-4c68-9bc8-a12658e5735e";
  http_.answer(200, two_debits());
  auto unknown = run(c.find("id-7", usdt_usdc("0.13"), {}));
  ASSERT_FALSE(unknown.has_value()) << "without the journal both are candidates";
  EXPECT_EQ(unknown.error().kind, error_kind::bad_response);
  EXPECT_NE(unknown.error().message.find("inconsistent: 2 swaps match"), std::string::npos)
      << describe(unknown.error());

  std::vector<std::string> asked;
  const held_swaps held = [&](std::string_view ref) {
    asked.emplace_back(ref);
    return ref == e6;
  };
  std::string legs(samples::by_customer_page);
  for (auto at = legs.find(e6); at != std::string::npos; at = legs.find(e6)) {
    legs.replace(at, e6.size(), f6);
  }
  http_.answer(200, two_debits());
  http_.answer(200, legs);
  auto found = run(c.find("id-7", usdt_usdc("0.13"), held));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, f6);
  EXPECT_EQ((*found)->ref.client, "id-7");
  EXPECT_EQ((*found)->spend_filled, dec("0.13"));
  ASSERT_EQ(http_.sent.size(), 3u);
  EXPECT_EQ(http_.sent[2].target, "/api/customers/transactions/by_ref_id/" + f6);
  // Each candidate asked once, and the adopted one again after its legs were read.
  EXPECT_THAT(asked, ElementsAre(f6, e6, f6));
}

TEST_F(StableStackClient, BalancesSumWallets) {
  client& c = make();
  http_.answer(200, R"({"status":"success","data":[)"
                    R"({"id":"a","currency":"USDC","balance":"12.50000000"},)"
                    R"({"id":"b","currency":"USDT","balance":"3.00000000"},)"
                    R"({"id":"c","currency":"USDC","balance":"0.25000000"}]})");
  auto b = run(c.balances());
  ASSERT_TRUE(b.has_value()) << describe(b.error());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].asset, "USDC");
  EXPECT_EQ((*b)[0].available, dec("12.75"));
  EXPECT_EQ(http_.sent[0].target, "/api/wallets");
}

// The listing's filters are hints: a payout of the same amount that a provider lists despite
// transaction_type=INTERNAL TRANSFER is no swap, so the swap beside it is the one candidate (it
// was "2 swaps match", which freezes the leg).
TEST_F(StableStackClient, FindNeverCountsADebitThatIsNoSwap) {
  client& c = make();
  std::string listing = two_debits();
  listing.replace(listing.find("INTERNAL TRANSFER"), 17, "PAYOUT");
  http_.answer(200, listing);
  http_.answer(200, std::string(samples::by_customer_page));
  auto found = run(c.find("id-8", usdt_usdc("0.13"), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "e60637ec-e5d0-4c68-9bc8-a12658e5735e");
}

// A quote refreshed before the swap carries a new price: the swap executes that price, so a
// refreshed quote below the leg's worst acceptable net is never executed (nothing is sent).
TEST_F(StableStackClient, SubmitNeverExecutesARefreshedQuoteBelowTheMinimumReceive) {
  client& c = make();
  http_.answer(200, quote_at("q-8", "5", "4.9", 0));
  auto q = run(price_of(c, "5"));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  wall_ += 13s;
  steady_ += 13s;
  http_.answer(200, quote_at("q-8", "5", "4.5", 13));
  http_.answer(200, swap_body_for("5.00000000"));
  leg l = usdt_usdc("5", "q-8");
  l.min_receive = dec("4.85");
  auto s = run(c.submit(l, "id-8"));
  ASSERT_FALSE(s.has_value()) << "executed at " << s->receive_amount.to_string();
  EXPECT_EQ(s.error().kind, error_kind::rejected) << describe(s.error());
  ASSERT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(http_.sent[1].target, "/api/swaps/q-8/refresh");
}

// POST /swaps carries no quote id: it executes the latest quote for the pair and amount
// (VENUES.md Part 1). A later price() of the same amount (a poller, another intent) made another
// quote the latest, at its own price; the leg's own quote is refreshed (so it is the latest
// again) and checked against the leg's minimum before the swap.
TEST_F(StableStackClient, SubmitRebindsItsQuoteWhenALaterQuoteOfTheSameAmountIsTheLatest) {
  client& c = make();
  http_.answer(200, quote_at("q-1", "5", "4.9", 0));
  ASSERT_TRUE(run(price_of(c, "5")).has_value());
  http_.answer(200, quote_at("q-2", "5", "4.5", 1));
  ASSERT_TRUE(run(price_of(c, "5")).has_value());
  http_.answer(200, quote_at("q-1", "5", "4.9", 2));
  http_.answer(200, swap_body_for("5.00000000"));
  leg l = usdt_usdc("5", "q-1");
  l.min_receive = dec("4.85");
  auto s = run(c.submit(l, "id-9"));
  ASSERT_TRUE(s.has_value()) << describe(s.error());
  ASSERT_EQ(http_.sent.size(), 4u);
  EXPECT_EQ(http_.sent[2].target, "/api/swaps/q-1/refresh");
  EXPECT_EQ(http_.sent[3].target, "/api/swaps");
}

// A quote expired for more than ten minutes leaves the cache when the next quote comes (a
// poller quoting every few seconds must not grow it for the life of the process): it can no
// longer be refreshed; a recent one still can.
TEST_F(StableStackClient, QuotesLongExpiredLeaveTheCache) {
  client& c = make();
  http_.answer(200, quote_at("q-old", "5", "4.9", 0));
  ASSERT_TRUE(run(price_of(c, "5")).has_value());
  http_.answer(
      200, quote_body("q-new", "6", "5.9", "2025-05-21T13:35:16.000Z", "2025-05-21T13:35:31.000Z"));
  ASSERT_TRUE(run(price_of(c, "6")).has_value());
  auto old = run(c.refresh("q-old"));
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().kind, error_kind::invalid_argument);
  EXPECT_EQ(http_.sent.size(), 2u) << "nothing sent for a quote no longer cached";
  http_.answer(
      200, quote_body("q-new", "6", "5.9", "2025-05-21T13:35:20.000Z", "2025-05-21T13:35:35.000Z"));
  EXPECT_TRUE(run(c.refresh("q-new")).has_value());
}

// POST /swaps executes the latest quote of its pair and amount: a submit waits for a quote of
// them in flight (here the poller's q-2), then finds its own superseded and refreshes it, where
// it posted at once and executed q-2's price when that quote reached StableStack first.
TEST_F(StableStackClient, SubmitWaitsForAQuoteOfItsPairAndAmountInFlight) {
  client& c = make();
  http_.answer(200, quote_at("q-1", "5", "4.9", 0));
  ASSERT_TRUE(run(price_of(c, "5")).has_value());
  http_.answer(200, quote_at("q-2", "5", "4.5", 1));
  http_.answer(200, quote_at("q-1", "5", "4.9", 2));
  http_.answer(200, swap_body_for("5.00000000"));
  http_.hold_next = true;
  leg l = usdt_usdc("5", "q-1");
  l.min_receive = dec("4.85");
  boost::asio::io_context io;
  auto [quoted, swapped, released] =
      test_support::run_together(io, price_of(c, "5"), c.submit(l, "id-9"), http_.release());
  ASSERT_TRUE(quoted.has_value()) << describe(quoted.error());
  ASSERT_TRUE(swapped.has_value()) << describe(swapped.error());
  std::vector<std::string> targets;
  for (const http_request& r : http_.sent) targets.push_back(r.target);
  EXPECT_THAT(targets, ElementsAre("/api/instant-swaps", "/api/instant-swaps",
                                   "/api/swaps/q-1/refresh", "/api/swaps"));
}

// And a quote of the pair and amount waits while a swap of them is on its way (it could reach
// StableStack first and be the one executed); a quote of another amount does not wait.
TEST_F(StableStackClient, AQuoteOfAPairAndAmountWaitsForItsSwapInFlight) {
  client& c = make();
  http_.answer(200, quote_at("q-1", "5", "4.9", 0));
  ASSERT_TRUE(run(price_of(c, "5")).has_value());
  http_.answer(200, swap_body_for("5.00000000"));
  http_.answer(200, quote_at("q-6", "6", "5.9", 1));
  http_.answer(200, quote_at("q-5", "5", "4.9", 2));
  http_.hold_next = true;
  leg l = usdt_usdc("5", "q-1");
  l.min_receive = dec("4.85");
  boost::asio::io_context io;
  auto [swapped, same, other, released] = test_support::run_together(
      io, c.submit(l, "id-9"), price_of(c, "5"), price_of(c, "6"), http_.release());
  ASSERT_TRUE(swapped.has_value()) << describe(swapped.error());
  ASSERT_TRUE(same.has_value()) << describe(same.error());
  ASSERT_TRUE(other.has_value()) << describe(other.error());
  EXPECT_EQ(same->quote_id, "q-5");
  EXPECT_EQ(other->quote_id, "q-6");
  std::vector<std::string> bodies;
  for (std::size_t i = 1; i < http_.sent.size(); ++i) {
    bodies.push_back(http_.sent[i].target + " " + http_.sent[i].body);
  }
  EXPECT_THAT(
      bodies,
      ElementsAre(
          R"(/api/swaps {"from_currency":"USDT","to_currency":"USDC","amount":"5"})",
          R"(/api/instant-swaps {"from_currency":"USDT","to_currency":"USDC","amount":"6"})",
          R"(/api/instant-swaps {"from_currency":"USDT","to_currency":"USDC","amount":"5"})"));
}

// A window whose debits run past the pages find() reads proves nothing: the swap, or a second
// candidate beside the one found, may be on a page left unread. find() answered "none" (or
// adopted the match it saw); it now answers an error that leaves the leg unknown.
TEST_F(StableStackClient, FindConcludesNothingFromAHistoryItDidNotReadToTheEnd) {
  find_max_pages_ = 1;
  client& c = make();
  const std::string page(samples::by_customer_page);
  const std::size_t first = page.find(R"({"id":"552e8bb6)");
  const std::string debit = page.substr(first, page.find('}', first) + 1 - first);
  const auto full_page = [&](bool with_ours) {
    std::string items;
    for (int i = 0; i < 100; ++i) {
      std::string one = debit;
      if (i > 0 || !with_ours) one.replace(one.find("0.13000000"), 10, "7.00000000");
      items += (i > 0 ? "," : "") + one;
    }
    return R"({"status":"success","data":[)" + items +
           R"(],"pagination":{"total":250,"page":1,"limit":100,"totalPages":3}})";
  };
  for (const bool with_ours : {false, true}) {
    SCOPED_TRACE(with_ours ? "one match on the page read" : "no match on the page read");
    http_.answer(200, full_page(with_ours));
    auto found = run(c.find("id-7", usdt_usdc("0.13"), {}));
    ASSERT_FALSE(found.has_value()) << "concluded from one page of three";
    EXPECT_EQ(found.error().kind, error_kind::bad_response);
    EXPECT_EQ(found.error().message,
              "stablestack: the history in the window runs past the 1 pages read: nothing "
              "concluded");
  }
}

}  // namespace
}  // namespace swaprouter::stablestack
