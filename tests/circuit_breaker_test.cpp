#include "engine/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using steady = circuit_breaker::clock;
using std::chrono::seconds;
using std::chrono::system_clock;

const steady::time_point t0 = steady::time_point{} + 1000h;

// 2015-10-21 07:27:53 UTC, seven seconds before the RFC's example date.
system_clock::time_point wall_at(std::chrono::milliseconds extra = 0ms) {
  using namespace std::chrono;
  return sys_days(year_month_day(year(2015), month(10), day(21))) + 7h + 27min + 53s + extra;
}

TEST(RetryAfter, DelaySeconds) {
  const auto now = wall_at();
  EXPECT_EQ(parse_retry_after("7", now), seconds(7));
  EXPECT_EQ(parse_retry_after(" 120\t", now), seconds(120));
  EXPECT_EQ(parse_retry_after("0", now), seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), seconds(1'000'000'000));
}

TEST(RetryAfter, HttpDateForms) {
  const auto now = wall_at();
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), seconds(7));
  EXPECT_EQ(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now), seconds(7));
  EXPECT_EQ(parse_retry_after("Wed Oct 21 07:28:00 2015", now), seconds(7));
  EXPECT_EQ(parse_retry_after("Thu, 22 Oct 2015 07:27:53 GMT", now), seconds(86400));
  // A sub-second remainder rounds up so we never come back early.
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", wall_at(250ms)), seconds(7));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", wall_at(1ms)), seconds(7));
}

TEST(RetryAfter, DateInThePastIsZero) {
  const auto now = wall_at();
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:53 GMT", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds(0));
}

TEST(RetryAfter, GarbageIsNullopt) {
  const auto now = wall_at();
  for (const char* text : {"",
                           "   ",
                           "soon",
                           "-5",
                           "+5",
                           "7.5",
                           "7s",
                           "0x10",
                           "Wed, 32 Oct 2015 07:28:00 GMT",
                           "Wed, 21 Foo 2015 07:28:00 GMT",
                           "Wed, 21 Oct 2015 24:00:00 GMT",
                           "Wed, 21 Oct 2015 07:28:00 UTC",
                           "Wed, 21 Oct 2015 07:28:00 GMT extra",
                           "Xyz, 21 Oct 2015 07:28:00 GMT",
                           "Sun, 29 Feb 2015 07:28:00 GMT",
                           "Wed, 21 Oct 15 07:28:00 GMT",
                           "Wed, 21 Oct 2015 7:28:00 GMT",
                           "Wed 21 Oct 2015 07:28:00 GMT",
                           "Wed Oct 21 07:28:00",
                           "Wednesday, 21-Oct-2015 07:28:00 GMT"}) {
    EXPECT_EQ(parse_retry_after(text, now), std::nullopt) << '"' << text << '"';
  }
}

circuit_breaker_config config() {
  return {.failure_threshold = 3,
          .open_duration = 10s,
          .max_open_duration = 60s,
          .max_retry_after = 1h,
          .probe_timeout = 30s};
}

TEST(CircuitBreaker, RejectsInvalidConfig) {
  auto c = config();
  c.failure_threshold = 0;
  EXPECT_THROW(circuit_breaker{c}, std::invalid_argument);
  c = config();
  c.max_open_duration = 5s;
  EXPECT_THROW(circuit_breaker{c}, std::invalid_argument);
  c = config();
  c.open_duration = 0s;
  EXPECT_THROW(circuit_breaker{c}, std::invalid_argument);
}

TEST(CircuitBreaker, NoAllowBeforeRetryAfterEnds) {
  circuit_breaker breaker(config());
  EXPECT_TRUE(breaker.allow(t0));
  breaker.record_rate_limited(t0, parse_retry_after("7", wall_at()));
  EXPECT_EQ(breaker.state(), circuit_state::open);
  EXPECT_EQ(breaker.open_until(), t0 + 7s);
  for (auto t = t0; t < t0 + 7s; t += 250ms) EXPECT_FALSE(breaker.allow(t));
  EXPECT_FALSE(breaker.allow(t0 + 7s - 1ns));
  EXPECT_TRUE(breaker.allow(t0 + 7s));
  EXPECT_EQ(breaker.state(), circuit_state::half_open);
  EXPECT_EQ(breaker.open_until(), std::nullopt);
}

TEST(CircuitBreaker, RateLimitedWithoutRetryAfterUsesOpenDuration) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, std::nullopt);
  EXPECT_EQ(breaker.open_until(), t0 + 10s);
}

TEST(CircuitBreaker, RetryAfterIsCapped) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, parse_retry_after("99999999999", wall_at()));
  EXPECT_EQ(breaker.open_until(), t0 + 1h);
}

TEST(CircuitBreaker, SingleHalfOpenProbe) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, 5s);
  ASSERT_TRUE(breaker.allow(t0 + 5s));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(breaker.allow(t0 + 5s + i * 100ms));
  breaker.record_success(t0 + 16s);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  EXPECT_TRUE(breaker.allow(t0 + 16s));
  EXPECT_TRUE(breaker.allow(t0 + 16s));
}

TEST(CircuitBreaker, FailureThreshold) {
  circuit_breaker breaker(config());
  breaker.record_failure(t0);
  breaker.record_failure(t0);
  breaker.record_success(t0);  // a success breaks the run
  EXPECT_EQ(breaker.consecutive_failures(), 0);
  breaker.record_failure(t0 + 1s);
  breaker.record_failure(t0 + 2s);
  EXPECT_EQ(breaker.state(), circuit_state::closed);
  EXPECT_TRUE(breaker.allow(t0 + 2s));
  breaker.record_failure(t0 + 3s);
  EXPECT_EQ(breaker.state(), circuit_state::open);
  EXPECT_EQ(breaker.open_until(), t0 + 13s);
  EXPECT_FALSE(breaker.allow(t0 + 12s));
  EXPECT_TRUE(breaker.allow(t0 + 13s));
}

TEST(CircuitBreaker, FailedProbesDoubleTheOpenPeriodUpToTheMax) {
  circuit_breaker breaker(config());
  for (int i = 0; i < 3; ++i) breaker.record_failure(t0);
  auto t = *breaker.open_until();
  EXPECT_EQ(t, t0 + 10s);
  for (const auto expected : {20s, 40s, 60s, 60s}) {
    ASSERT_TRUE(breaker.allow(t));
    breaker.record_failure(t);
    ASSERT_EQ(breaker.state(), circuit_state::open);
    EXPECT_EQ(*breaker.open_until() - t, expected);
    t = *breaker.open_until();
  }
  // A successful probe closes the circuit and resets the period.
  ASSERT_TRUE(breaker.allow(t));
  breaker.record_success(t);
  EXPECT_EQ(breaker.current_open_duration(), 10s);
  for (int i = 0; i < 3; ++i) breaker.record_failure(t);
  EXPECT_EQ(*breaker.open_until() - t, 10s);
}

TEST(CircuitBreaker, RateLimitedProbeHonoursRetryAfter) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, 5s);
  ASSERT_TRUE(breaker.allow(t0 + 5s));
  breaker.record_rate_limited(t0 + 6s, 3s);
  EXPECT_EQ(breaker.open_until(), t0 + 9s);
  EXPECT_EQ(breaker.current_open_duration(), 20s);
}

TEST(CircuitBreaker, LateOutcomesWhileOpen) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, 5s);
  breaker.record_success(t0 + 1s);
  breaker.record_failure(t0 + 1s);
  EXPECT_EQ(breaker.state(), circuit_state::open);
  EXPECT_EQ(breaker.open_until(), t0 + 5s);
  breaker.record_rate_limited(t0 + 2s, 1s);  // shorter: ignored
  EXPECT_EQ(breaker.open_until(), t0 + 5s);
  breaker.record_rate_limited(t0 + 2s, 30s);  // longer: extends
  EXPECT_EQ(breaker.open_until(), t0 + 32s);
}

TEST(CircuitBreaker, LostProbeIsReplacedAfterProbeTimeout) {
  circuit_breaker breaker(config());
  breaker.record_rate_limited(t0, 0s);
  ASSERT_TRUE(breaker.allow(t0));
  EXPECT_FALSE(breaker.allow(t0 + 30s - 1ns));
  EXPECT_TRUE(breaker.allow(t0 + 30s));
  EXPECT_FALSE(breaker.allow(t0 + 31s));
}

TEST(CircuitState, Names) {
  EXPECT_EQ(to_string(circuit_state::closed), "closed");
  EXPECT_EQ(to_string(circuit_state::open), "open");
  EXPECT_EQ(to_string(circuit_state::half_open), "half_open");
}

}  // namespace
}  // namespace swaprouter
