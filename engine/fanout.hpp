// Concurrent fan-out: ask every provider at once, decide when all answered or at the deadline.
#pragma once

#include <chrono>
#include <exception>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// One provider's part of a fan-out: its answer, or why there is none, and how long it took.
template <class T>
struct fanout_answer {
  std::string provider;
  /// The answer; an error of kind timeout when it had not arrived by the deadline.
  result<T> value = fail(error_kind::timeout, "no answer by the fan-out deadline");
  std::chrono::steady_clock::duration latency{};
  bool late = true;  ///< no answer by the deadline (a late answer is dropped)
};

/// One call of a fan-out: which provider, and the request to make of it.
template <class T>
struct fanout_call {
  std::string provider;
  std::function<task<result<T>>()> request;
};

/// Starts every call at once on the current executor and returns when all have answered or at
/// `deadline`, whichever comes first. A call still running at the deadline keeps running (the
/// provider's answer may still matter to its adapter) but its result is dropped; a failing call
/// does not delay the others. Single-threaded: runs on the caller's executor.
template <class T>
task<std::vector<fanout_answer<T>>> fan_out(std::vector<fanout_call<T>> calls,
                                            std::chrono::steady_clock::time_point deadline) {
  namespace asio = boost::asio;
  struct shared_state {
    explicit shared_state(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    std::vector<fanout_answer<T>> answers;
    std::size_t pending = 0;
    bool decided = false;
  };
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<shared_state>(executor);
  state->answers.resize(calls.size());
  state->pending = calls.size();
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    state->answers[i].provider = calls[i].provider;
    auto request = std::move(calls[i].request);
    asio::co_spawn(
        executor,
        [state, i, started, request = std::move(request)]() -> task<void> {
          result<T> value = fail(error_kind::internal, "fan-out call threw");
          try {
            value = co_await request();
          } catch (const std::exception& e) {
            // An adapter reports failures as values; an exception is a broken invariant, but it
            // must not hold the whole fan-out until its deadline.
            value = fail(error_kind::internal, std::string("fan-out call threw: ") + e.what());
          }
          if (state->decided) co_return;
          auto& answer = state->answers[i];
          answer.value = std::move(value);
          answer.latency = std::chrono::steady_clock::now() - started;
          answer.late = false;
          if (--state->pending == 0) state->timer.cancel();
        },
        asio::detached);
  }
  if (state->pending > 0) {
    state->timer.expires_at(deadline);
    co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  state->decided = true;
  co_return std::move(state->answers);
}

}  // namespace swaprouter
