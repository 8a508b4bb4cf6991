// What `swap` and `run` share: durations on the command line, the fault-test crash hook, and the
// simulate-mode fleet with a venue per emulator.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/fleet.hpp"
#include "engine/execution.hpp"

namespace swaprouter::cli {

/// "60s", "1500ms", "2m" or a bare number of seconds; nullopt when malformed or not positive.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// For the fault tests only (FAULTS.md 3-5): SWAPROUTER_CRASH_AT=<hook point> kills the process
/// there as kill -9 would; empty when the variable is unset.
crash_hook crash_hook_from_env();

/// The emulators of a scenario running in this process and a connected venue for each.
struct simulation {
  std::optional<loaded_scenario> scenario;
  std::optional<fleet> emulators;
  std::vector<simulated_venue> venues;
  std::vector<venue*> providers;  ///< the venues, for the executor and the quoter

  /// Loads `scenario_path` (the default scenario when empty) and starts its emulators on `ioc`
  /// on ephemeral loopback ports. Throws fleet_error.
  void start(boost::asio::io_context& ioc, const std::string& scenario_path);
  /// Stops the emulators (idempotent).
  void stop();
};

}  // namespace swaprouter::cli
