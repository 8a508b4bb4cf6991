#include "engine/result.hpp"

#include <fmt/format.h>

namespace swaprouter {

std::string_view to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::timeout: return "timeout";
    case error_kind::connect: return "connect";
    case error_kind::tls: return "tls";
    case error_kind::reset: return "reset";
    case error_kind::truncated: return "truncated";
    case error_kind::http_status: return "http_status";
    case error_kind::too_large: return "too_large";
    case error_kind::redirect: return "redirect";
    case error_kind::rate_limited: return "rate_limited";
    case error_kind::circuit_open: return "circuit_open";
    case error_kind::auth: return "auth";
    case error_kind::rejected: return "rejected";
    case error_kind::not_found: return "not_found";
    case error_kind::unknown_outcome: return "unknown_outcome";
    case error_kind::bad_response: return "bad_response";
    case error_kind::invalid_argument: return "invalid_argument";
    case error_kind::cancelled: return "cancelled";
    case error_kind::internal: return "internal";
  }
  return "internal";
}

bool error::retryable() const noexcept {
  switch (kind) {
    case error_kind::timeout:
    case error_kind::connect:
    case error_kind::reset:
    case error_kind::truncated:
    case error_kind::rate_limited:
    case error_kind::circuit_open:
      return true;
    case error_kind::http_status:
      return http_status >= 500;
    default:
      return false;
  }
}

std::string describe(const error& e) {
  std::string out = fmt::format("{}: {}", to_string(e.kind), e.message);
  if (e.http_status != 0) out += fmt::format(" (http {})", e.http_status);
  if (!e.provider_code.empty()) out += fmt::format(" [{}]", e.provider_code);
  return out;
}

}  // namespace swaprouter
