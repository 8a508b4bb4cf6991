#include "engine/clock_offset.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using steady = clock_offset_estimator::steady;
using wall = clock_offset_estimator::wall;
using std::chrono::milliseconds;

// A simulated exchange with a provider whose clock is `server_ahead` of ours. Our wall clock and
// the steady clock advance together; the network delays each way are random and independent, so
// every sample is off by half their difference.
class simulated_provider {
 public:
  simulated_provider(wall::duration server_ahead, std::uint32_t seed)
      : server_ahead_(server_ahead), rng_(seed) {}

  // One request/response at the current simulated time, then time moves on by 5 s.
  bool exchange(clock_offset_estimator& estimator) {
    // Raw mt19937 output is specified exactly by the standard, unlike the distributions.
    const milliseconds up(5 + rng_() % 146);
    const milliseconds down(5 + rng_() % 146);
    const steady::time_point send_steady = steady_now_;
    const wall::time_point send_wall = wall_now_;
    // Providers report milliseconds: truncate like they do.
    const wall::time_point server_time =
        std::chrono::floor<milliseconds>(wall_now_ + up + server_ahead_);
    const bool accepted =
        estimator.add_sample(send_steady, send_steady + up + down, send_wall, server_time);
    steady_now_ += 5s;
    wall_now_ += 5s;
    return accepted;
  }

  void set_server_ahead(wall::duration ahead) { server_ahead_ = ahead; }

 private:
  wall::duration server_ahead_;
  std::mt19937 rng_;
  steady::time_point steady_now_ = steady::time_point{} + 1000h;
  wall::time_point wall_now_ = wall::time_point{} + std::chrono::hours(24 * 365 * 55);
};

milliseconds error_of(const clock_offset_estimator& estimator, wall::duration truth) {
  return std::chrono::abs(*estimator.offset() - std::chrono::round<milliseconds>(truth));
}

TEST(ClockOffset, EmptyEstimator) {
  clock_offset_estimator estimator;
  EXPECT_EQ(estimator.offset(), std::nullopt);
  const wall::time_point now = wall::time_point{} + 1000h;
  EXPECT_EQ(estimator.provider_now(now), now);
  EXPECT_EQ(estimator.size(), 0u);
}

TEST(ClockOffset, RejectsInvalidConfig) {
  EXPECT_THROW(clock_offset_estimator({.window = 0}), std::invalid_argument);
  EXPECT_THROW(clock_offset_estimator({.window = 15, .max_rtt = 0s}), std::invalid_argument);
}

TEST(ClockOffset, ExactSymmetricSample) {
  clock_offset_estimator estimator;
  const steady::time_point s = steady::time_point{} + 1000h;
  const wall::time_point w = wall::time_point{} + 1000h;
  // Sent at w, answered 200 ms later; the server stamped w + 100 ms on a clock 10 s ahead.
  ASSERT_TRUE(estimator.add_sample(s, s + 200ms, w, w + 100ms + 10s));
  EXPECT_EQ(estimator.offset(), milliseconds(10'000));
  EXPECT_EQ(estimator.provider_now(w + 1h), w + 1h + 10s);
}

TEST(ClockOffset, ConvergesOnServerTenSecondsAhead) {
  for (std::uint32_t seed = 1; seed <= 10; ++seed) {
    clock_offset_estimator estimator;
    simulated_provider provider(10s, seed);
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(provider.exchange(estimator));
      // No sample is off by more than half the largest delay difference (plus truncation).
      ASSERT_LE(error_of(estimator, 10s), 74ms) << "seed " << seed << " sample " << i;
    }
    EXPECT_LE(error_of(estimator, 10s), 40ms) << "seed " << seed;
    EXPECT_EQ(estimator.size(), 15u);
  }
}

TEST(ClockOffset, ConvergesOnServerTenSecondsBehind) {
  for (std::uint32_t seed = 1; seed <= 10; ++seed) {
    clock_offset_estimator estimator;
    simulated_provider provider(-10s, seed);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(provider.exchange(estimator));
    EXPECT_LE(error_of(estimator, -10s), 40ms) << "seed " << seed;
  }
}

TEST(ClockOffset, FollowsAStepOnceNewSamplesAreTheMajority) {
  clock_offset_estimator estimator;
  simulated_provider provider(0s, 7);
  for (int i = 0; i < 15; ++i) provider.exchange(estimator);
  EXPECT_LE(error_of(estimator, 0s), 74ms);
  provider.set_server_ahead(10s);
  for (int i = 0; i < 7; ++i) provider.exchange(estimator);
  EXPECT_LE(error_of(estimator, 0s), 74ms);  // still the old majority
  provider.exchange(estimator);
  EXPECT_LE(error_of(estimator, 10s), 74ms);
}

TEST(ClockOffset, MedianRejectsOutliers) {
  clock_offset_estimator estimator;
  const steady::time_point s = steady::time_point{} + 1000h;
  const wall::time_point w = wall::time_point{} + 1000h;
  const auto add = [&](int i, wall::duration server_error) {
    const auto at = std::chrono::seconds(i);
    return estimator.add_sample(s + at, s + at + 40ms, w + at, w + at + 20ms + 10s + server_error);
  };
  for (int i = 0; i < 14; ++i) ASSERT_TRUE(add(i, 0s));
  // A stale cached Date header five minutes old, with a perfectly good round trip.
  ASSERT_TRUE(add(14, -5min));
  EXPECT_EQ(estimator.offset(), milliseconds(10'000));
  // Up to 7 of 15 outliers in the window still leave the median on the truth.
  for (int i = 15; i < 21; ++i) ASSERT_TRUE(add(i, i % 2 == 0 ? 1h : -1h));
  EXPECT_EQ(estimator.size(), 15u);
  EXPECT_EQ(estimator.offset(), milliseconds(10'000));
}

TEST(ClockOffset, DiscardsLongAndNegativeRoundTrips) {
  clock_offset_estimator estimator({.window = 15, .max_rtt = 2s});
  const steady::time_point s = steady::time_point{} + 1000h;
  const wall::time_point w = wall::time_point{} + 1000h;
  EXPECT_FALSE(estimator.add_sample(s, s + 2001ms, w, w + 1h));
  EXPECT_FALSE(estimator.add_sample(s, s - 1ms, w, w + 1h));
  EXPECT_EQ(estimator.size(), 0u);
  EXPECT_TRUE(estimator.add_sample(s, s + 2s, w, w + 1s + 3s));
  EXPECT_EQ(estimator.offset(), milliseconds(3000));
}

TEST(ClockOffset, EvenCountTakesTheMidpointAndClearForgets) {
  clock_offset_estimator estimator;
  const steady::time_point s = steady::time_point{} + 1000h;
  const wall::time_point w = wall::time_point{} + 1000h;
  ASSERT_TRUE(estimator.add_sample(s, s, w, w + 10s));
  ASSERT_TRUE(estimator.add_sample(s, s, w, w + 12s));
  EXPECT_EQ(estimator.offset(), milliseconds(11'000));
  estimator.clear();
  EXPECT_EQ(estimator.offset(), std::nullopt);
  EXPECT_EQ(estimator.size(), 0u);
}

}  // namespace
}  // namespace swaprouter
