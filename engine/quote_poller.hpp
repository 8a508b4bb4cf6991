// The quote poller (DESIGN.md s.1, s.3 "Rate limits are a budget, not an error"): keeps the quote
// book fresh from every provider at once, each within its own rate budget.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/quote_book.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// Where the poller reads time and how its timers are armed. The base class is the system's
/// clocks and real timers; tests override it with a virtual clock that fires timers itself.
class poll_clock {
 public:
  using steady_time = std::chrono::steady_clock::time_point;

  virtual ~poll_clock() = default;
  virtual wall_time wall_now() { return std::chrono::system_clock::now(); }
  virtual steady_time steady_now() { return std::chrono::steady_clock::now(); }
  /// Makes `timer`'s next wait end at `at` on this clock (or when the timer is cancelled).
  virtual void arm(boost::asio::steady_timer& timer, steady_time at) { timer.expires_at(at); }
  /// Called once that wait ended, however it ended.
  virtual void disarm(boost::asio::steady_timer& timer) { (void)timer; }
};

/// One provider's polling schedule.
struct poll_settings {
  /// Directions (pairs, limits, precision) are listed again this long after the last listing.
  std::chrono::milliseconds directions{60000};
  /// A round of prices (every direction priced once) starts at most this often; within a round
  /// each request also waits for the provider's local rate budget (venue::poll_wait).
  std::chrono::milliseconds prices{5000};
  std::chrono::milliseconds balances{15000};
  bool poll_balances = true;
  /// After a failed request the same kind is tried again this long after it started (the kind's
  /// own interval when shorter, the provider's Retry-After when longer); a rate-limited or
  /// circuit-open answer ends the round of prices.
  std::chrono::milliseconds retry{5000};
  /// Requests of each local budget the poller leaves for execution and tracking (a budget that
  /// holds no more than this leaves its capacity less one).
  std::int64_t reserve = 2;
  /// Amount priced per direction, by spend asset; otherwise the direction's min_spend, or 1
  /// without one.
  std::map<std::string, decimal, std::less<>> amounts;
  /// When not empty, only directions between these assets are priced.
  std::vector<std::string> assets;
};

/// Requests a poller's loops made of one provider (answered or failed), by kind.
struct poll_request_counts {
  std::uint64_t directions = 0;
  std::uint64_t prices = 0;
  std::uint64_t balances = 0;
};

struct poller_state;

/// Polls every venue concurrently on one executor: per provider one loop for directions, one for
/// prices and one for balances, each writing what it learns to the quote book (with the
/// provider's clock offset and quote latency) and every failure to it as well. A venue that
/// fails or throws never stops the others nor its own loops. Not thread-safe: one executor; the
/// venues, the book and the clock must outlive the loops (stop(), then let the executor run until
/// running() is 0, or destroy the io_context).
class quote_poller {
 public:
  quote_poller(std::span<venue* const> venues, quote_book& book, poll_clock& clock,
               poll_settings defaults = {},
               std::map<std::string, poll_settings, std::less<>> per_provider = {});
  ~quote_poller();
  quote_poller(const quote_poller&) = delete;
  quote_poller& operator=(const quote_poller&) = delete;

  /// Starts every loop on `executor`: directions first, prices as soon as a provider's first
  /// listing is in, balances at once.
  void start(boost::asio::any_io_executor executor);
  /// No new request from now on; sleeping loops end at once, a loop waiting for an answer ends
  /// when it arrives (without writing it to the book).
  void stop();
  /// Loops still running.
  std::size_t running() const;

  /// Requests the loops made of `provider` so far.
  poll_request_counts requests(std::string_view provider) const;

 private:
  std::shared_ptr<poller_state> state_;
};

}  // namespace swaprouter
