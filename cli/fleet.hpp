// The built-in provider emulators of a scenario, running in this process: what `simulate` serves
// and what `quote --simulate` talks to, with a venue per provider over loopback.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sim/emulator.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/cert_authority.hpp"
#include "engine/http.hpp"
#include "engine/venue.hpp"

namespace swaprouter::cli {

/// Why a fleet could not start, and the exit code that means (exit_usage for bad input,
/// exit_failure for a run-time failure such as a port in use).
class fleet_error : public std::runtime_error {
 public:
  fleet_error(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// Where the default scenario is looked for, in order: the working directory, beside the
/// executable and its parent directories, then the source tree it was built from.
std::vector<std::filesystem::path> default_scenario_candidates();

/// A scenario file loaded with the market it describes.
struct loaded_scenario {
  std::string path;
  sim::scenario scenario;
  std::unique_ptr<sim::market> market;
};

/// Loads `path`, or the default scenario when it is empty. Throws fleet_error naming the file,
/// line, column and key for bad input.
loaded_scenario load_scenario_file(const std::string& path);

struct fleet_options {
  bool plain = false;            ///< HTTP instead of TLS
  bool ephemeral_ports = false;  ///< ignore the scenario's ports (in-process use)
};

/// One running emulator and its server.
struct running_provider {
  std::string name;
  const sim::provider_config* config = nullptr;
  std::unique_ptr<sim::server> server;
  std::unique_ptr<sim::provider_emulator> emulator;

  /// e.g. "https://127.0.0.1:18001/api/v1".
  std::string base_url() const;
};

/// Every enabled provider emulator of a scenario, started on `ioc` (loopback only). Not
/// thread-safe: used from the io_context's thread; `scenario` must outlive it.
class fleet {
 public:
  /// Starts the emulators; throws fleet_error.
  fleet(boost::asio::io_context& ioc, loaded_scenario& scenario, fleet_options options);
  ~fleet();
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  /// The CA the emulators' certificates chain to; none when every emulator is plain.
  const std::optional<cert_authority>& ca() const noexcept { return ca_; }
  std::vector<running_provider>& providers() noexcept { return providers_; }
  /// The market the emulators price from.
  const sim::market* market() const noexcept { return market_; }
  /// Stops every emulator's timers and server. Idempotent.
  void stop();

 private:
  const sim::market* market_ = nullptr;
  std::optional<cert_authority> ca_;
  std::vector<running_provider> providers_;
};

/// A client of one running emulator: the provider's adapter over its own HTTP connection pool.
struct simulated_venue {
  std::string provider;
  std::unique_ptr<http_client> http;
  std::unique_ptr<swaprouter::venue> venue;
};

/// Connects an adapter to every running emulator with the first scenario credential allowed to
/// swap, trusting only the fleet's CA.
std::vector<simulated_venue> connect_venues(boost::asio::any_io_executor executor, fleet& f);

}  // namespace swaprouter::cli
