#include "engine/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace swaprouter {
namespace {

using namespace std::chrono_literals;

const wall_time now{std::chrono::milliseconds(1'700'000'000'000)};

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

pricing rate(std::string provider, std::string from, std::string to, std::string_view receive,
             std::string_view fee = "0") {
  pricing p;
  p.provider = std::move(provider);
  p.direction_code = from + "-" + to;
  p.spend_asset = std::move(from);
  p.receive_asset = std::move(to);
  p.spend_precision = 2;
  p.receive_precision = 2;
  p.rate_receive = dec(receive);
  p.fee_percent = dec(fee);
  p.obtained_at = now - 100ms;
  return p;
}

swap_intent spend(std::string_view amount) {
  swap_intent i;
  i.spend_asset = "USDT";
  i.receive_asset = "COPM";
  i.amount = dec(amount);
  return i;
}

bool has_reason(const plan& p, std::string_view prefix) {
  return std::any_of(p.rejected.begin(), p.rejected.end(),
                     [&](const rejected_route& r) { return r.reason.str().rfind(prefix, 0) == 0; });
}

TEST(Router, DirectBestProvider) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000", "1"),
                            rate("b", "USDT", "COPM", "4010", "1")};
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  ASSERT_EQ(p.routes.size(), 1u);
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "b");
  EXPECT_EQ(p.net, dec("396990"));
  EXPECT_EQ(p.fees[0].amount, dec("4010"));
  EXPECT_TRUE(has_reason(p, "outranked"));
}

TEST(Router, AdmissionStaleAndTtl) {
  std::vector<pricing> q = {rate("stale", "USDT", "COPM", "5000"),
                            rate("short", "USDT", "COPM", "4900"),
                            rate("ok", "USDT", "COPM", "4000")};
  q[0].obtained_at = now - 10s;
  q[1].valid_until = now + 200ms;
  q[1].execution_p95 = 300ms;
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "ok");
  EXPECT_TRUE(has_reason(p, "stale: stale"));
  EXPECT_TRUE(has_reason(p, "ttl: short"));
}

TEST(Router, BelowMinimumIsRejected) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000")};
  q[0].slippage_percent = dec("1");
  swap_intent i = spend("100");
  i.min_receive = dec("399000");
  plan p = make_plan(i, q, {}, now);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.failure, "below minimum: worst-case receive 396000 below 399000");
  i.min_receive = dec("396000");
  EXPECT_TRUE(make_plan(i, q, {}, now).ok());
}

TEST(Router, MultiHopBeatsDirectAfterFees) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000", "2"),
                            rate("a", "USDT", "USDC", "1", "0.1"),
                            rate("a", "USDC", "COPM", "4050", "0.1")};
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.routes.size(), 1u);
  ASSERT_EQ(p.routes[0].legs.size(), 2u);
  EXPECT_EQ(p.routes[0].legs[0].net, dec("99.9"));
  EXPECT_EQ(p.routes[0].legs[1].order.amount, dec("99.9"));
  EXPECT_EQ(p.net, dec("404190.40"));  // 99.9 x 4050 = 404595, less 0.1 %
  // With max_hops 1 only the direct route remains.
  planner_options direct;
  direct.max_hops = 1;
  EXPECT_EQ(make_plan(spend("100"), q, direct, now).net, dec("392000"));
}

TEST(Router, CrossProviderNeedsTheHeldAsset) {
  std::vector<pricing> q = {rate("a", "USDT", "USDC", "1"), rate("b", "USDC", "COPM", "4100"),
                            rate("c", "USDT", "COPM", "4000")};
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "c");
  planner_options held;
  held.held = {{"b", "USDC", dec("60")}};
  p = make_plan(spend("100"), q, held, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  ASSERT_EQ(p.routes.size(), 2u);   // the held 60 USDC bound the cross-provider leg
  EXPECT_EQ(p.net, dec("406000"));  // 60 x 4100 + 40 x 4000
}

TEST(Router, SplitForcedByMaxAndByBalance) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4100"), rate("b", "USDT", "COPM", "4000")};
  q[0].max_spend = dec("30");
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.net, dec("403000"));
  EXPECT_FALSE(p.routes[0].limits_hit.empty() && p.routes[1].limits_hit.empty());
  planner_options no_split;
  no_split.split = false;
  EXPECT_EQ(make_plan(spend("100"), q, no_split, now).net, dec("400000"));

  q[0].max_spend.reset();
  q[0].available = dec("45");
  p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.net, dec("404500"));
}

// Five small routes with the best rate fill the split width; the route that carries the bulk
// must still join them (found by bench/router_bench.cpp's market).
TEST(Router, SmallBestRoutesDoNotCrowdOutTheBulkRoute) {
  std::vector<pricing> q;
  for (const char* provider : {"a", "b", "c", "d", "e"}) {
    pricing small = rate(provider, "USDT", "COPM", "5000");
    small.max_spend = dec("1");
    q.push_back(small);
  }
  q.push_back(rate("f", "USDT", "COPM", "4000"));
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  // 5 x 1 at 5000 + 95 at 4000: every small route full, the rest on the large one.
  EXPECT_EQ(p.net, dec("405000"));
  EXPECT_EQ(p.routes.size(), 6u);
}

TEST(Router, MinimumsRespected) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4100"), rate("b", "USDT", "COPM", "4000")};
  q[0].max_spend = dec("95");
  q[1].min_spend = dec("10");
  plan p = make_plan(spend("100"), q, {}, now);
  ASSERT_TRUE(p.ok());
  for (const planned_route& r : p.routes) {
    if (r.legs[0].order.provider == "b") {
      EXPECT_GE(r.spend, dec("10"));
    }
  }
  EXPECT_EQ(p.net, dec("409000"));  // 90 at a, 10 at b
}

TEST(Router, NotEnoughCapacity) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4100")};
  q[0].max_spend = dec("50");
  plan p = make_plan(spend("100"), q, {}, now);
  EXPECT_FALSE(p.ok());
  EXPECT_TRUE(has_reason(p, "a USDT-COPM: max_spend"));
  planner_options partial;
  partial.allow_partial = true;
  p = make_plan(spend("100"), q, partial, now);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.unspent, dec("50"));
}

// A firm quote is for the amount rounded to its precision: its max is below the intent by less
// than one spend unit. That rest is dust no leg could carry; a plan spends the rounded amount
// and reports the dust unspent. One unit short is capacity missing, not dust.
TEST(Router, DustBelowTheSpendUnitIsLeftUnspent) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000")};
  q[0].spend_precision = 6;
  q[0].max_spend = dec("123.456789");
  plan p = make_plan(spend("123.456789123456789"), q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  EXPECT_EQ(p.spend, dec("123.456789"));
  EXPECT_EQ(p.unspent, dec("0.000000123456789"));
  EXPECT_EQ(p.net, dec("493827.15"));

  // Split over two such quotes: the dust is below the coarser of the two units.
  q.push_back(rate("b", "USDT", "COPM", "3999"));
  q[1].spend_precision = 2;
  q[1].max_spend = dec("100");
  q[0].max_spend = dec("23.456789");
  p = make_plan(spend("123.456789123"), q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  EXPECT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.spend, dec("123.456789"));
  EXPECT_EQ(p.unspent, dec("0.000000123"));

  q.pop_back();
  q[0].max_spend = dec("123.456788");
  p = make_plan(spend("123.456789123456789"), q, {}, now);
  EXPECT_FALSE(p.ok());
  EXPECT_TRUE(has_reason(p, "a USDT-COPM: max_spend"));
}

TEST(Router, ExactReceive) {
  std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000"), rate("b", "USDT", "COPM", "3900")};
  swap_intent i = spend("0");
  i.side = amount_side::receive;
  i.amount = dec("400000");
  plan p = make_plan(i, q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  EXPECT_EQ(p.spend, dec("100"));
  q[0].max_spend = dec("60");
  p = make_plan(i, q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  EXPECT_GE(p.net, dec("400000"));
  EXPECT_LE(p.spend, dec("101.03"));  // 60 at a, 40000/3900 = 10.257 at b, rounded up
}

// ---------------------------------------------------------------------------------------------
// Property: the planner never nets less than a brute force over a grid of splits.

constexpr int grid = 20;

struct market {
  std::vector<pricing> quotes;
  decimal amount;
};

decimal random_decimal(std::mt19937_64& rng, std::int64_t low, std::int64_t high, int places) {
  std::int64_t scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  std::uniform_int_distribution<std::int64_t> d(low * scale, high * scale);
  return decimal::from_int(d(rng)).div(decimal::from_int(scale), rounding::down).value();
}

market random_market(std::mt19937_64& rng) {
  market m;
  m.amount = random_decimal(rng, 50, 1000, 2);
  const int providers = std::uniform_int_distribution<int>(2, 5)(rng);
  std::bernoulli_distribution coin(0.35);
  for (int i = 0; i < providers; ++i) {
    pricing p = rate("p" + std::to_string(i), "USDT", "COPM", "1");
    p.receive_precision = std::uniform_int_distribution<int>(0, 4)(rng);
    p.fee_percent = random_decimal(rng, 0, 2, 3);
    if (coin(rng)) p.fee_fixed = random_decimal(rng, 0, 2000, 2);
    if (coin(rng)) p.min_spend = random_decimal(rng, 1, 200, 2);
    if (coin(rng)) p.max_spend = random_decimal(rng, 20, 600, 2);
    if (coin(rng)) p.available = random_decimal(rng, 20, 800, 2);
    if (coin(rng)) p.min_receive = random_decimal(rng, 1000, 400000, 0);
    if (coin(rng)) {
      p.model = pricing_model::order_book;
      p.book.side = book_side::buy;
      p.book.quantity_increment = dec("1");
      decimal price =
          random_decimal(rng, 1, 2, 6).div(decimal::from_int(4000), rounding::down).value();
      const int levels = std::uniform_int_distribution<int>(1, 5)(rng);
      for (int l = 0; l < levels; ++l) {
        p.book.levels.push_back({price, random_decimal(rng, 10'000, 2'000'000, 0)});
        price = price
                    .mul(random_decimal(rng, 1, 1, 0) + random_decimal(rng, 0, 0, 0) +
                             random_decimal(rng, 0, 5, 3)
                                 .div(decimal::from_int(100), rounding::down)
                                 .value(),
                         rounding::up)
                    .value();
      }
    } else {
      // Spend units, a receive maximum and the provider's own exact-receive rule on rate tables
      // (a KIIEX book that buys has a minimum quantity: min_receive, below).
      p.rate_receive = random_decimal(rng, 3800, 4200, 4);
      // Spend units that do not divide each other (1.25 beside 1, 0.75 beside 0.5) leave rests
      // no single part can take.
      p.spend_precision = std::uniform_int_distribution<int>(0, 3)(rng);
      if (coin(rng)) {
        p.spend_increment =
            random_decimal(rng, 1, 5, 0).div(decimal::from_int(4), rounding::down).value();
        p.spend_precision = 2;
      }
      if (coin(rng)) p.max_receive = random_decimal(rng, 100000, 3000000, 0);
      p.exact_receive = coin(rng);
      // Receive steps coarser than a spend unit's worth or than a last place: where two parts'
      // rates are close, the split that lands both near a step's top is far from the linear one.
      if (coin(rng)) p.receive_increment = random_decimal(rng, 1, 50, 0);
    }
    m.quotes.push_back(std::move(p));
  }
  return m;
}

// The best total net over splits whose parts are multiples of amount / grid and sum to amount.
// With `whole_parts`, only splits whose every part spends what it is given, save its rounding
// to the spend unit (the planner's plans take the whole amount unless allow_partial); else a
// part may spend less (a book's depth).
std::optional<decimal> brute_force(const market& m, bool whole_parts) {
  const std::size_t n = m.quotes.size();
  std::vector<std::vector<std::optional<decimal>>> net(
      n, std::vector<std::optional<decimal>>(grid + 1));
  for (std::size_t r = 0; r < n; ++r) {
    net[r][0] = decimal{};
    for (int k = 1; k <= grid; ++k) {
      const decimal part =
          m.amount.mul_div(decimal::from_int(k), decimal::from_int(grid), rounding::down).value();
      auto q = price_spend(m.quotes[r], part);
      if (!q) continue;
      const auto rounded = part.try_round_to_increment(spend_unit(m.quotes[r]), rounding::down);
      if (!whole_parts || q->spend == rounded) net[r][k] = q->net;
    }
  }
  std::vector<std::optional<decimal>> best(grid + 1);
  best[0] = decimal{};
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<std::optional<decimal>> next(grid + 1);
    for (int used = 0; used <= grid; ++used) {
      if (!best[used]) continue;
      for (int k = 0; used + k <= grid; ++k) {
        if (!net[r][k]) continue;
        const decimal total = *best[used] + *net[r][k];
        if (!next[used + k] || total > *next[used + k]) next[used + k] = total;
      }
    }
    best = std::move(next);
  }
  return best[grid];
}

// Every part re-prices to the same figures within its limits, and the parts fit the amount.
void expect_feasible(const market& m, const plan& p, const std::string& where) {
  decimal spent;
  for (const planned_route& r : p.routes) {
    ASSERT_EQ(r.legs.size(), 1u) << where;
    const planned_leg& l = r.legs[0];
    auto it = std::find_if(m.quotes.begin(), m.quotes.end(),
                           [&](const pricing& q) { return q.provider == l.order.provider; });
    ASSERT_NE(it, m.quotes.end()) << where;
    auto again = price_spend(*it, l.order.amount);
    ASSERT_TRUE(again.has_value()) << where << " " << describe(again.error());
    EXPECT_EQ(again->net, l.net) << where;
    spent += l.order.amount;
  }
  EXPECT_LE(spent, m.amount) << where;
}

TEST(RouterProperty, NeverBelowBruteForceOverAGrid) {
  const std::uint64_t seed = 20261121;
  std::mt19937_64 rng(seed);
  constexpr int cases = 3000;
  int planned = 0;
  for (int c = 0; c < cases; ++c) {
    const market m = random_market(rng);
    const std::string where = "seed " + std::to_string(seed) + " case " + std::to_string(c);
    swap_intent intent = spend("0");
    intent.amount = m.amount;
    // Odd cases take the whole amount; even ones may leave what no part can take unspent.
    planner_options options;
    options.allow_partial = c % 2 == 0;
    const plan p = make_plan(intent, m.quotes, options, now);
    const auto brute = brute_force(m, !options.allow_partial);
    if (brute) {
      if (!p.ok() || p.net < *brute) {
        for (const pricing& q : m.quotes) {
          std::string levels;
          for (const book_level& l : q.book.levels)
            levels += l.price.to_string() + "x" + l.quantity.to_string() + " ";
          std::printf(
              "%s model %d rate %s fee %s fixed %s min %s max %s min_receive %s max_receive %s "
              "avail %s sp %d increment %s rp %d receive_increment %s exact %d book %s\n",
              q.provider.c_str(), int(q.model), q.rate_receive.to_string().c_str(),
              q.fee_percent.to_string().c_str(), q.fee_fixed.to_string().c_str(),
              q.min_spend.to_string().c_str(), q.max_spend ? q.max_spend->to_string().c_str() : "-",
              q.min_receive.to_string().c_str(),
              q.max_receive ? q.max_receive->to_string().c_str() : "-",
              q.available ? q.available->to_string().c_str() : "-", q.spend_precision,
              q.spend_increment ? q.spend_increment->to_string().c_str() : "-", q.receive_precision,
              q.receive_increment ? q.receive_increment->to_string().c_str() : "-",
              int(q.exact_receive), levels.c_str());
        }
        for (const planned_route& r : p.routes)
          std::printf("part %s %s -> %s\n", r.legs[0].order.provider.c_str(),
                      r.spend.to_string().c_str(), r.net.to_string().c_str());
        std::printf("amount %s\n", m.amount.to_string().c_str());
      }
      ASSERT_TRUE(p.ok()) << where << ": brute force nets " << brute->to_string()
                          << ", planner: " << p.failure;
      ASSERT_GE(p.net, *brute) << where << ": planner " << p.net.to_string() << " < brute force "
                               << brute->to_string();
    }
    if (p.ok()) {
      ++planned;
      expect_feasible(m, p, where);
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(planned, cases / 2);
}

// ---------------------------------------------------------------------------------------------
// Differential: a plan over a prepared market is the plan over its quotes, field by field.

// Every field of a plan as text: two plans are the same when their texts are.
std::string plan_text(const plan& p) {
  const auto when = [](wall_time t) { return std::to_string(t.time_since_epoch().count()); };
  std::string out = "failure=" + p.failure + " spend=" + p.spend.to_string() +
                    " net=" + p.net.to_string() + " worst=" + p.worst_net.to_string() +
                    " unspent=" + p.unspent.to_string() + " rate=" + p.effective_rate.to_string();
  for (const asset_amount& f : p.fees) out += " fee " + f.asset + "=" + f.amount.to_string();
  for (const planned_route& r : p.routes) {
    out += "\nroute spend=" + r.spend.to_string() + " net=" + r.net.to_string() +
           " worst=" + r.worst_net.to_string();
    for (const std::string& l : r.limits_hit) out += " limit=" + l;
    for (const planned_leg& l : r.legs) {
      const leg& o = l.order;
      out += "\n  leg " + o.provider + " " + o.direction_code + " " + o.spend_asset + "->" +
             o.receive_asset + " side=" + std::to_string(static_cast<int>(o.side)) +
             " amount=" + o.amount.to_string() + " min=" + o.min_receive.to_string() +
             " quote=" + o.quote_id + " ttl=" + std::to_string(o.time_to_live.count()) +
             " gross=" + l.gross.to_string() + " fee=" + l.fee.to_string() +
             " net=" + l.net.to_string() + " worst=" + l.worst_net.to_string() +
             " levels=" + std::to_string(l.levels) + " firm=" + std::to_string(l.firm) +
             " at=" + when(l.obtained_at) +
             " until=" + (l.valid_until ? when(*l.valid_until) : std::string("-"));
    }
  }
  for (const rejected_route& r : p.rejected) out += "\nrejected " + r.route + ": " + r.reason;
  return out;
}

// The plan as text, or what it threw (an overflow must throw the same way on both paths).
template <class F>
std::string outcome(F&& make) {
  try {
    return plan_text(make());
  } catch (const std::exception& e) {
    return std::string("threw: ") + e.what();
  }
}

decimal random_amount(std::mt19937_64& rng, std::int64_t low, std::int64_t high, int places) {
  return random_decimal(rng, low, high, places);
}

// Several assets and providers, every model (rate tables, firm quotes, buy and sell books),
// fees, fixed fees, every limit, increments, balances, slippage, ages and validities around the
// admission limits, and long provider names (the interner's byte comparison).
std::vector<pricing> random_graph_market(std::mt19937_64& rng) {
  const std::array<const char*, 5> assets = {"USDT", "COPM", "BTC", "ETH", "USDCOIN_LONG"};
  const int asset_count = std::uniform_int_distribution<int>(2, 5)(rng);
  const int providers = std::uniform_int_distribution<int>(2, 5)(rng);
  std::bernoulli_distribution coin(0.3);
  std::bernoulli_distribution listed(0.6);
  std::vector<pricing> out;
  for (int v = 0; v < providers; ++v) {
    const std::string provider = v == 3 ? "provider_with_a_long_name" : "p" + std::to_string(v);
    for (int a = 0; a < asset_count; ++a) {
      for (int b = 0; b < asset_count; ++b) {
        if (a == b || !listed(rng)) continue;
        pricing p = rate(provider, assets[static_cast<std::size_t>(a)],
                         assets[static_cast<std::size_t>(b)], "1");
        p.spend_precision = std::uniform_int_distribution<int>(0, 8)(rng);
        p.receive_precision = std::uniform_int_distribution<int>(0, 8)(rng);
        if (coin(rng)) p.spend_increment = random_amount(rng, 1, 50, 2);
        if (coin(rng)) p.receive_increment = random_amount(rng, 1, 5, 3);
        p.fee_percent = random_amount(rng, 0, 2, 3);
        if (coin(rng)) p.fee_fixed = random_amount(rng, 0, 5, 2);
        if (coin(rng)) p.min_spend = random_amount(rng, 1, 100, 2);
        if (coin(rng)) p.max_spend = random_amount(rng, 20, 600, 2);
        if (coin(rng)) p.min_receive = random_amount(rng, 0, 20, 2);
        if (coin(rng)) p.max_receive = random_amount(rng, 50, 50000, 1);
        if (coin(rng)) p.available = random_amount(rng, 10, 800, 2);
        if (coin(rng)) p.slippage_percent = random_amount(rng, 0, 2, 2);
        p.execution_p95 =
            std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 3)(rng) * 400);
        p.obtained_at =
            now - std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 6000)(rng));
        if (coin(rng)) {
          p.valid_until =
              now + std::chrono::milliseconds(std::uniform_int_distribution<int>(-500, 3000)(rng));
        }
        const int model = std::uniform_int_distribution<int>(0, 4)(rng);
        if (model >= 3) {
          p.model = pricing_model::order_book;
          p.book.side = model == 3 ? book_side::buy : book_side::sell;
          p.book.quantity_increment = coin(rng) ? dec("0.01") : dec("1");
          decimal price = random_amount(rng, 1, 400, 3);
          const int levels = std::uniform_int_distribution<int>(1, 5)(rng);
          for (int l = 0; l < levels; ++l) {
            p.book.levels.push_back({price, random_amount(rng, 1, 300, 2)});
            // Mostly best first; sometimes out of order (the rate bound must then not be used).
            const decimal step = random_amount(rng, 0, 3, 3);
            const bool ordered = !coin(rng);
            const bool up = (p.book.side == book_side::buy) == ordered;
            price = up || price <= step ? price + step : price - step;
          }
        } else {
          p.model = model == 2 ? pricing_model::firm_quote : pricing_model::rate_table;
          p.rate_spend = coin(rng) ? random_amount(rng, 1, 20, 0) : dec("1");
          p.rate_receive = random_amount(rng, 0, 60, 4) + dec("0.001");
          if (model == 2) {
            p.firm = true;
            p.quote_id = "q" + std::to_string(out.size());
            p.quoted_spend = random_amount(rng, 10, 500, 2);
          }
          p.exact_receive = model == 0 && coin(rng);
        }
        out.push_back(std::move(p));
      }
    }
  }
  return out;
}

struct random_ask {
  swap_intent intent;
  planner_options options;
  wall_time at;
};

random_ask random_intent(std::mt19937_64& rng, const std::vector<pricing>& quotes) {
  const std::array<const char*, 6> assets = {"USDT", "COPM", "BTC", "ETH", "USDCOIN_LONG", "XRP"};
  std::bernoulli_distribution coin(0.3);
  random_ask a;
  auto pick = [&] { return assets[std::uniform_int_distribution<std::size_t>(0, 4)(rng)]; };
  a.intent.spend_asset = pick();
  a.intent.receive_asset = pick();
  if (std::bernoulli_distribution(0.7)(rng) && !quotes.empty()) {
    // Mostly an asset the market can spend.
    const pricing& q =
        quotes[std::uniform_int_distribution<std::size_t>(0, quotes.size() - 1)(rng)];
    a.intent.spend_asset = q.spend_asset;
  }
  if (std::bernoulli_distribution(0.02)(rng)) a.intent.receive_asset = assets[5];
  const bool receive = std::bernoulli_distribution(0.12)(rng);
  a.intent.side = receive ? amount_side::receive : amount_side::spend;
  a.intent.amount = receive ? random_amount(rng, 1, 3000, 2) : random_amount(rng, 1, 900, 2);
  if (std::bernoulli_distribution(0.1)(rng)) {
    a.intent.min_receive = random_amount(rng, 0, 5000, 1);
  }
  if (receive && coin(rng)) a.intent.max_spend = random_amount(rng, 10, 2000, 1);
  if (std::bernoulli_distribution(0.1)(rng)) {
    a.intent.deadline =
        now + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1500)(rng));
  }
  if (coin(rng)) a.intent.providers = {"p0", "provider_with_a_long_name"};
  a.options.max_hops = std::uniform_int_distribution<int>(1, 3)(rng);
  a.options.split = !std::bernoulli_distribution(0.2)(rng);
  a.options.split_routes = std::uniform_int_distribution<std::size_t>(1, 5)(rng);
  a.options.allow_partial = coin(rng);
  a.options.quote_max_age = std::chrono::milliseconds(coin(rng) ? 3000 : 5000);
  if (coin(rng)) {
    const int held = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int h = 0; h < held; ++h) {
      const int v = std::uniform_int_distribution<int>(0, 5)(rng);
      a.options.held.push_back({v == 3 ? "provider_with_a_long_name" : "p" + std::to_string(v),
                                pick(), random_amount(rng, 0, 700, 2)});
    }
  }
  a.at = now + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1000)(rng));
  return a;
}

// Plans of several intents over one prepared market (so later plans find routes that earlier
// ones searched and bounded) against make_plan over the quotes, for the single-pair markets of
// the brute-force property and for multi-asset ones with every feature.
TEST(RouterPrepared, SameAsPlanningOverTheQuotes) {
  const std::uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  constexpr int single_pair = 1000;
  constexpr int graphs = 2000;
  int planned = 0;
  int multi_hop = 0;
  for (int c = 0; c < single_pair + graphs; ++c) {
    const std::vector<pricing> quotes =
        c < single_pair ? random_market(rng).quotes : random_graph_market(rng);
    const prepared_market market(quotes);
    for (int k = 0; k < 4; ++k) {
      random_ask a = random_intent(rng, quotes);
      if (c < single_pair) {
        a.intent.spend_asset = "USDT";
        a.intent.receive_asset = "COPM";
      }
      const std::string where = "seed " + std::to_string(seed) + " case " + std::to_string(c) +
                                " intent " + std::to_string(k);
      const std::string expected =
          outcome([&] { return make_plan(a.intent, quotes, a.options, a.at); });
      const std::string prepared =
          outcome([&] { return make_plan(a.intent, market, a.options, a.at); });
      ASSERT_EQ(prepared, expected) << where;
      // The same intent again: every route it needs is now searched and bounded.
      ASSERT_EQ(outcome([&] { return make_plan(a.intent, market, a.options, a.at); }), expected)
          << where << " (again)";
      // The same pair for another amount: routes the first plan bounded are ruled out, or
      // routes it ruled out are bounded now.
      swap_intent other = a.intent;
      other.amount = random_amount(rng, 1, 2000, 2);
      ASSERT_EQ(outcome([&] { return make_plan(other, market, a.options, a.at); }),
                outcome([&] { return make_plan(other, quotes, a.options, a.at); }))
          << where << " (amount " << other.amount.to_string() << ")";
      if (expected.rfind("failure= ", 0) == 0) ++planned;
      if (expected.find("\n  leg", expected.find("\n  leg") + 1) != std::string::npos) {
        ++multi_hop;
      }
    }
  }
  // The markets exercise plans, not only failures, and multi-leg ones.
  EXPECT_GT(planned, 4000);
  EXPECT_GT(multi_hop, 1000);
}

// Plans on several threads over one fresh prepared market, so that they race to search and
// bound the same routes: each equals the plan over the quotes.
TEST(RouterPrepared, PlansOnSeveralThreadsAgree) {
  const std::uint64_t seed = 20261124;
  std::mt19937_64 rng(seed);
  for (int c = 0; c < 40; ++c) {
    const std::vector<pricing> quotes = random_graph_market(rng);
    std::vector<random_ask> asks;
    std::vector<std::string> expected;
    for (int k = 0; k < 8; ++k) {
      asks.push_back(random_intent(rng, quotes));
      // Half the asks share one intent pair and options: the same route set.
      if (k % 2 == 1) {
        asks.back().intent.spend_asset = asks.front().intent.spend_asset;
        asks.back().intent.receive_asset = asks.front().intent.receive_asset;
        asks.back().options = asks.front().options;
      }
      const random_ask& a = asks.back();
      expected.push_back(outcome([&] { return make_plan(a.intent, quotes, a.options, a.at); }));
    }
    const prepared_market market(quotes);
    std::vector<std::vector<std::string>> got(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < got.size(); ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t k = 0; k < asks.size(); ++k) {
          const random_ask& a = asks[(k + t) % asks.size()];
          got[t].push_back(outcome([&] { return make_plan(a.intent, market, a.options, a.at); }));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (std::size_t t = 0; t < got.size(); ++t) {
      for (std::size_t k = 0; k < asks.size(); ++k) {
        ASSERT_EQ(got[t][k], expected[(k + t) % asks.size()])
            << "seed " << seed << " case " << c << " thread " << t << " ask " << k;
      }
    }
  }
}

// With fresh_for (the quote book's market), a plan leaves out stale quotes and the providers the
// intent does not allow, as plan_from_book's filtering did.
TEST(RouterPrepared, FreshForLeavesOutWhatTheBookWouldNotHandOut) {
  const std::uint64_t seed = 20261123;
  std::mt19937_64 rng(seed);
  const auto fresh_for = 4000ms;
  for (int c = 0; c < 500; ++c) {
    const std::vector<pricing> quotes = random_graph_market(rng);
    const prepared_market market(std::vector<pricing>(quotes), fresh_for);
    for (int k = 0; k < 3; ++k) {
      const random_ask a = random_intent(rng, quotes);
      std::vector<pricing> kept;
      for (const pricing& q : quotes) {
        const bool allowed = a.intent.providers.empty() ||
                             std::find(a.intent.providers.begin(), a.intent.providers.end(),
                                       q.provider) != a.intent.providers.end();
        const bool fresh =
            a.at - q.obtained_at <= fresh_for && (!q.valid_until || *q.valid_until > a.at);
        if (allowed && fresh) kept.push_back(q);
      }
      const std::string where = "seed " + std::to_string(seed) + " case " + std::to_string(c) +
                                " intent " + std::to_string(k);
      ASSERT_EQ(outcome([&] { return make_plan(a.intent, market, a.options, a.at); }),
                outcome([&] { return make_plan(a.intent, kept, a.options, a.at); }))
          << where;
    }
  }
}

// A split that fills several two-hop routes through sell books to their depth and puts the rest
// on a direct route, over one prepared market for amounts up, down and back and forth: what a
// plan keeps in the market for later ones (each route's price at its high, the fill's steps for
// its members, a route's solo gain from its high on) serves every amount as planning it afresh.
TEST(RouterPrepared, EveryAmountPlansTheSameAfterOthers) {
  std::vector<pricing> quotes;
  for (const char* via : {"BTC", "ETH", "TRX"}) {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"USDT", via},
                                   std::pair<std::string, std::string>{via, "COPM"}}) {
      pricing p = rate("book", from, to, "1", "0.25");
      p.model = pricing_model::order_book;
      p.book.side = book_side::sell;
      p.book.quantity_increment = dec("0.01");
      p.receive_precision = 6;
      for (int l = 0; l < 6; ++l) {
        p.book.levels.push_back({decimal::from_int(400 - l), decimal::from_int(20 + l)});
      }
      quotes.push_back(std::move(p));
    }
  }
  pricing direct = rate("book", "USDT", "COPM", "3900", "0.25");
  direct.max_spend = dec("5000");
  quotes.push_back(direct);
  quotes.push_back(rate("other", "USDT", "COPM", "3800", "0.1"));
  const prepared_market market(quotes);
  int split = 0;
  for (const std::string_view amount : {"1000", "0.01", "0.05", "0.33", "1", "2.5", "7", "1000.5",
                                        "40", "4999", "6000", "0.2", "1000", "1000.5", "13.13"}) {
    for (const bool receive : {false, true}) {
      swap_intent i = spend(amount);
      if (receive) {
        i.side = amount_side::receive;
        i.amount = dec(amount).mul(decimal::from_int(1000), rounding::down).value();
      }
      planner_options options;
      const std::string expected = outcome([&] { return make_plan(i, quotes, options, now); });
      ASSERT_EQ(outcome([&] { return make_plan(i, market, options, now); }), expected)
          << (receive ? "receive " : "spend ") << amount;
      if (expected.find("\nroute", expected.find("\nroute") + 1) != std::string::npos) ++split;
    }
  }
  // Most of the plans split over the books and the direct route.
  EXPECT_GT(split, 10);
}

// The same topology with other prices, limits, balances, ages and models, quote by quote.
std::vector<pricing> repriced(std::mt19937_64& rng, const std::vector<pricing>& quotes) {
  std::vector<pricing> pool;
  while (pool.size() < quotes.size()) {
    for (pricing& p : random_graph_market(rng)) pool.push_back(std::move(p));
  }
  std::vector<pricing> out;
  for (std::size_t i = 0; i < quotes.size(); ++i) {
    pricing p = pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
    p.provider = quotes[i].provider;
    p.spend_asset = quotes[i].spend_asset;
    p.receive_asset = quotes[i].receive_asset;
    p.direction_code = quotes[i].direction_code;
    out.push_back(std::move(p));
  }
  return out;
}

// Plans over successive quote sets of one topology through a route_cache (as a decision loop
// makes them) against make_plan over each set; a quote set of another topology replaces the
// cache and plans the same as without it.
TEST(RouterCache, SameTopologyOtherPricesPlansTheSame) {
  const std::uint64_t seed = 20261125;
  std::mt19937_64 rng(seed);
  route_cache cache;
  int reused = 0;
  int replaced = 0;
  for (int c = 0; c < 600; ++c) {
    const std::vector<pricing> first = random_graph_market(rng);
    for (int step = 0; step < 4; ++step) {
      const std::vector<pricing> quotes = step == 0 ? first : repriced(rng, first);
      // The previous set's quotes are gone: the cache must not refer to them.
      const bool held = cache.holds(quotes);
      if (step > 0) {
        ASSERT_TRUE(held) << "case " << c << " step " << step;
      }
      (held ? reused : replaced) += 1;
      for (int k = 0; k < 3; ++k) {
        const random_ask a = random_intent(rng, quotes);
        const std::string where = "seed " + std::to_string(seed) + " case " + std::to_string(c) +
                                  " step " + std::to_string(step) + " intent " + std::to_string(k);
        ASSERT_EQ(outcome([&] { return make_plan(a.intent, quotes, a.options, a.at, cache); }),
                  outcome([&] { return make_plan(a.intent, quotes, a.options, a.at); }))
            << where;
        ASSERT_TRUE(cache.holds(quotes)) << where;
      }
    }
  }
  EXPECT_GT(reused, 1500);
  EXPECT_GT(replaced, 500);
}

// Routes of equal best rate rank in the order found, whatever their order under the previous
// prices: a cached set re-sorted after a tie appears plans as a fresh one (provider a, found
// first).
TEST(RouterCache, TiesAfterNewPricesRankInTheOrderFound) {
  planner_options options;
  options.split = false;
  route_cache cache;
  const std::vector<pricing> before = {rate("a", "USDT", "COPM", "4000"),
                                       rate("b", "USDT", "COPM", "4010")};
  const plan first = make_plan(spend("100"), before, options, now, cache);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.routes.at(0).legs.at(0).order.provider, "b");
  const std::vector<pricing> tied = {rate("a", "USDT", "COPM", "4010"),
                                     rate("b", "USDT", "COPM", "4010")};
  const plan cached = make_plan(spend("100"), tied, options, now, cache);
  const plan fresh = make_plan(spend("100"), tied, options, now);
  ASSERT_TRUE(cached.ok());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh.routes.at(0).legs.at(0).order.provider, "a");
  EXPECT_EQ(cached.routes.at(0).legs.at(0).order.provider, "a");
}

TEST(RouterCache, TopologyChangeReplacesTheRoutes) {
  const std::vector<pricing> two = {rate("a", "USDT", "COPM", "4000"),
                                    rate("b", "USDT", "COPM", "4100")};
  route_cache cache;
  EXPECT_FALSE(cache.holds(two));
  plan p = make_plan(spend("100"), two, {}, now, cache);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "b");
  EXPECT_TRUE(cache.holds(two));
  // New prices, same topology: the cache is reused and the plan follows the prices.
  const std::vector<pricing> cheaper_b = {rate("a", "USDT", "COPM", "4000"),
                                          rate("b", "USDT", "COPM", "3900")};
  EXPECT_TRUE(cache.holds(cheaper_b));
  p = make_plan(spend("100"), cheaper_b, {}, now, cache);
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "a");
  EXPECT_EQ(plan_text(p), plan_text(make_plan(spend("100"), cheaper_b, {}, now)));
  // Another provider in b's place, the same quotes in another order, or one quote fewer: another
  // topology, planned as without the cache.
  const std::vector<std::vector<pricing>> others = {
      {rate("a", "USDT", "COPM", "4000"), rate("c", "USDT", "COPM", "4200")},
      {rate("b", "USDT", "COPM", "4100"), rate("a", "USDT", "COPM", "4000")},
      {rate("a", "USDT", "COPM", "4000")},
      {rate("a", "USDT", "COPM", "4000"), rate("b", "USDT", "BTC", "0.001")}};
  for (const std::vector<pricing>& q : others) {
    EXPECT_FALSE(cache.holds(q));
    EXPECT_EQ(plan_text(make_plan(spend("100"), q, {}, now, cache)),
              plan_text(make_plan(spend("100"), q, {}, now)));
    EXPECT_TRUE(cache.holds(q));
  }
  p = make_plan(spend("100"), others[0], {}, now, cache);
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "c");
}

// A minimum off the spend unit (19.95 at one place, or a min_receive worth 19.95) is 20 in
// practice: the split's part at b must be 20, not the minimum, which rounds down to 19.9 and is
// refused, so that the whole amount went to b's worse rate. b fixes the receive itself (001k),
// the rule whose exact-receive price never raised the route's low to a spend that prices.
TEST(Router, SplitPartAtAMinimumOffTheSpendUnit) {
  pricing a = rate("a", "USDT", "COPM", "4000");
  a.max_spend = dec("280");
  pricing by_min_spend = rate("b", "USDT", "COPM", "3900");
  by_min_spend.spend_precision = 1;
  by_min_spend.exact_receive = true;
  by_min_spend.min_spend = dec("19.95");
  pricing by_min_receive = by_min_spend;
  by_min_receive.min_spend = decimal{};
  by_min_receive.min_receive = dec("77805");  // 19.95 x 3900
  for (const pricing& b : {by_min_spend, by_min_receive}) {
    const std::vector<pricing> q = {a, b};
    const plan p = make_plan(spend("290"), q, {}, now);
    ASSERT_TRUE(p.ok()) << p.failure;
    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].legs[0].order.provider, "a");
    EXPECT_EQ(p.routes[0].spend, dec("270"));
    EXPECT_EQ(p.routes[1].spend, dec("20"));
    EXPECT_EQ(p.net, dec("1158000"));  // 270 x 4000 + 20 x 3900, not 290 x 3900 = 1131000
  }
}

// A maximum off the spend unit (41.975 at two places, or a max_receive or balance worth it) lets
// a spend only 41.97: the rest of the amount is b's, all of it, where the split gave b the
// amount minus 41.975 (rounded down to 62.62) and left 0.01 unspent, and named no limit hit.
TEST(Router, SplitPartAtAMaximumOffTheSpendUnit) {
  pricing by_max_spend = rate("a", "USDT", "COPM", "4000");
  by_max_spend.max_spend = dec("41.975");
  pricing by_max_receive = rate("a", "USDT", "COPM", "4000");
  by_max_receive.max_receive = dec("167900");  // 41.975 x 4000
  pricing by_balance = rate("a", "USDT", "COPM", "4000");
  by_balance.available = dec("41.975");
  for (const pricing& a : {by_max_spend, by_max_receive, by_balance}) {
    const std::vector<pricing> q = {a, rate("b", "USDT", "COPM", "3900")};
    const plan p = make_plan(spend("104.6"), q, {}, now);
    ASSERT_TRUE(p.ok()) << p.failure;
    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].legs[0].order.provider, "b");
    EXPECT_EQ(p.routes[0].spend, dec("62.63"));
    EXPECT_EQ(p.routes[1].spend, dec("41.97"));
    EXPECT_EQ(p.spend, dec("104.6"));
    EXPECT_EQ(p.unspent, decimal{});
    EXPECT_EQ(p.net, dec("412137"));  // 62.63 x 3900 + 41.97 x 4000
    EXPECT_EQ(p.routes[1].limits_hit.size(), 1u);
  }
}

// An asset nothing is quoted for (a mistyped code, or one only an excluded provider trades) is
// named in the reason.
TEST(Router, AnAssetNoProviderTradesIsNamed) {
  const std::vector<pricing> q = {rate("a", "USDT", "COPM", "4000")};
  swap_intent from = spend("10");
  from.spend_asset = "USDX";
  plan p = make_plan(from, q, {}, now);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.failure, "no route: nothing quoted from USDX");
  swap_intent to = spend("10");
  to.receive_asset = "COP";
  p = make_plan(to, q, {}, now);
  EXPECT_EQ(p.failure, "no route: nothing quoted to COP");
  // A pair both of whose assets are traded, with no route between them, keeps the general reason.
  p = make_plan(spend("10"),
                std::vector<pricing>{rate("a", "USDT", "BTC", "0.00001"),
                                     rate("b", "ETH", "COPM", "9000000")},
                {}, now);
  EXPECT_EQ(p.failure, "no route: no candidate or split can take the amount");
}

// Parts in units that do not divide each other: a at most 30 in units of 1.25, b in whole
// units. The linear split (30 and 46.6) leaves 0.6 that neither can take; two units of a
// become three of b, and only 0.1 stays unspent.
TEST(Router, SplitPartsInUnitsThatDoNotDivideEachOther) {
  pricing a = rate("a", "USDT", "COPM", "4000");
  a.spend_increment = dec("1.25");
  a.max_spend = dec("30");
  pricing b = rate("b", "USDT", "COPM", "3990");
  b.spend_precision = 0;
  const plan p = make_plan(spend("76.6"), std::vector<pricing>{a, b}, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  ASSERT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.routes[0].legs[0].order.provider, "b");
  EXPECT_EQ(p.routes[0].spend, dec("49"));
  EXPECT_EQ(p.routes[1].spend, dec("27.5"));
  EXPECT_EQ(p.unspent, dec("0.1"));
  EXPECT_EQ(p.net, dec("305510"));  // 49 x 3990 + 27.5 x 4000, where 46 and 30 net 303540
}

// The last unit spent at a book buys less than it costs (its fill's value is rounded up to the
// spend unit): the split takes that unit elsewhere.
TEST(Router, SplitLeavesABooksLastUnitThatBuysLessThanItCosts) {
  pricing book = rate("kiiex", "USDT", "COPM", "1");
  book.model = pricing_model::order_book;
  // 1000 COPM at 0.00025001 USDT: 0.25001, charged 0.26.
  book.book = {book_side::buy, {{dec("0.00025001"), dec("1000")}}, dec("1")};
  const std::vector<pricing> q = {book, rate("b", "USDT", "COPM", "3990")};
  const plan p = make_plan(spend("10"), q, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  ASSERT_EQ(p.routes.size(), 2u);
  // 0.25 buys 999 COPM at the book; its 0.26th cent would buy one more.
  EXPECT_EQ(p.routes[1].legs[0].order.provider, "kiiex");
  EXPECT_EQ(p.routes[1].spend, dec("0.25"));
  EXPECT_EQ(p.routes[1].net, dec("999"));
  EXPECT_EQ(p.net, dec("39901.5"));  // 999 + 9.75 x 3990
}

// a's receive comes in steps of 700 COPM and b's rate is 0.5 COPM below a's. The linear split
// fills a to its maximum, 60.5 USDT for 242000 COPM, which nets 241500; trimmed to the least
// spend of that step, 60.4, it still loses 100 to the step, and b alone nets more (399950).
// 60.2 USDT nets 240800 exactly, and the 0.2 USDT moved to b costs 0.1.
TEST(Router, SplitLandsACoarseReceiveStepOnItsTop) {
  pricing a = rate("a", "USDT", "COPM", "4000");
  a.spend_precision = 1;
  a.receive_increment = dec("700");
  a.max_spend = dec("60.5");
  pricing b = rate("b", "USDT", "COPM", "3999.5");
  b.spend_precision = 1;
  const plan p = make_plan(spend("100"), std::vector<pricing>{a, b}, {}, now);
  ASSERT_TRUE(p.ok()) << p.failure;
  ASSERT_EQ(p.routes.size(), 2u);
  const auto at_a = p.routes[0].legs[0].order.provider == "a" ? 0 : 1;
  EXPECT_EQ(p.routes[at_a].spend, dec("60.2"));
  EXPECT_EQ(p.routes[at_a].net, dec("240800"));
  EXPECT_EQ(p.routes[1 - at_a].spend, dec("39.8"));
  EXPECT_EQ(p.net, dec("399980.1"));  // 240800 + 39.8 x 3999.5; 60.4 and 39.6 net 399880.2
}

}  // namespace
}  // namespace swaprouter
