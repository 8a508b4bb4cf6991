// The venue monitor behind the quote metrics: it forwards every call, records each quote's round
// trip, its net rate at the amount asked and failures, and passes the venue's health through.
#include "observability/venue_monitor.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

namespace swaprouter::observability {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

decimal d(std::string_view text) { return decimal::parse(text).value(); }

const wall_time t0 = wall_time(std::chrono::seconds(1'790'000'000));

// 1 USDT = 4000 COPM gross, 0.25 % fee; a request for BTC fails.
class scripted_venue final : public venue {
 public:
  int balance_calls = 0;

  std::string_view id() const override { return "onek"; }
  venue_traits traits() const override {
    venue_traits t;
    t.cancel = true;
    return t;
  }
  task<result<std::vector<direction>>> directions() override { co_return std::vector<direction>{}; }
  task<result<quote>> price(const quote_request& request) override {
    if (request.receive_asset == "BTC") co_return fail(error_kind::timeout, "no answer");
    quote q;
    q.provider = "onek";
    q.spend_amount = request.amount;
    q.receive_net = d("399");
    q.obtained_at = t0;
    co_return q;
  }
  task<result<pricing>> pricing_for(const quote_request& request) override {
    if (request.receive_asset == "BTC") co_return fail(error_kind::rate_limited, "429");
    pricing p;
    p.provider = "onek";
    p.spend_asset = request.spend_asset;
    p.receive_asset = request.receive_asset;
    p.rate_receive = d("4000");
    p.fee_percent = d("0.25");
    p.receive_precision = 2;
    p.obtained_at = t0;
    co_return p;
  }
  task<result<leg_status>> submit(const leg&, const client_id&) override {
    co_return fail(error_kind::rejected, "no");
  }
  task<result<leg_status>> status(const leg_ref&) override {
    co_return fail(error_kind::not_found, "no");
  }
  task<result<std::optional<leg_status>>> find(const client_id&, const leg&,
                                               const held_swaps&) override {
    co_return std::optional<leg_status>{};
  }
  task<result<leg_status>> cancel(const leg_ref&) override {
    co_return fail(error_kind::rejected, "no");
  }
  task<result<std::vector<balance>>> balances() override {
    ++balance_calls;
    co_return std::vector<balance>{};
  }
  venue_health health() const override { return {circuit_state::half_open, 1500ms, 7}; }
  std::chrono::steady_clock::duration poll_wait(poll_kind kind,
                                                std::int64_t reserve) const override {
    return kind == poll_kind::prices ? std::chrono::milliseconds(reserve) : 0ms;
  }
};

template <class T>
T run(asio::io_context& io, task<T> work) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  io.restart();
  while (!out) io.run_one();
  return std::move(*out);
}

quote_request ask(std::string_view from, std::string_view to, std::string_view amount) {
  quote_request r;
  r.spend_asset = std::string(from);
  r.receive_asset = std::string(to);
  r.amount = d(amount);
  return r;
}

TEST(VenueMonitor, RecordsQuotesRatesAndFailures) {
  asio::io_context io;
  scripted_venue inner;
  std::vector<std::pair<std::string, bool>> seen;
  monitored_venue v(inner, [&](std::string_view provider, std::chrono::nanoseconds, bool ok) {
    seen.emplace_back(std::string(provider), ok);
  });

  ASSERT_TRUE(run(io, v.pricing_for(ask("USDT", "COPM", "100"))).has_value());
  const venue_stats& s = v.stats();
  EXPECT_EQ(s.quotes, 1u);
  EXPECT_EQ(s.quote_errors, 0u);
  EXPECT_TRUE(s.last_quote.has_value());
  EXPECT_FALSE(s.last_quote_failed);
  ASSERT_EQ(s.pairs.count("USDT/COPM"), 1u);
  const pair_quote& q = s.pairs.at("USDT/COPM");
  EXPECT_EQ(q.amount, d("100"));
  EXPECT_EQ(q.obtained_at, t0);
  // 100 x 4000 = 400000 gross, 1000 fee: 399000 net, 3990 per USDT.
  EXPECT_EQ(q.net_rate, d("3990"));

  ASSERT_TRUE(run(io, v.price(ask("USDC", "COPM", "0.1"))).has_value());
  EXPECT_EQ(s.pairs.at("USDC/COPM").net_rate, d("3990"));

  EXPECT_FALSE(run(io, v.pricing_for(ask("USDT", "BTC", "1"))).has_value());
  EXPECT_FALSE(run(io, v.price(ask("USDT", "BTC", "1"))).has_value());
  EXPECT_EQ(s.quotes, 2u);
  EXPECT_EQ(s.quote_errors, 2u);
  EXPECT_TRUE(s.last_quote_failed);
  EXPECT_NE(s.last_error.find("no answer"), std::string::npos);
  EXPECT_EQ(s.pairs.count("USDT/BTC"), 0u);
  EXPECT_EQ(s.latency.count(), 4u);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{
                      {"onek", true}, {"onek", true}, {"onek", false}, {"onek", false}}));
}

TEST(VenueMonitor, ForwardsEverythingElse) {
  asio::io_context io;
  scripted_venue inner;
  monitored_venue v(inner);
  EXPECT_EQ(v.id(), "onek");
  EXPECT_TRUE(v.traits().cancel);
  const venue_health h = v.health();
  EXPECT_EQ(h.circuit, circuit_state::half_open);
  EXPECT_EQ(h.clock_offset, 1500ms);
  EXPECT_EQ(h.rate_limited, 7u);
  EXPECT_EQ(v.poll_wait(poll_kind::prices, 3), 3ms);
  EXPECT_EQ(v.poll_wait(poll_kind::balances, 3), 0ms);
  EXPECT_TRUE(run(io, v.balances()).has_value());
  EXPECT_EQ(inner.balance_calls, 1);
  EXPECT_EQ(run(io, v.submit(leg{}, "c1")).error().kind, error_kind::rejected);
  EXPECT_EQ(run(io, v.status(leg_ref{})).error().kind, error_kind::not_found);
  EXPECT_FALSE(run(io, v.find("c1", leg{}, {})).value().has_value());
  EXPECT_EQ(run(io, v.cancel(leg_ref{})).error().kind, error_kind::rejected);
  EXPECT_EQ(v.stats().quotes, 0u);  // none of these is a quote
}

TEST(VenueMonitor, PairName) { EXPECT_EQ(pair_name("USDT", "COPM"), "USDT/COPM"); }

}  // namespace
}  // namespace swaprouter::observability
