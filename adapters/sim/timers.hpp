// The steady timers an emulator runs its delayed state changes on (fills, expiries, callback
// retries), all cancelled at once when the emulator stops.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace swaprouter::sim {

/// Pending steady timers on one executor. Copies share the same timers and the same stopped
/// state, so the emulator's public handle can stop what its shared-owned state scheduled.
/// Thread-safety: used from the executor only.
class timer_set {
 public:
  explicit timer_set(boost::asio::any_io_executor executor);

  /// Calls `action` on the executor after `delay`, unless stop() comes first. `action` owns
  /// whatever it needs alive until then (typically the emulator's state).
  void schedule(std::chrono::milliseconds delay, std::function<void()> action);

  /// Waits `delay`: true when it elapsed, false when stop() cancelled it or had already come.
  boost::asio::awaitable<bool> sleep(std::chrono::milliseconds delay);

  /// Cancels every pending timer; no action runs afterwards. Idempotent.
  void stop();
  bool stopped() const;

  /// While held, an action whose delay elapses waits; release() posts the waiting ones in the
  /// order they came due, and later ones run when due again. sleep() is not held.
  void hold();
  void release();

 private:
  struct state;
  // Registers a timer of `delay` at once, so a stop() right after cancels it too.
  std::uint64_t start(std::chrono::milliseconds delay);
  static boost::asio::awaitable<bool> wait(std::shared_ptr<state> s, std::uint64_t id);
  static boost::asio::awaitable<void> run(std::shared_ptr<state> s, std::uint64_t id,
                                          std::function<void()> action);

  std::shared_ptr<state> state_;
};

}  // namespace swaprouter::sim
