// One run of a refresh shared by the calls that overlap it: the first caller runs it, the others
// wait for its outcome instead of sending the same requests again.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// Shares one in-flight refresh among the calls that overlap it, e.g. a provider client's refresh
/// of a cached listing that several concurrent prices find stale at once: run alone, each would
/// spend a request of the provider's rate budget on the same listing. Not thread-safe: use from
/// one executor.
class single_flight {
 public:
  /// Awaits `refresh` unless a refresh is in flight; then drops `refresh` unstarted, waits for
  /// the one in flight and answers its outcome. Pass `refresh` from a named local (GCC PR 99576).
  task<result<void>> run(task<result<void>> refresh) {
    if (const std::shared_ptr<flight> joined = current_) {
      co_await joined->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      // No outcome: this wait was cancelled, or the refresh threw (its own caller sees that).
      if (!joined->outcome) {
        co_return fail(error_kind::internal, "the shared refresh did not finish for this call");
      }
      co_return *joined->outcome;
    }
    const auto led = std::make_shared<flight>(co_await boost::asio::this_coro::executor);
    current_ = led;
    std::exception_ptr thrown;
    try {
      led->outcome = co_await std::move(refresh);
    } catch (...) {
      thrown = std::current_exception();
    }
    // Cleared before the waiters run: a call from now on starts a refresh of its own.
    current_.reset();
    led->done.cancel();
    if (thrown) std::rethrow_exception(thrown);
    co_return *led->outcome;
  }

  /// run() for a listing whose value the callers read from the cache it fills: its outcome
  /// without the value.
  template <class T>
  task<result<void>> run_listing(task<result<T>> listing) {
    task<result<void>> outcome = without_value(std::move(listing));
    co_return co_await run(std::move(outcome));
  }

  bool in_flight() const noexcept { return current_ != nullptr; }

 private:
  template <class T>
  static task<result<void>> without_value(task<result<T>> listing) {
    auto listed = co_await std::move(listing);
    if (!listed) co_return std::unexpected(std::move(listed.error()));
    co_return result<void>{};
  }

  struct flight {
    explicit flight(boost::asio::any_io_executor executor)
        : done(std::move(executor), boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer done;  // never expires: cancelled when the refresh ends
    std::optional<result<void>> outcome;
  };

  std::shared_ptr<flight> current_;
};

}  // namespace swaprouter
