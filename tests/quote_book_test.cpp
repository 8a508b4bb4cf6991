// The quote book, the quote poller on a virtual clock with fake venues, and the quoter taking its
// directions from the book.
#include "engine/quote_book.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/quote_poller.hpp"
#include "engine/quoter.hpp"
#include "engine/rate_budget.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady_time = std::chrono::steady_clock::time_point;

const wall_time t0{std::chrono::milliseconds(1'700'000'000'000)};

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

// Virtual time: a timer armed for the future waits until advance() reaches it; one armed for the
// past fires at once. Time moves only in advance(), which runs everything ready in between.
class virtual_clock final : public poll_clock {
 public:
  explicit virtual_clock(asio::io_context& io) : io_(io) {}

  wall_time wall_now() override { return t0 + (now_ - steady_time{}); }
  steady_time steady_now() override { return now_; }
  void arm(asio::steady_timer& timer, steady_time at) override {
    if (at <= now_) {
      timer.expires_at(steady_time::min());
      return;
    }
    timer.expires_at(steady_time::max());
    armed_.emplace(at, &timer);
  }
  void disarm(asio::steady_timer& timer) override {
    std::erase_if(armed_, [&](const auto& a) { return a.second == &timer; });
  }

  // Runs what is ready, then fires timers in time order up to now + by.
  void advance(std::chrono::milliseconds by) {
    const steady_time until = now_ + by;
    settle();
    while (!armed_.empty() && armed_.begin()->first <= until) {
      const auto [at, timer] = *armed_.begin();
      armed_.erase(armed_.begin());
      now_ = std::max(now_, at);
      timer->cancel();
      settle();
    }
    now_ = until;
  }
  void settle() {
    io_.restart();
    io_.poll();
  }

 private:
  asio::io_context& io_;
  steady_time now_{};
  std::multimap<steady_time, asio::steady_timer*> armed_;
};

// Takes `delay` of virtual time (nothing to wait for when zero).
task<void> take(poll_clock& clock, std::chrono::milliseconds delay) {
  if (delay <= delay.zero()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  clock.arm(timer, clock.steady_now() + delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  clock.disarm(timer);
}

direction make_direction(std::string provider, std::string spend, std::string receive) {
  direction d;
  d.provider = std::move(provider);
  d.spend_asset = std::move(spend);
  d.receive_asset = std::move(receive);
  d.code = d.spend_asset + "-" + d.receive_asset;
  d.enabled = true;
  d.spend_precision = 2;
  d.receive_precision = 2;
  return d;
}

// A venue with fixed directions and rates, virtual latencies, scripted failures and, when given,
// a local budget on its prices.
class fake_venue final : public venue {
 public:
  fake_venue(std::string id, poll_clock& clock) : id_(std::move(id)), clock_(clock) {}

  std::string_view id() const override { return id_; }
  venue_traits traits() const override { return {}; }
  task<result<std::vector<direction>>> directions() override {
    ++listings;
    co_await take(clock_, listing_latency);
    if (fail_directions) co_return fail(error_kind::connect, id_ + ": refused");
    co_return listed;
  }
  task<result<quote>> price(const quote_request&) override {
    co_return fail(error_kind::internal, "unused");
  }
  task<result<pricing>> pricing_for(const quote_request& request) override {
    asked.push_back(request);
    if (budget) budget->try_take(clock_.steady_now());
    co_await take(clock_, quote_latency);
    if (throw_on_price) throw std::runtime_error("adapter bug");
    if (fail_prices) co_return fail(error_kind::http_status, id_ + ": 503");
    pricing p;
    p.provider = id_;
    p.spend_asset = request.spend_asset;
    p.receive_asset = request.receive_asset;
    p.direction_code = p.spend_asset + "-" + p.receive_asset;
    p.spend_precision = 2;
    p.receive_precision = 2;
    p.rate_receive = rate;
    // On the provider's clock.
    p.obtained_at = clock_.wall_now() + offset.value_or(0ms);
    if (validity) p.valid_until = p.obtained_at + *validity;
    co_return p;
  }
  task<result<leg_status>> submit(const leg&, const client_id&) override {
    co_return fail(error_kind::internal, "unused");
  }
  task<result<leg_status>> status(const leg_ref&) override {
    co_return fail(error_kind::internal, "unused");
  }
  task<result<std::optional<leg_status>>> find(const client_id&, const leg&,
                                               const held_swaps&) override {
    co_return fail(error_kind::internal, "unused");
  }
  task<result<leg_status>> cancel(const leg_ref&) override {
    co_return fail(error_kind::internal, "unused");
  }
  task<result<std::vector<balance>>> balances() override {
    ++balance_reads;
    co_return std::vector<balance>{{"USDT", dec("100"), {}}};
  }
  venue_health health() const override {
    venue_health h;
    h.clock_offset = offset;
    return h;
  }
  std::chrono::steady_clock::duration poll_wait(poll_kind kind,
                                                std::int64_t reserve) const override {
    if (kind != poll_kind::prices || !budget) return {};
    return budget->time_until_available(clock_.steady_now(), reserve);
  }

  std::vector<direction> listed;
  decimal rate = dec("4000");
  std::chrono::milliseconds listing_latency{0};
  std::chrono::milliseconds quote_latency{20};
  std::optional<std::chrono::milliseconds> offset;
  std::optional<std::chrono::milliseconds> validity;
  std::optional<token_bucket> budget;
  bool fail_directions = false;
  bool fail_prices = false;
  bool throw_on_price = false;
  int listings = 0;
  int balance_reads = 0;
  std::vector<quote_request> asked;

 private:
  std::string id_;
  poll_clock& clock_;
};

pricing model(std::string provider, wall_time obtained) {
  pricing p;
  p.provider = std::move(provider);
  p.spend_asset = "USDT";
  p.receive_asset = "COPM";
  p.direction_code = "USDT-COPM";
  p.rate_receive = dec("4000");
  p.obtained_at = obtained;
  return p;
}

// ---- the book ---------------------------------------------------------------------------------

TEST(QuoteBook, KeepsTheLatestPricePerProviderAndPair) {
  quote_book book;
  book.put(model("a", t0), t0);
  pricing newer = model("a", t0 + 1s);
  newer.rate_receive = dec("4010");
  book.put(newer, t0 + 1s);
  book.put(model("b", t0), t0);
  const auto a = book.fresh("a", "USDT", "COPM", t0 + 1s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->rate_receive, dec("4010"));
  EXPECT_EQ(book.fresh_prices(t0 + 1s).size(), 2u);
  EXPECT_FALSE(book.fresh("a", "COPM", "USDT", t0 + 1s).has_value());
  EXPECT_EQ(book.view("a").prices, 1u);
  EXPECT_EQ(book.providers(), (std::vector<std::string>{"a", "b"}));
}

TEST(QuoteBook, StaleAndExpiredPricesAreNeverHandedOut) {
  quote_book_options options;
  options.quote_max_age = 5s;
  quote_book book(options);
  pricing firm = model("firm", t0);
  firm.valid_until = t0 + 2s;
  book.put(model("a", t0), t0);
  book.put(firm, t0);
  EXPECT_TRUE(book.fresh("a", "USDT", "COPM", t0 + 5s).has_value());
  EXPECT_FALSE(book.fresh("a", "USDT", "COPM", t0 + 5001ms).has_value());
  EXPECT_TRUE(book.fresh("firm", "USDT", "COPM", t0 + 1999ms).has_value());
  EXPECT_FALSE(book.fresh("firm", "USDT", "COPM", t0 + 2s).has_value());
  EXPECT_EQ(book.fresh_prices(t0 + 3s).size(), 1u);
  EXPECT_TRUE(book.fresh_prices(t0 + 6s).empty());
  EXPECT_EQ(book.view("a").prices, 1u);  // kept until replaced, never used
}

TEST(QuoteBook, ProviderTimesAreMovedToOurClockWithTheOffset) {
  quote_book book;
  // The provider's clock runs 3 s ahead of ours: its "now" is our t0.
  book.set_clock_offset("p", 3s);
  pricing p = model("p", t0 + 3s);
  p.valid_until = t0 + 3s + 10s;
  book.put(p, t0);
  const auto local = book.fresh("p", "USDT", "COPM", t0);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->obtained_at, t0);
  EXPECT_EQ(local->valid_until, t0 + 10s);
  // Without the offset the same price would look 3 s younger than it is: still fresh at t0 + 7s.
  EXPECT_FALSE(book.fresh("p", "USDT", "COPM", t0 + 6s).has_value());
  EXPECT_EQ(book.clock_offset("p"), std::optional<std::chrono::milliseconds>(3s));
}

TEST(QuoteBook, RecentLatencyPercentilesAndExecutionP95ForAdmission) {
  quote_book_options options;
  options.latency_window = 100;
  quote_book book(options);
  latency_histogram reference(2, std::int64_t{600} * 1'000'000'000);
  for (int i = 1; i <= 100; ++i) {
    book.record_execution_latency("p", std::chrono::milliseconds(i));
    reference.record(std::chrono::milliseconds(i));
  }
  const latency_summary s = book.execution_latency("p");
  EXPECT_EQ(s.count, 100u);
  const auto us = [](std::int64_t ns) { return std::chrono::microseconds((ns + 999) / 1000); };
  EXPECT_EQ(s.p50, us(reference.percentile(50)));
  EXPECT_EQ(s.p95, us(reference.percentile(95)));
  EXPECT_EQ(s.p99, us(reference.percentile(99)));
  EXPECT_EQ(s.max, 100ms);
  // The model's own p95 is raised to the provider's recent one, rounded up to a millisecond.
  const pricing local = book.localized(model("p", t0));
  EXPECT_EQ(local.execution_p95,
            std::chrono::ceil<std::chrono::milliseconds>(us(reference.percentile(95))));
  // Recent: after two more windows of 1 ms samples the 100 ms ones are gone.
  for (int i = 0; i < 200; ++i) book.record_execution_latency("p", 1ms);
  EXPECT_EQ(book.execution_latency("p").count, 200u);
  EXPECT_EQ(book.execution_latency("p").max, 1ms);
  EXPECT_EQ(book.quote_latency("p").count, 0u);
}

TEST(QuoteBook, FailuresAreCountedPerProviderUntilASuccess) {
  quote_book book;
  book.record_failure("p", poll_kind::prices, make_error(error_kind::timeout, "slow"), t0);
  book.record_failure("p", poll_kind::directions, make_error(error_kind::connect, "down"), t0 + 1s);
  provider_view v = book.view("p");
  EXPECT_EQ(v.failures, 2u);
  EXPECT_EQ(v.consecutive_failures, 2u);
  ASSERT_TRUE(v.last_failure.has_value());
  EXPECT_EQ(v.last_failure->kind, poll_kind::directions);
  EXPECT_EQ(v.last_failure->what.message, "down");
  EXPECT_EQ(v.last_failure->at, t0 + 1s);
  book.record_success("p");
  EXPECT_EQ(book.view("p").consecutive_failures, 0u);
  EXPECT_EQ(book.view("p").failures, 2u);
  EXPECT_EQ(book.view("q").failures, 0u);
}

TEST(QuoteBook, DirectionsAgeOutForTheQuoter) {
  quote_book_options options;
  options.directions_max_age = 60s;
  quote_book book(options);
  EXPECT_EQ(book.directions("p"), nullptr);
  book.set_directions("p", {make_direction("p", "USDT", "COPM")}, t0);
  ASSERT_NE(book.fresh_directions("p", t0 + 60s), nullptr);
  EXPECT_EQ(book.fresh_directions("p", t0 + 61s), nullptr);
  ASSERT_NE(book.directions("p"), nullptr);  // still there for the poller
  EXPECT_EQ(book.directions("p")->size(), 1u);
}

// ---- the poller -------------------------------------------------------------------------------

struct poller_fixture : ::testing::Test {
  asio::io_context io;
  virtual_clock clock{io};
  quote_book book;
  fake_venue a{"a", clock};
  fake_venue b{"b", clock};

  void SetUp() override {
    a.listed = {make_direction("a", "USDT", "COPM"), make_direction("a", "USDT", "USDC")};
    b.listed = {make_direction("b", "USDT", "COPM")};
  }
  std::vector<venue*> venues() { return {&a, &b}; }

  // Venue a lists one direction and quotes at once under a budget of `per_minute` requests a
  // minute (burst as many); the poller prices every second, keeps 2 for execution and reads no
  // balances.
  poll_settings budgeted_prices(int per_minute) {
    a.budget.emplace(per_minute, rate_limit{per_minute, 60s});
    a.listed = {make_direction("a", "USDT", "COPM")};
    a.quote_latency = 0ms;
    poll_settings settings;
    settings.prices = 1s;
    settings.reserve = 2;
    settings.poll_balances = false;
    return settings;
  }
};

using QuotePoller = poller_fixture;

TEST_F(QuotePoller, ListsDirectionsSlowlyAndPricesEveryDirectionEachRound) {
  poll_settings settings;
  settings.directions = 60s;
  settings.prices = 1s;
  settings.balances = 15s;
  const auto all = venues();
  quote_poller poller(all, book, clock, settings);
  poller.start(io.get_executor());
  clock.advance(0ms);
  EXPECT_EQ(poller.running(), 6u);
  EXPECT_EQ(a.listings, 1);
  // The first listing woke the prices loop: both directions of a are priced at once, one after
  // the other (20 ms each), concurrently with b.
  clock.advance(40ms);
  EXPECT_EQ(poller.requests("a").prices, 2u);
  EXPECT_EQ(poller.requests("b").prices, 1u);
  ASSERT_TRUE(book.fresh("a", "USDT", "USDC", clock.wall_now()).has_value());
  EXPECT_EQ(book.quote_latency("a").count, 2u);
  EXPECT_EQ(book.quote_latency("a").max, 20ms);
  // A round per second: rounds start at 0, 1, ..., 10 s.
  clock.advance(10s);
  EXPECT_EQ(poller.requests("a").prices, 22u);
  EXPECT_EQ(poller.requests("b").prices, 11u);
  EXPECT_EQ(a.listings, 1);
  EXPECT_EQ(a.balance_reads, 1);
  clock.advance(50s);  // t = 60.04 s
  EXPECT_EQ(a.listings, 2);
  EXPECT_EQ(a.balance_reads, 5);  // 0, 15, 30, 45, 60 s
  ASSERT_NE(book.balances("a"), nullptr);
  EXPECT_EQ(book.balances("a")->front().available, dec("100"));
  poller.stop();
  clock.advance(0ms);
  EXPECT_EQ(poller.running(), 0u);
}

TEST_F(QuotePoller, PricesPaceToTheBudgetAndKeepItsReserve) {
  // 6 requests a minute, burst 6: with 2 kept for execution, 4 go at once, then one per 10 s.
  const poll_settings settings = budgeted_prices(6);
  const auto all = venues();
  quote_poller poller(all, book, clock, settings);
  poller.start(io.get_executor());
  clock.advance(3500ms);
  EXPECT_EQ(poller.requests("a").prices, 4u);
  EXPECT_EQ(a.budget->available(clock.steady_now()), 2);
  clock.advance(60s);  // t = 63.5 s: one more every 10 s
  EXPECT_EQ(poller.requests("a").prices, 10u);
  EXPECT_GE(a.budget->available(clock.steady_now()), 2);
  // b has no budget: one round per second all along.
  EXPECT_EQ(poller.requests("b").prices, 64u);
}

TEST_F(QuotePoller, AFailingOrThrowingProviderIsRecordedAndDelaysNoOne) {
  a.fail_directions = true;
  b.throw_on_price = true;
  fake_venue c{"c", clock};
  c.listed = {make_direction("c", "USDT", "COPM")};
  c.fail_prices = true;
  fake_venue d{"d", clock};
  d.listed = {make_direction("d", "USDT", "COPM")};
  poll_settings settings;
  settings.prices = 1s;
  settings.retry = 5s;
  settings.poll_balances = false;
  const std::vector<venue*> all = {&a, &b, &c, &d};
  quote_poller poller(all, book, clock, settings);
  poller.start(io.get_executor());
  clock.advance(12s);
  EXPECT_EQ(a.listings, 3);  // 0, 5, 10 s: retried after `retry`
  EXPECT_EQ(book.view("a").last_failure->kind, poll_kind::directions);
  EXPECT_EQ(book.view("a").failures, 3u);
  EXPECT_EQ(poller.requests("a").prices, 0u);  // nothing to price without directions
  EXPECT_EQ(book.view("b").failures, 12u);     // the exception of each answered round, caught
  EXPECT_EQ(book.view("b").last_failure->what.kind, error_kind::internal);
  EXPECT_EQ(book.view("b").last_failure->what.message, "venue threw: adapter bug");
  EXPECT_EQ(book.view("c").last_failure->what.kind, error_kind::http_status);
  EXPECT_EQ(poller.requests("d").prices, 13u);
  EXPECT_TRUE(book.fresh("d", "USDT", "COPM", clock.wall_now()).has_value());
  EXPECT_EQ(poller.running(), 8u);
  poller.stop();
  clock.advance(0ms);
  EXPECT_EQ(poller.running(), 3u);  // b's, c's and d's prices of t = 12 s are still in flight
  clock.advance(20ms);
  EXPECT_EQ(poller.running(), 0u);
  EXPECT_EQ(book.view("b").failures, 12u);  // answers after stop() are not recorded
}

TEST_F(QuotePoller, StopEndsLoopsWithoutWritingLateAnswers) {
  a.quote_latency = 500ms;
  poll_settings settings;
  settings.poll_balances = false;
  const auto all = venues();
  {
    quote_poller poller(all, book, clock, settings);
    poller.start(io.get_executor());
    clock.advance(100ms);  // a's first price is in flight
    poller.stop();
    clock.advance(0ms);
    EXPECT_EQ(poller.running(), 1u);  // a's prices loop, waiting for its answer
  }
  clock.advance(1s);  // the answer arrives after the poller is gone
  EXPECT_FALSE(book.fresh("a", "USDT", "COPM", clock.wall_now()).has_value());
  EXPECT_TRUE(book.fresh("b", "USDT", "COPM", clock.wall_now()).has_value());
}

TEST_F(QuotePoller, ProviderClockOffsetReachesTheBook) {
  a.offset = 2500ms;
  poll_settings settings;
  settings.poll_balances = false;
  const auto all = venues();
  quote_poller poller(all, book, clock, settings);
  poller.start(io.get_executor());
  clock.advance(100ms);
  EXPECT_EQ(book.clock_offset("a"), std::optional<std::chrono::milliseconds>(2500ms));
  EXPECT_EQ(book.clock_offset("b"), std::nullopt);
  // a stamps its prices 2.5 s ahead; on our clock it was obtained when it was answered.
  const auto local = book.fresh("a", "USDT", "COPM", clock.wall_now());
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->obtained_at, t0 + 20ms);
  poller.stop();
}

// ---- the quoter with a book -------------------------------------------------------------------

template <class T>
T run(asio::io_context& io, task<T> work) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  io.restart();
  while (!out && io.run_one() > 0) {
  }
  return std::move(*out);
}

TEST(QuoterWithBook, TakesDirectionsFromTheBookAndFeedsItTheAnswers) {
  asio::io_context io;
  poll_clock real;
  fake_venue a("a", real);
  fake_venue b("b", real);
  a.quote_latency = 0ms;
  b.quote_latency = 0ms;
  a.listed = {make_direction("a", "USDT", "COPM")};
  b.listed = {make_direction("b", "USDT", "COPM")};
  b.rate = dec("4100");
  b.fail_prices = true;
  quote_book book;
  const auto now = std::chrono::system_clock::now();
  book.set_directions("a", a.listed, now);
  const std::vector<venue*> all = {&a, &b};
  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "COPM";
  intent.amount = dec("100");
  quoted_plan q = run(io, quote_and_plan(all, intent, {}, 2s, &book));
  // a from the book, b listed on demand (and kept).
  EXPECT_EQ(a.listings, 0);
  EXPECT_EQ(b.listings, 1);
  ASSERT_NE(book.fresh_directions("b", std::chrono::system_clock::now()), nullptr);
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.result.routes[0].legs[0].order.provider, "a");
  EXPECT_EQ(q.result.net, dec("400000"));
  ASSERT_EQ(a.asked.size(), 1u);
  EXPECT_EQ(a.asked[0].amount, dec("100"));  // the amount-specific quote is still asked
  ASSERT_EQ(q.unavailable.size(), 1u);
  EXPECT_EQ(q.unavailable[0].route, "b: USDT->COPM");
  EXPECT_EQ(book.view("b").last_failure->what.message, "b: 503");
  EXPECT_EQ(book.quote_latency("a").count, 1u);
  EXPECT_TRUE(book.fresh("a", "USDT", "COPM", std::chrono::system_clock::now()).has_value());
  // A second intent lists no one.
  q = run(io, quote_and_plan(all, intent, {}, 2s, &book));
  EXPECT_EQ(a.listings, 0);
  EXPECT_EQ(b.listings, 1);
  EXPECT_EQ(a.asked.size(), 2u);
}

TEST(QuoterWithBook, ModelsArePlannedOnOurClock) {
  asio::io_context io;
  poll_clock real;
  fake_venue a("a", real);
  a.quote_latency = 0ms;
  a.listed = {make_direction("a", "USDT", "COPM")};
  // The provider's clock is an hour ahead and its quote valid for 10 s: on its own clock the
  // quote would look obtained in the future, and valid for an hour more than it is.
  a.offset = 1h;
  a.validity = 10s;
  quote_book book;
  book.set_clock_offset("a", 1h);
  for (int i = 0; i < 20; ++i) book.record_execution_latency("a", 300ms);
  const std::vector<venue*> all = {&a};
  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "COPM";
  intent.amount = dec("100");
  const auto before = std::chrono::system_clock::now();
  quoted_plan q = run(io, quote_and_plan(all, intent, {}, 2s, &book));
  const auto after = std::chrono::system_clock::now();
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  ASSERT_EQ(q.models.size(), 1u);
  EXPECT_GE(q.models[0].obtained_at, before);
  EXPECT_LE(q.models[0].obtained_at, after);
  EXPECT_EQ(*q.models[0].valid_until - q.models[0].obtained_at, 10s);
  latency_histogram reference(2, std::int64_t{600} * 1'000'000'000);
  reference.record(300ms);
  const auto edge = std::chrono::nanoseconds(reference.percentile(95));
  EXPECT_EQ(q.models[0].execution_p95, std::chrono::ceil<std::chrono::milliseconds>(
                                           std::chrono::ceil<std::chrono::microseconds>(edge)));
  EXPECT_GE(q.models[0].execution_p95, 300ms);
}

// ---- probes: the book first, a fan-out only when it has no fresh route -----------------------

swap_intent usdt_copm(std::string_view amount) {
  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "COPM";
  intent.amount = dec(amount);
  return intent;
}

TEST(ProbeFromBook, PlansOverTheFreshModelsOfTheAllowedProviders) {
  quote_book book;
  pricing b = model("b", t0);
  b.rate_receive = dec("4100");
  book.put(model("a", t0), t0);
  book.put(b, t0);
  quoted_plan q = plan_from_book(book, usdt_copm("10"), {}, t0 + 1s);
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.models.size(), 2u);
  EXPECT_EQ(q.result.net, dec("41000"));
  swap_intent only_a = usdt_copm("10");
  only_a.providers = {"a"};
  q = plan_from_book(book, only_a, {}, t0 + 1s);
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.result.net, dec("40000"));
  // Stale: no model, no route.
  q = plan_from_book(book, usdt_copm("10"), {}, t0 + 6s);
  EXPECT_FALSE(q.result.ok());
  EXPECT_TRUE(q.models.empty());
}

// The book prepares its prices for the planner once per change: plans between two updates share
// one prepared market, and a put, or an execution latency (which localized reads), replaces it.
// Its plans are those over fresh_prices of the allowed providers.
TEST(ProbeFromBook, SharesOnePreparedMarketBetweenUpdates) {
  quote_book book;
  pricing b = model("b", t0);
  b.rate_receive = dec("4100");
  b.valid_until = t0 + 10s;
  book.put(model("a", t0), t0);
  book.put(b, t0);
  const auto first = book.prepared();
  EXPECT_EQ(first->quotes().size(), 2u);
  EXPECT_EQ(book.prepared(), first);
  for (const wall_time at : {t0 + 1s, t0 + 6s}) {
    const swap_intent intent = usdt_copm("10");
    const quoted_plan q = plan_from_book(book, intent, {}, at);
    const std::vector<pricing> fresh = book.fresh_prices(at);
    const plan expected = make_plan(intent, fresh, {}, at);
    EXPECT_EQ(q.models.size(), fresh.size());
    EXPECT_EQ(q.result.failure, expected.failure);
    EXPECT_EQ(q.result.net, expected.net);
    EXPECT_EQ(q.result.routes.size(), expected.routes.size());
    EXPECT_EQ(q.result.rejected.size(), expected.rejected.size());
  }
  EXPECT_EQ(book.prepared(), first);

  b.rate_receive = dec("4200");
  book.put(b, t0 + 2s);
  const auto second = book.prepared();
  EXPECT_NE(second, first);
  EXPECT_EQ(plan_from_book(book, usdt_copm("10"), {}, t0 + 3s).result.net, dec("42000"));
  // The first market is unchanged and still plans over the old price.
  EXPECT_EQ(make_plan(usdt_copm("10"), *first, {}, t0 + 1s).net, dec("41000"));

  book.record_execution_latency("b", 9s);
  const auto third = book.prepared();
  EXPECT_NE(third, second);
  // b's p95 execution is now above its remaining validity: ttl, and a's price wins.
  const quoted_plan q = plan_from_book(book, usdt_copm("10"), {}, t0 + 3s);
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.result.net, dec("40000"));
}

TEST(ProbeFromBook, AFreshBookMakesNoVenueCallsAStaleOneFansOut) {
  asio::io_context io;
  poll_clock real;
  fake_venue a("a", real);
  a.quote_latency = 0ms;
  a.listed = {make_direction("a", "USDT", "COPM")};
  quote_book book;
  const auto now = std::chrono::system_clock::now();
  book.set_directions("a", a.listed, now);
  pricing polled = model("a", now);
  polled.rate_receive = dec("4050");
  book.put(polled, now);
  const std::vector<venue*> all = {&a};
  // A threshold strategy's probe ("best net rate" for 100 USDT): the book answers.
  quoted_plan q = run(io, estimate_plan(all, usdt_copm("100"), {}, 2s, &book));
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.result.net, dec("405000"));
  EXPECT_TRUE(a.asked.empty());
  EXPECT_EQ(a.listings, 0);
  EXPECT_EQ(a.balance_reads, 0);
  // The same probe once the book's price is stale: one amount-specific quote.
  quote_book_options expired;
  expired.quote_max_age = 0ms;
  quote_book stale(expired);
  stale.set_directions("a", a.listed, now);
  stale.put(polled, now - 1s);
  q = run(io, estimate_plan(all, usdt_copm("100"), {}, 2s, &stale));
  ASSERT_TRUE(q.result.ok()) << q.result.failure;
  EXPECT_EQ(q.result.net, dec("400000"));
  ASSERT_EQ(a.asked.size(), 1u);
  EXPECT_EQ(a.asked[0].amount, dec("100"));
  // Without a book every probe fans out.
  q = run(io, estimate_plan(all, usdt_copm("100"), {}, 2s, nullptr));
  EXPECT_EQ(a.asked.size(), 2u);
  EXPECT_EQ(a.listings, 1);
}

TEST_F(QuotePoller, ABudgetSmallerThanTheReserveKeepsWhatItCanAndStillPolls) {
  // 2 requests a minute, burst 2, with a reserve of 2: the budget can keep 1 for execution, not
  // 2. The wait for 2 kept is "never" (duration::max()), which the poller must not add to now.
  const poll_settings settings = budgeted_prices(2);
  const auto all = venues();
  quote_poller poller(all, book, clock, settings);
  poller.start(io.get_executor());
  clock.advance(3500ms);
  EXPECT_EQ(poller.requests("a").prices, 1u);
  EXPECT_EQ(a.budget->available(clock.steady_now()), 1);
  EXPECT_TRUE(book.fresh("a", "USDT", "COPM", clock.wall_now()).has_value());
  clock.advance(60s);  // t = 63.5 s: one more every 30 s, at 30 and 60 s
  EXPECT_EQ(poller.requests("a").prices, 3u);
  EXPECT_GE(a.budget->available(clock.steady_now()), 1);
  poller.stop();
  clock.advance(0ms);
  EXPECT_EQ(poller.running(), 0u);
}

// A direction the provider's latest listing disables or no longer lists is not a route: its last
// price, still young, was handed out (fresh, fresh_prices, the prepared market) until it aged
// out, and plan_from_book sent the whole amount to a direction the provider would refuse.
TEST(ProbeFromBook, ADirectionNoLongerListedIsNoRoute) {
  for (const bool disabled : {true, false}) {
    quote_book book;
    pricing a = model("a", t0);
    a.rate_receive = dec("4100");
    book.set_directions("a", {make_direction("a", "USDT", "COPM")}, t0);
    book.put(a, t0);
    book.put(model("b", t0), t0);
    quoted_plan q = plan_from_book(book, usdt_copm("10"), {}, t0 + 1s);
    ASSERT_TRUE(q.result.ok()) << q.result.failure;
    EXPECT_EQ(q.result.net, dec("41000"));

    std::vector<direction> listing;
    if (disabled) {
      listing.push_back(make_direction("a", "USDT", "COPM"));
      listing.back().enabled = false;
    }
    book.set_directions("a", std::move(listing), t0 + 1s);
    EXPECT_FALSE(book.fresh("a", "USDT", "COPM", t0 + 2s).has_value());
    EXPECT_EQ(book.fresh_prices(t0 + 2s).size(), 1u);
    q = plan_from_book(book, usdt_copm("10"), {}, t0 + 2s);
    ASSERT_TRUE(q.result.ok()) << q.result.failure;
    EXPECT_EQ(q.result.net, dec("40000"));
    ASSERT_EQ(q.models.size(), 1u);
    EXPECT_EQ(q.models[0].provider, "b");
  }
}

}  // namespace
}  // namespace swaprouter
