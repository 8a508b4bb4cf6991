#include "engine/tracker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

steady::time_point steady_deadline(const std::optional<wall_time>& deadline) {
  if (!deadline) return steady::time_point::max();
  return steady::now() +
         std::chrono::duration_cast<steady::duration>(*deadline - std::chrono::system_clock::now());
}

bool waits_for_budget(const error& e) {
  return e.kind == error_kind::rate_limited || e.kind == error_kind::circuit_open;
}

}  // namespace

tracker::tracker(const venue_directory& venues, execution_log& log) : venues_(venues), log_(log) {}

void tracker::hint(const client_id& client) {
  hinted_[client] = true;
  if (auto it = waiting_.find(client); it != waiting_.end()) it->second->cancel();
}

void tracker::cancel_intent(const std::string& intent_id) {
  cancelling_.insert(intent_id);
  for (const auto& [client, intent] : followed_) {
    if (intent == intent_id) hint(client);
  }
}

task<void> tracker::wait(const client_id& client, std::chrono::milliseconds delay) {
  const client_id id = client;
  if (hinted_[id]) {
    hinted_[id] = false;
    co_return;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  waiting_[id] = &timer;
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  waiting_.erase(id);
  hinted_[id] = false;
}

task<leg_record> tracker::track(leg_record leg, int receive_precision) {
  leg_record rec = std::move(leg);
  const int precision = receive_precision;
  const execution_options& options = log_.options();
  venue* provider = venues_.find(rec.provider);
  if (provider == nullptr) {
    log_.alarm(rec, fmt::format("no venue {} to track the leg", rec.provider));
    co_return rec;
  }
  const auto deadline = steady_deadline(rec.deadline);
  const auto give_up = deadline == steady::time_point::max()
                           ? steady::now() + options.track_after_deadline
                           : deadline + options.track_after_deadline;
  auto backoff = options.poll_initial;
  std::optional<steady::time_point> not_found_since;
  int errors = 0;
  bool cancel_requested = false;
  followed_[rec.client] = rec.intent_id;
  while (!is_final(rec.phase)) {
    const leg_ref ref{rec.provider_ref, rec.client};
    auto answer = co_await provider->status(ref);
    std::chrono::milliseconds delay = backoff;
    if (answer) {
      errors = 0;
      not_found_since.reset();
      if (rec.phase == leg_phase::lost) {
        log_.set_phase(rec, leg_phase::open, "found again after being lost");
      }
      log_.apply(rec, *answer, precision);
      if (answer->cancel_requested_at) cancel_requested = true;
      if (is_final(rec.phase)) break;
    } else if (waits_for_budget(answer.error())) {
      // The adapter refused to send inside its budget: nothing is wrong with the leg.
      if (answer.error().retry_after_seconds) {
        delay =
            std::max(delay, std::chrono::milliseconds(*answer.error().retry_after_seconds * 1000));
      }
    } else if (answer.error().kind == error_kind::not_found) {
      // Providers may list a swap a little after creating it (FAULTS.md 9).
      if (!not_found_since) not_found_since = steady::now();
      log_.report(rec.intent_id, rec.client, "poll_error", "not found yet");
      if (rec.phase != leg_phase::lost && steady::now() - *not_found_since >= options.lost_after) {
        // The alarm first: a process that dies between the two writes leaves no lost leg
        // unalarmed while nothing tracks it (FAULTS.md I5).
        log_.alarm(rec, "leg lost: the provider does not find it; polling goes on");
        log_.set_phase(rec, leg_phase::lost, "not found past the threshold; still polled");
      }
    } else {
      // A failed poll says nothing about the leg (FAULTS.md 10).
      ++errors;
      log_.report(rec.intent_id, rec.client, "poll_error", describe(answer.error()));
      if (errors == options.poll_errors_alarm) {
        log_.alarm(rec, fmt::format("{} status polls failed in a row: {}", errors,
                                    describe(answer.error())));
      }
    }
    const auto now = steady::now();
    const bool stopping = cancelling_.contains(rec.intent_id);
    if (!cancel_requested && (now >= deadline || stopping) && provider->traits().cancel) {
      const std::string_view why = now >= deadline ? "open at its deadline" : "stopping";
      auto cancelled = co_await provider->cancel(ref);
      if (cancelled) {
        cancel_requested = true;
        log_.note(rec.intent_id, rec.client, "cancel", fmt::format("{}: cancel requested", why));
        log_.apply(rec, *cancelled, precision);
        if (is_final(rec.phase)) break;
      } else if (answer && !waits_for_budget(cancelled.error())) {
        log_.report(rec.intent_id, rec.client, "cancel",
                    fmt::format("cancel ({}) failed: {}", why, describe(cancelled.error())));
      }
    }
    if (now >= give_up) {
      log_.alarm(rec, fmt::format("still {} long after its deadline: tracking stops, restart "
                                  "reconciles it",
                                  to_string(rec.phase)));
      break;
    }
    co_await wait(rec.client, log_.jittered(delay));
    backoff = std::min(backoff * 2, options.poll_max);
  }
  followed_.erase(rec.client);
  co_return rec;
}

}  // namespace swaprouter
