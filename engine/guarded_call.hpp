#pragma once
// One provider HTTP call behind the shared guards: the local rate budget, the circuit breaker
// (with 429 + Retry-After), the request timeout, and the reading of a lost or unexplained answer
// as an unknown outcome (FAULTS.md #1, #2, #8, #15). Each provider keeps only its error bodies.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/circuit_breaker.hpp"
#include "engine/http.hpp"
#include "engine/rate_budget.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// The client state a guarded call reads and updates; all pointers outlive the call.
struct call_guard {
  circuit_breaker* circuit = nullptr;
  /// Checked (and taken from) before the circuit; none for a provider without a local budget.
  rate_budget* budget = nullptr;
  const std::function<wall_time()>* wall = nullptr;
  const std::function<std::chrono::steady_clock::time_point()>* steady = nullptr;
};

/// What one call is: its names for messages and whether it may change state at the provider.
struct guarded_call_spec {
  std::string_view provider;  ///< "oxapay": first word of every message
  std::string_view endpoint;  ///< path or function name: second word of every message
  std::chrono::steady_clock::duration timeout{};
  /// A state-changing call: a lost or unexplained answer is an unknown outcome, never resent.
  bool execute = false;
  /// false: a 429 is not fed to the circuit (an endpoint with its own limit and a fallback).
  bool rate_limit_feeds_circuit = true;
};

/// What a provider's error body says, for the shared status mapping (map_error_status).
struct error_body_reading {
  std::string provider_code;
  std::string text;  ///< the message after "<provider> <endpoint> answered <status>: "
  /// A 401/403 on an execute call that is known to have been refused before anything ran.
  bool refused_before_execution = true;
  /// A 400/422 on an execute call in the provider's documented validation shape.
  bool documented_rejection = false;
};

/// Reads a non-2xx answer's body.
using error_body_mapper = std::function<error_body_reading(const http_response&)>;

/// Reads any answer: nullopt when it is a success, otherwise the error. retry_after is the
/// parsed Retry-After of a 429.
using answer_mapper = std::function<std::optional<error>(
    const http_response&, std::optional<std::chrono::seconds> retry_after)>;

/// The shared status mapping of a non-2xx answer: 429 rate limited (with Retry-After), 401/403
/// auth, 400/422 rejected, 404 not found, anything else an HTTP status error; on an execute call
/// whatever the body does not prove refused is an unknown outcome.
error map_error_status(const guarded_call_spec& spec, int status,
                       std::optional<std::chrono::seconds> retry_after,
                       const error_body_reading& body);

/// An answer_mapper for providers whose errors are plain non-2xx answers.
answer_mapper status_answer(guarded_call_spec spec, error_body_mapper body);

/// Sends `request` behind the guards. Refused locally (budget, open circuit) with a
/// retry_after_seconds; a transport failure of an execute call is an unknown outcome whose
/// may_have_reached is false only for a failed connect or handshake.
task<result<http_response>> guarded_call(http_client& http, call_guard guard, http_request request,
                                         guarded_call_spec spec, answer_mapper map);

}  // namespace swaprouter
