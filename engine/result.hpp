// Result and Error: how every fallible engine operation reports its outcome.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace swaprouter {

/// What went wrong, in the engine's terms. Transport kinds come first, then provider-level kinds.
enum class error_kind : std::uint8_t {
  timeout,         ///< a deadline passed (connect, TLS, write or read)
  connect,         ///< TCP connect failed (refused, unreachable)
  tls,             ///< TLS handshake failed (verification, protocol)
  reset,           ///< connection reset or closed before a complete answer
  truncated,       ///< the answer ended early (short body, no close_notify, no last chunk)
  http_status,     ///< a non-2xx answer that no adapter mapped to a finer kind
  too_large,       ///< the answer exceeded the body size limit
  redirect,        ///< a 3xx answer: never followed
  rate_limited,    ///< 429, or our own budget or open circuit refused the request
  circuit_open,    ///< the host's circuit breaker is open
  auth,            ///< the provider refused our credentials or signature
  rejected,        ///< a documented rejection: nothing was done
  not_found,       ///< the provider says the object does not exist
  unknown_outcome, ///< a money-moving request may or may not have taken effect
  bad_response,    ///< the answer could not be parsed or failed validation
  invalid_argument,///< our own input was wrong (amount, config)
  cancelled,       ///< the operation was cancelled (shutdown)
  internal,        ///< a broken invariant
};

std::string_view to_string(error_kind kind) noexcept;

/// An error value. Never carries secrets: messages are built from provider answers and our own
/// text, never from credentials.
struct error {
  error_kind kind = error_kind::internal;
  std::string message;
  /// The provider's own error code when it sent one (e.g. "signature.invalid", "20").
  std::string provider_code;
  /// HTTP status when the error came with an answer, 0 otherwise.
  int http_status = 0;
  /// Seconds from Retry-After when the provider sent one.
  std::optional<std::int64_t> retry_after_seconds;
  /// True when the request's bytes may have reached the server: its effect is then unknown.
  bool may_have_reached = false;

  /// True when repeating the same request could succeed (transient kinds). A request that may
  /// have reached the server and moves money must still never be repeated blindly.
  bool retryable() const noexcept;
};

std::string describe(const error& e);

template <class T>
using result = std::expected<T, error>;

inline error make_error(error_kind kind, std::string message) {
  error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

inline std::unexpected<error> fail(error_kind kind, std::string message) {
  return std::unexpected(make_error(kind, std::move(message)));
}

}  // namespace swaprouter
