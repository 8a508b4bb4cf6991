// Per-host circuit breaker: stops sending to a host that rate-limits us or keeps failing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace swaprouter {

/// The delay an HTTP Retry-After value asks for (RFC 9110 section 10.2.3), relative to `now`
/// (our wall clock when the answer arrived). Accepts delay-seconds ("7") and an HTTP-date in the
/// IMF-fixdate form ("Wed, 21 Oct 2015 07:28:00 GMT") or the obsolete RFC 850 and asctime forms.
/// A date in the past gives zero; a date's sub-second remainder rounds up. Results are capped at
/// 10^9 seconds (about 31 years) so they convert to nanoseconds safely. Empty, negative or
/// malformed values give nullopt. Thread-safe (pure function).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

enum class circuit_state : std::uint8_t {
  closed,     ///< requests flow
  open,       ///< requests are refused until open_until()
  half_open,  ///< one probe request is in flight; its outcome closes or re-opens the circuit
};

/// "closed", "open" or "half_open", for logs and metrics. Thread-safe.
std::string_view to_string(circuit_state state) noexcept;

struct circuit_breaker_config {
  /// Consecutive failures that open a closed circuit (>= 1).
  int failure_threshold = 5;
  /// Open period after the threshold is reached or after a 429 without Retry-After (> 0).
  std::chrono::steady_clock::duration open_duration = std::chrono::seconds(10);
  /// Ceiling for the open period, which doubles every time a probe fails (>= open_duration).
  std::chrono::steady_clock::duration max_open_duration = std::chrono::minutes(5);
  /// Ceiling for a provider's Retry-After, against absurd values (> 0).
  std::chrono::steady_clock::duration max_retry_after = std::chrono::hours(1);
  /// A probe with no recorded outcome after this long is presumed lost and another is allowed,
  /// so a dropped result cannot hold the circuit half-open forever (> 0).
  std::chrono::steady_clock::duration probe_timeout = std::chrono::minutes(1);
};

/// The circuit for one host. Closed, it lets everything through and counts consecutive failures;
/// it opens on a 429 (for the Retry-After delay when given) or after failure_threshold consecutive
/// failures (for the current open period). Once the open period has ended, allow() turns it
/// half-open and grants exactly one probe: a recorded success closes the circuit and resets the
/// open period, a failure or 429 re-opens it with the open period doubled (up to
/// max_open_duration). While open, late outcomes of requests sent before it opened are ignored,
/// except a 429 whose Retry-After extends the open period.
///
/// record_failure is for failures that say the host is unwell (connect, timeout, reset, 5xx), not
/// for documented rejections. Steady-clock time is passed in, never read, so tests drive it.
///
/// Not thread-safe: use from one thread (the engine's io_context).
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;

  /// Throws std::invalid_argument when the configuration breaks the bounds documented on it.
  explicit circuit_breaker(circuit_breaker_config config = {});

  /// Whether a request may be sent now. In the open state, the first call at or after
  /// open_until() switches to half-open and returns true: that caller's request is the probe.
  bool allow(clock::time_point now);
  void record_success(clock::time_point now);
  void record_failure(clock::time_point now);
  /// A 429 answer; `retry_after` is the parsed Retry-After, nullopt when absent or unparseable.
  void record_rate_limited(clock::time_point now, std::optional<clock::duration> retry_after);

  /// The stored state: an open circuit whose period has ended stays open until allow() is called.
  circuit_state state() const noexcept { return state_; }
  /// When an open circuit lets a probe through; nullopt unless open.
  std::optional<clock::time_point> open_until() const noexcept;
  int consecutive_failures() const noexcept { return failures_; }
  /// 429 answers recorded since construction, whatever the state (metrics, the risk manager).
  std::uint64_t rate_limited_count() const noexcept { return rate_limited_; }
  /// The open period the next trip from closed or failed probe will use.
  clock::duration current_open_duration() const noexcept { return open_duration_; }

 private:
  void open_for(clock::time_point now, clock::duration period);
  void reopen_after_probe(clock::time_point now, std::optional<clock::duration> retry_after);
  clock::duration clamp_retry_after(clock::duration retry_after) const noexcept;

  circuit_breaker_config config_;
  circuit_state state_ = circuit_state::closed;
  int failures_ = 0;
  std::uint64_t rate_limited_ = 0;
  clock::duration open_duration_;
  clock::time_point open_until_{};
  clock::time_point probe_sent_{};
};

}  // namespace swaprouter
