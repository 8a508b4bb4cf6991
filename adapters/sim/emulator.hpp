// What `simulate` and the tests need from any provider emulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/sim/timers.hpp"

namespace swaprouter::sim {

/// What an emulator needs besides its scenario block.
struct emulator_options {
  /// Seeds the emulator's random draws (failure rate, ...), so a seeded run replays exactly.
  std::uint64_t seed = 1;
  /// Trusted, besides the system store, for https:// callback URLs (e.g. the simulate CA).
  std::string callback_ca_pem;
  /// Time allowed for one callback POST; a final-state callback is retried a few times.
  std::chrono::milliseconds callback_timeout{2000};
};

/// A provider emulator serving its API on a sim::server: the public handle of the emulator's
/// shared-owned state, which runs its delayed changes on `timers` (shared with the state). Not
/// copyable; destroying it stops it. Thread-safety: used from the server's executor only.
class provider_emulator {
 public:
  virtual ~provider_emulator() { timers_.stop(); }
  provider_emulator(const provider_emulator&) = delete;
  provider_emulator& operator=(const provider_emulator&) = delete;

  /// The API's base path on the server, e.g. "/api/v1".
  std::string_view base_path() const { return base_path_; }
  /// Cancels pending timers; no swap changes state afterwards. Idempotent.
  void stop() { timers_.stop(); }
  /// Holds the provider's back office: fills, ticket processing and expiries that come due
  /// wait until release(). Lets a test read a state that otherwise lasts only a fill delay.
  void hold() { timers_.hold(); }
  void release() { timers_.release(); }
  /// The JSON served at GET /_sim/ledger.
  virtual std::string ledger_json() const = 0;

 protected:
  provider_emulator(std::string_view base_path, timer_set timers)
      : base_path_(base_path), timers_(std::move(timers)) {}
  const timer_set& timers() const { return timers_; }

 private:
  std::string_view base_path_;
  timer_set timers_;
};

}  // namespace swaprouter::sim
