#include "engine/guarded_call.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace swaprouter {
namespace {

std::int64_t ceil_seconds(std::chrono::steady_clock::duration d) {
  return std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::seconds>(d).count());
}

std::optional<error> local_refusal(const call_guard& guard, const guarded_call_spec& spec,
                                   std::chrono::steady_clock::time_point now) {
  // The budget is checked before the circuit: allow() may hand out the half-open probe, which
  // must then really be sent.
  if (guard.budget) {
    if (const auto wait = guard.budget->time_until_available(spec.endpoint, now);
        wait > wait.zero()) {
      error e = make_error(
          error_kind::rate_limited,
          fmt::format("{} {}: local rate budget exhausted", spec.provider, spec.endpoint));
      e.retry_after_seconds = ceil_seconds(wait);
      return e;
    }
  }
  if (!guard.circuit->allow(now)) {
    error e = make_error(error_kind::circuit_open,
                         fmt::format("{} {}: circuit open", spec.provider, spec.endpoint));
    if (const auto until = guard.circuit->open_until())
      e.retry_after_seconds = ceil_seconds(*until - now);
    return e;
  }
  if (guard.budget) guard.budget->try_take(spec.endpoint, now);
  return std::nullopt;
}

}  // namespace

error map_error_status(const guarded_call_spec& spec, int status,
                       std::optional<std::chrono::seconds> retry_after,
                       const error_body_reading& body) {
  const bool execute = spec.execute;
  error e;
  e.http_status = status;
  e.provider_code = body.provider_code;
  e.message = fmt::format("{} {} answered {}: {}", spec.provider, spec.endpoint, status, body.text);
  if (status == 429) {
    e.kind = error_kind::rate_limited;
    if (retry_after) e.retry_after_seconds = retry_after->count();
  } else if (status == 401 || status == 403) {
    e.kind = (!execute || body.refused_before_execution) ? error_kind::auth
                                                         : error_kind::unknown_outcome;
  } else if (status == 400 || status == 422) {
    // FAULTS.md #8: on an execute call only the documented validation shape is a rejection; a
    // 400 that says it timed out (or is not that shape) leaves the outcome unknown.
    e.kind = (!execute || body.documented_rejection) ? error_kind::rejected
                                                     : error_kind::unknown_outcome;
  } else if (status == 404) {
    e.kind = execute ? error_kind::unknown_outcome : error_kind::not_found;
  } else {
    e.kind = execute ? error_kind::unknown_outcome : error_kind::http_status;
  }
  e.may_have_reached = e.kind == error_kind::unknown_outcome;
  return e;
}

answer_mapper status_answer(guarded_call_spec spec, error_body_mapper body) {
  return [spec, body = std::move(body)](
             const http_response& response,
             std::optional<std::chrono::seconds> retry_after) -> std::optional<error> {
    if (response.status >= 200 && response.status < 300) return std::nullopt;
    return map_error_status(spec, response.status, retry_after, body(response));
  };
}

task<result<http_response>> guarded_call(http_client& http, call_guard guard, http_request request,
                                         guarded_call_spec spec, answer_mapper map) {
  if (auto refused = local_refusal(guard, spec, (*guard.steady)())) {
    co_return std::unexpected(std::move(*refused));
  }
  auto response = co_await http.send(std::move(request), spec.timeout);
  const auto after = (*guard.steady)();
  if (!response) {
    guard.circuit->record_failure(after);
    error e = std::move(response.error());
    if (spec.execute) {
      // Only a failed connect or handshake is known to have sent nothing (FAULTS.md #1, #2,
      // #15); either way the outcome is settled by looking it up, never by resending.
      const bool sent = e.kind != error_kind::connect && e.kind != error_kind::tls;
      error u = make_error(error_kind::unknown_outcome,
                           fmt::format("{} {}: outcome unknown after {}: {}", spec.provider,
                                       spec.endpoint, to_string(e.kind), e.message));
      u.may_have_reached = sent;
      co_return std::unexpected(std::move(u));
    }
    e.message = fmt::format("{} {}: {}", spec.provider, spec.endpoint, e.message);
    co_return std::unexpected(std::move(e));
  }
  const int status = response->status;
  std::optional<std::chrono::seconds> retry_after;
  if (status == 429) {
    retry_after = parse_retry_after(response->header("Retry-After"), (*guard.wall)());
    if (spec.rate_limit_feeds_circuit) guard.circuit->record_rate_limited(after, retry_after);
  } else if (status >= 500) {
    guard.circuit->record_failure(after);
  } else {
    guard.circuit->record_success(after);
  }
  if (auto failed = map(*response, retry_after)) co_return std::unexpected(std::move(*failed));
  co_return std::move(*response);
}

}  // namespace swaprouter
