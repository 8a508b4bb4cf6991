// What `simulate` and the tests need from any provider emulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

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

/// A provider emulator serving its API on a sim::server. Thread-safety: used from the server's
/// executor only.
class provider_emulator {
 public:
  virtual ~provider_emulator() = default;
  /// The API's base path on the server, e.g. "/api/v1".
  virtual std::string_view base_path() const = 0;
  /// Cancels pending timers; no swap changes state afterwards. Idempotent.
  virtual void stop() = 0;
};

}  // namespace swaprouter::sim
