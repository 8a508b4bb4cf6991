#include "engine/rate_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using steady = token_bucket::clock;

const steady::time_point t0 = steady::time_point{} + 1000h;

rate_limit per(std::int64_t count, std::chrono::nanoseconds period) {
  return {.count = count, .period = period};
}

TEST(RateLimit, ParsesDocumentedForms) {
  EXPECT_EQ(parse_rate_limit("30 per 60 s"), per(30, 60s));
  EXPECT_EQ(parse_rate_limit("30 per minute"), per(30, 60s));
  EXPECT_EQ(parse_rate_limit("300/min"), per(300, 60s));
  EXPECT_EQ(parse_rate_limit("  10 PER Second "), per(10, 1s));
  EXPECT_EQ(parse_rate_limit("5 per 1500 ms"), per(5, 1500ms));
  EXPECT_EQ(parse_rate_limit("1000 per 1 h"), per(1000, 1h));
  EXPECT_EQ(parse_rate_limit("7 / 2 days"), per(7, 48h));
  EXPECT_EQ(parse_rate_limit("30 per 60s"), per(30, 60s));
}

TEST(RateLimit, RejectsMalformed) {
  for (const char* text : {"", "per minute", "0 per minute", "-3 per minute", "30 minute", "30 per",
                           "30 per 60", "30 per 0 s", "30 per 60 fortnights", "30 per 60 s extra",
                           "99999999999999999999 per s", "1000000000000 per 1000 days"}) {
    const result<rate_limit> parsed = parse_rate_limit(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind, error_kind::invalid_argument) << text;
  }
}

TEST(TokenBucket, RejectsInvalidConstruction) {
  EXPECT_THROW(token_bucket(0, per(1, 1s)), std::invalid_argument);
  EXPECT_THROW(token_bucket(1, per(0, 1s)), std::invalid_argument);
  EXPECT_THROW(token_bucket(1, per(1, 0s)), std::invalid_argument);
  EXPECT_THROW(token_bucket(std::int64_t{1} << 40, per(1, 24h * 365)), std::invalid_argument);
}

TEST(TokenBucket, BurstNeverExceedsCapacity) {
  token_bucket bucket(per(30, 60s));
  int granted = 0;
  for (int i = 0; i < 1000; ++i) granted += bucket.try_take(t0) ? 1 : 0;
  EXPECT_EQ(granted, 30);
  EXPECT_EQ(bucket.available(t0), 0);
}

TEST(TokenBucket, ThirtyPerMinuteAllowsThirtyThenOneEveryTwoSeconds) {
  token_bucket bucket(*parse_rate_limit("30 per minute"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(bucket.try_take(t0)) << i;
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_EQ(bucket.time_until_available(t0), 2s);
  EXPECT_EQ(bucket.time_until_available(t0 + 500ms), 1500ms);

  // Try every 100 ms for ten minutes: a grant lands exactly on every 2 s boundary and nowhere else.
  std::vector<steady::duration> grants;
  for (auto t = t0 + 100ms; t <= t0 + 600s; t += 100ms) {
    if (bucket.try_take(t)) grants.push_back(t - t0);
  }
  ASSERT_EQ(grants.size(), 300u);
  for (std::size_t i = 0; i < grants.size(); ++i) {
    EXPECT_EQ(grants[i], 2s * static_cast<int>(i + 1)) << i;
  }
}

TEST(TokenBucket, RefillIsExactWithoutDrift) {
  // 3 per second: a token every 333,333,333.3 ns, which no integer nanosecond interval represents.
  token_bucket bucket(3, per(3, 1s));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bucket.try_take(t0));
  EXPECT_EQ(bucket.available(t0 + 333'333'333ns), 0);
  EXPECT_EQ(bucket.available(t0 + 333'333'334ns), 1);
  EXPECT_EQ(bucket.time_until_available(t0), 333'333'334ns);
  EXPECT_EQ(bucket.available(t0 + 1s), 3);

  // Taking as fast as allowed for an hour in 1 ms steps grants exactly 3 per second.
  std::int64_t granted = 0;
  for (auto t = t0 + 1ms; t <= t0 + 3600s; t += 1ms) {
    while (bucket.try_take(t)) ++granted;
  }
  EXPECT_EQ(granted, 3 * 3600);
}

TEST(TokenBucket, RefillStopsAtCapacityAndSurvivesLongIdle) {
  token_bucket bucket(5, per(1, 1s));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.try_take(t0));
  EXPECT_EQ(bucket.available(t0 + 3s), 3);
  EXPECT_EQ(bucket.available(t0 + 60s), 5);
  EXPECT_EQ(bucket.available(t0 + 24h * 365 * 100), 5);
  EXPECT_EQ(bucket.time_until_available(t0 + 60s), 0s);
}

TEST(TokenBucket, TimeGoingBackwardsGrantsNothingExtra) {
  token_bucket bucket(2, per(1, 1s));
  ASSERT_TRUE(bucket.try_take(t0 + 10s));
  ASSERT_TRUE(bucket.try_take(t0 + 10s));
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + 10s));
  EXPECT_TRUE(bucket.try_take(t0 + 11s));
}

TEST(TokenBucket, ReserveKeepsHeadroom) {
  token_bucket bucket(10, per(10, 1s));
  int low_priority = 0;
  while (bucket.try_take(t0, 3)) ++low_priority;
  EXPECT_EQ(low_priority, 7);
  EXPECT_EQ(bucket.time_until_available(t0, 3), 100ms);
  EXPECT_EQ(bucket.time_until_available(t0), 0s);
  int high_priority = 0;
  while (bucket.try_take(t0)) ++high_priority;
  EXPECT_EQ(high_priority, 3);
  EXPECT_EQ(bucket.time_until_available(t0, 10), steady::duration::max());
  EXPECT_FALSE(bucket.try_take(t0 + 1h, 10));
}

// Largest number of grants within any half-open window [t, t + width).
std::size_t max_in_window(const std::vector<steady::time_point>& grants, steady::duration width) {
  std::size_t best = 0;
  std::size_t first = 0;
  for (std::size_t last = 0; last < grants.size(); ++last) {
    while (grants[last] - grants[first] >= width) ++first;
    best = std::max(best, last - first + 1);
  }
  return best;
}

// Ten simulated minutes of random demand (quiet gaps and bursts) against one bucket.
std::vector<steady::time_point> simulate(token_bucket& bucket, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> gap_ms(0, 3000);
  std::uniform_int_distribution<int> burst(1, 40);
  std::vector<steady::time_point> grants;
  for (auto t = t0; t < t0 + 600s; t += std::chrono::milliseconds(gap_ms(rng))) {
    const int attempts = burst(rng);
    for (int i = 0; i < attempts; ++i) {
      if (bucket.try_take(t)) grants.push_back(t);
    }
  }
  return grants;
}

TEST(TokenBucket, RandomDemandNeverExceedsTheBucketBoundInAnySlidingWindow) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    token_bucket bucket(*parse_rate_limit("30 per 60 s"));
    const std::vector<steady::time_point> grants = simulate(bucket, seed);
    // Over 600 s at most the initial burst plus one token per 2 s.
    EXPECT_LE(grants.size(), 30u + 300u) << seed;
    EXPECT_GE(grants.size(), 250u) << seed;  // demand outruns supply: the budget is mostly used
    // In any window W at most capacity plus what refills during W: 30 + floor(W / 2 s).
    for (const steady::duration width :
         {steady::duration(1ms), steady::duration(1s), steady::duration(2s), steady::duration(10s),
          steady::duration(60s), steady::duration(120s)}) {
      const std::size_t bound = 30 + static_cast<std::size_t>(width / 2s);
      EXPECT_LE(max_in_window(grants, width), bound)
          << "seed " << seed << " width " << width.count();
    }
  }
}

TEST(TokenBucket, HalfCapacityBucketHonoursARollingWindowLimit) {
  // For a provider that counts 30 per rolling 60 s: capacity 15 plus 15 refilled per 60 s.
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    token_bucket bucket(15, per(15, 60s));
    const std::vector<steady::time_point> grants = simulate(bucket, seed);
    EXPECT_LE(max_in_window(grants, 60s), 30u) << seed;
  }
}

TEST(RateBudget, NamedBuckets) {
  rate_budget budget;
  ASSERT_TRUE(budget.configure("onek:/swap-directions", "30 per 60 s").has_value());
  ASSERT_TRUE(budget.configure("onek:/swap/open", "300 per minute").has_value());
  const result<void> bad = budget.configure("onek:/bad", "lots");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, error_kind::invalid_argument);
  EXPECT_FALSE(budget.contains("onek:/bad"));

  int directions = 0;
  int opens = 0;
  for (int i = 0; i < 400; ++i) {
    directions += budget.try_take("onek:/swap-directions", t0) ? 1 : 0;
    opens += budget.try_take("onek:/swap/open", t0) ? 1 : 0;
  }
  EXPECT_EQ(directions, 30);
  EXPECT_EQ(opens, 300);
  EXPECT_EQ(budget.time_until_available("onek:/swap-directions", t0), 2s);
  EXPECT_EQ(budget.time_until_available("onek:/swap/open", t0), 200ms);

  // No documented limit: never refused.
  EXPECT_FALSE(budget.contains("onek:/rates"));
  EXPECT_TRUE(budget.try_take("onek:/rates", t0));
  EXPECT_EQ(budget.time_until_available("onek:/rates", t0), 0s);

  budget.set("onek:/swap-directions", token_bucket(1, per(1, 1s)));
  ASSERT_NE(budget.find("onek:/swap-directions"), nullptr);
  EXPECT_EQ(budget.find("onek:/swap-directions")->capacity(), 1);
}

}  // namespace
}  // namespace swaprouter
