// Fault and latency injection for the provider emulators: what to do to a matching request, a
// thread-safe table of such rules, and the default latency model.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swaprouter::sim {

/// What the server does to a request a fault matches. Every kind first waits the fault's delay.
enum class fault_kind : std::uint8_t {
  delay,           ///< wait `delay` (..`delay_max`), then answer normally
  drop,            ///< read the request, never answer; hold the socket until the peer leaves
  reset_before,    ///< read the request, then reset the connection; the handler does not run
  reset_after,     ///< run the handler (its action takes effect), then reset without answering
  status,          ///< answer `status` with `body` (and Retry-After when set)
  truncated_body,  ///< run the handler; full Content-Length, half the body, close, no close_notify
  truncated_chunked,  ///< run the handler; chunked, some chunks, never the last chunk, close
  malformed_json,     ///< run the handler; replace its body with invalid JSON
  timeout_400,        ///< 400 whose body says the request timed out (a disguised timeout)
  redirect,           ///< 302 with Location = `body`
  oversize,           ///< 200 with a streamed body of `size_bytes` bytes
  endless_chunked,    ///< 200, chunked, chunks of '[' until the peer leaves; never the last chunk
  /// run the handler; Content-Length half the body, the whole body (the rest in a write, over
  /// TLS a record, of its own), then close once the peer sends again or leaves (the rest would
  /// prefix the next answer on a reused connection)
  short_content_length,
};

std::string_view to_string(fault_kind kind) noexcept;
std::optional<fault_kind> parse_fault_kind(std::string_view name) noexcept;

/// One injected fault. Only the fields the kind uses matter.
struct fault {
  fault_kind kind = fault_kind::status;
  /// Answer status for `status` (and for `redirect` when it is a 3xx).
  int status = 500;
  /// Answer body for `status` and `timeout_400` (a default when empty); the URL for `redirect`.
  std::string body;
  /// Retry-After in seconds form, for `status`.
  std::optional<int> retry_after_seconds;
  /// Retry-After in HTTP-date form (see `format_http_date`), for `status`; used when set.
  std::string retry_after_date;
  /// Wait before acting; uniform in [delay, delay_max] when delay_max > delay.
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds delay_max{0};
  /// -1: applies forever; N > 0: applies to the next N matching requests, then disappears.
  int remaining = -1;
  /// Chance that a matching request gets the fault; a request that escapes it does not count
  /// against `remaining`.
  double probability = 1.0;
  /// Only requests with this method match; empty matches every method.
  std::string method;
  /// For drop, status, timeout_400, redirect, oversize and endless_chunked: run the handler
  /// first, so the action takes effect although the client never sees its answer (e.g. a 502
  /// after the swap was created). The kinds described as running the handler always do;
  /// reset_before never does.
  bool run_handler = false;
  /// Body size for `oversize`.
  std::size_t size_bytes = std::size_t{20} << 20;
};

/// A delay fault for the next matching request only (of `method`, or any): it holds one answer
/// back by `delay`, so that calls a test starts together overlap.
inline fault delay_once(std::chrono::milliseconds delay, std::string method = {}) {
  fault f;
  f.kind = fault_kind::delay;
  f.delay = delay;
  f.remaining = 1;
  f.method = std::move(method);
  return f;
}

/// A fault and the route pattern it applies to ("*" for every non-admin request).
struct fault_rule {
  std::string route;
  fault value;
};

/// The set of active faults, keyed by route pattern and method. Thread-safe: every member takes an
/// internal mutex (the admin API on the server thread and a test thread both use it).
class fault_table {
 public:
  /// `seed` drives the probability and delay draws, so a seeded run replays exactly.
  explicit fault_table(std::uint64_t seed = 1);

  /// Adds a rule, replacing one with the same route pattern and method.
  void set(std::string route_pattern, fault value);
  /// Removes every rule for `route_pattern`; false when there was none.
  bool clear(std::string_view route_pattern);
  void clear_all();
  /// The active rules, in the order they were set.
  std::vector<fault_rule> list() const;

  /// The fault to apply to a request matched to `route_pattern` with `method`: rules for that
  /// pattern first, then "*" rules, each subject to its probability. Consumes one of `remaining`
  /// (removing the rule when it reaches zero) and returns a copy whose `delay` is the drawn delay.
  std::optional<fault> pick(std::string_view route_pattern, std::string_view method = {});

 private:
  mutable std::mutex mutex_;
  std::vector<fault_rule> rules_;
  std::mt19937_64 rng_;
};

/// Parses the admin API's JSON form of a rule, e.g.
/// `{"route":"/api/v1/swap/open","kind":"status","status":429,"retry_after_seconds":7,
///   "remaining":1}`. Fields: route, kind (required), status, body, retry_after_seconds,
/// retry_after_date, delay_ms, delay_max_ms, remaining, probability, method, run_handler,
/// size_bytes. Unknown fields are an error so a typo cannot silently disable a fault.
std::expected<fault_rule, std::string> parse_fault_rule(std::string_view json);

/// `{"faults":[...]}` with each rule in the form `parse_fault_rule` reads.
std::string faults_to_json(const std::vector<fault_rule>& rules);

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the HTTP-date form of Retry-After.
std::string format_http_date(std::chrono::system_clock::time_point time);

/// The latency a server adds to every non-admin request before handling it.
///
/// Model: none when p50 is zero; a fixed p50 when p99 <= p50; otherwise a lognormal distribution
/// fitted to the two percentiles: ln(X) ~ N(mu, sigma^2) with mu = ln(p50) (the lognormal median is
/// e^mu) and sigma = ln(p99 / p50) / z(0.99), z(0.99) = 2.3263, so P50 and P99 of the samples match
/// the given values. Latencies of real HTTP APIs are right-skewed with a long tail, which a
/// lognormal reproduces with two parameters. Samples are capped at 4 x p99 so one draw cannot
/// stall a test for long.
struct latency_model {
  std::chrono::milliseconds p50{0};
  std::chrono::milliseconds p99{0};

  static latency_model none() { return {}; }
  static latency_model fixed(std::chrono::milliseconds value) { return {value, value}; }
  static latency_model percentiles(std::chrono::milliseconds p50, std::chrono::milliseconds p99) {
    return {p50, p99};
  }

  /// Draws one latency.
  std::chrono::microseconds sample(std::mt19937_64& rng) const;
};

}  // namespace swaprouter::sim
