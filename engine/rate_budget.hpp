// Request budgets: a token bucket per provider endpoint, configured from documented limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/result.hpp"

namespace swaprouter {

/// A documented request rate: `count` requests per `period`.
struct rate_limit {
  std::int64_t count = 0;
  std::chrono::nanoseconds period{0};

  friend bool operator==(const rate_limit&, const rate_limit&) = default;
};

/// Parses a limit as providers document it: "30 per 60 s", "30 per minute", "300/min",
/// "10 per second", "5 per 1500 ms", "1000 per 1 h". Units: ms, s/sec/second(s), m/min/minute(s),
/// h/hr/hour(s), d/day(s). Malformed, zero or out-of-range limits are errors of kind
/// invalid_argument. Thread-safe (pure function).
result<rate_limit> parse_rate_limit(std::string_view text);

/// A token bucket: holds at most `capacity` tokens, starts full, and gains `refill.count` tokens
/// every `refill.period`, continuously. Arithmetic is exact integer nanoseconds (a token is
/// refill.period units and every nanosecond adds refill.count units), so there is no drift however
/// long it runs. Time is passed in, never read, so tests drive it; time going backwards is ignored.
///
/// Guarantee: over any interval of length W it grants at most capacity + refill over W (rounded
/// down). A provider that enforces N requests per rolling window W is therefore only respected when
/// capacity + (refill over W) <= N: a bucket with capacity N and refill N per W can grant almost 2N
/// within one window W.
///
/// Not thread-safe: use from one thread (the engine's io_context).
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// Throws std::invalid_argument when capacity < 1, refill.count < 1, refill.period <= 0, or
  /// capacity * refill.period (in nanoseconds) exceeds 2^63 - 1.
  token_bucket(std::int64_t capacity, rate_limit refill);
  /// Capacity equal to the limit's count: "30 per 60 s" bursts 30, then one every 2 s.
  explicit token_bucket(rate_limit limit) : token_bucket(limit.count, limit) {}

  /// Takes one token if, after taking it, at least `reserve` tokens remain; `reserve` keeps
  /// headroom for more important callers (execution and tracking before polling).
  bool try_take(clock::time_point now, std::int64_t reserve = 0);
  /// How long until try_take(now + result, reserve) succeeds if nothing else takes a token: zero
  /// when it would succeed now, duration::max() when reserve >= capacity.
  clock::duration time_until_available(clock::time_point now, std::int64_t reserve = 0) const;
  /// Whole tokens available at `now`.
  std::int64_t available(clock::time_point now) const;

  std::int64_t capacity() const noexcept { return capacity_; }
  rate_limit refill() const noexcept { return refill_; }

 private:
  std::int64_t level_at(clock::time_point now) const;
  std::int64_t needed_units(std::int64_t reserve) const;

  std::int64_t capacity_;
  rate_limit refill_;
  std::int64_t unit_per_token_;  // refill_.period in nanoseconds
  std::int64_t capacity_units_;  // capacity_ * unit_per_token_
  std::int64_t level_;           // in units; starts full
  clock::time_point last_{};     // time level_ was computed for
  bool started_ = false;         // last_ is meaningful only after the first call
};

/// Named token buckets, one per endpoint key (e.g. "onek:/swap-directions"). An endpoint without
/// a bucket has no documented limit and is never refused. Not thread-safe.
class rate_budget {
 public:
  using clock = token_bucket::clock;

  /// Adds or replaces the endpoint's bucket from a limit text (capacity = the limit's count).
  result<void> configure(std::string endpoint, std::string_view limit_text);
  /// Adds or replaces the endpoint's bucket.
  void set(std::string endpoint, token_bucket bucket);

  bool contains(std::string_view endpoint) const;
  token_bucket* find(std::string_view endpoint);
  const token_bucket* find(std::string_view endpoint) const;

  /// token_bucket::try_take on the endpoint's bucket; true for an endpoint without one.
  bool try_take(std::string_view endpoint, clock::time_point now, std::int64_t reserve = 0);
  /// token_bucket::time_until_available on the endpoint's bucket; zero without one.
  clock::duration time_until_available(std::string_view endpoint, clock::time_point now,
                                       std::int64_t reserve = 0) const;

 private:
  std::map<std::string, token_bucket, std::less<>> buckets_;
};

}  // namespace swaprouter
