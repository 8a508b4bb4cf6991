// The built-in provider emulators of a scenario, running in this process: what `simulate` serves
// and what `quote --simulate` talks to, with a venue per provider over loopback.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
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
#include "engine/submit_watch.hpp"
#include "engine/venue.hpp"

namespace swaprouter {
class journal;
}  // namespace swaprouter

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

/// What one provider's adapter is built from, wherever the values came from (a scenario's demo
/// credentials in simulate mode, an engine configuration's secrets in live and dry-run modes).
/// The credential views need only live for the make_adapter call.
struct adapter_spec {
  std::string_view kind;        ///< onek, kiiex, stablestack or oxapay
  std::string_view access_key;  ///< onek
  std::string_view api_key;     ///< kiiex, stablestack, oxapay
  std::string_view user_id;     ///< kiiex
  std::string_view secret;      ///< HMAC key: onek, kiiex
  std::chrono::milliseconds request_timeout{10000};
  std::int64_t oms_id = 1;                 ///< kiiex
  std::optional<int> pairs_max_pages;      ///< oxapay; nullopt: the adapter's default
  std::optional<std::string> customer_id;  ///< stablestack
  std::vector<direction> directions;       ///< stablestack: its API lists none
  std::optional<circuit_breaker_config> circuit;  ///< the adapter's own default when unset
  /// onek: how long one directions listing prices (its rate table's validity); nullopt: the
  /// adapter's default.
  std::optional<std::chrono::milliseconds> directions_max_age;
};

/// What a caller of connect_venues changes in the adapters it builds (fault tests: a short
/// request deadline, a circuit that lets every failure through); unset keeps make_adapter's.
struct adapter_tuning {
  std::optional<std::chrono::milliseconds> request_timeout;
  std::optional<circuit_breaker_config> circuit;
  std::optional<std::chrono::milliseconds> directions_max_age;  ///< adapter_spec's
};

/// The adapter of `spec.kind` over `http` (which must outlive it); nullptr for an unknown kind.
/// The one place every mode builds adapters.
std::unique_ptr<swaprouter::venue> make_adapter(http_client& http, const adapter_spec& spec);

/// The request that creates a swap at a provider of `kind` (onek, kiiex, stablestack, oxapay);
/// nullopt for an unknown kind.
std::optional<create_route> create_route_of(std::string_view kind);

/// `http` for the adapter of a provider of `kind` whose venue id is `provider`: watched by
/// `watch` (its create requests report the crash points, engine/submit_watch.hpp) when `watch`
/// is set and the kind is known, otherwise `http` itself.
std::unique_ptr<http_client> watched_client(std::unique_ptr<http_client> http,
                                            std::string_view kind, std::string provider,
                                            submit_watch* watch);

/// A client of one running emulator: the provider's adapter over its own HTTP connection pool.
struct simulated_venue {
  std::string provider;
  std::unique_ptr<http_client> http;
  std::unique_ptr<swaprouter::venue> venue;
};

/// The first scenario credential of `config` allowed to swap (else its first); nullptr when it
/// has none.
const sim::credential_config* swap_credential(const sim::provider_config& config);

/// The StableStack directions of a scenario provider, with each asset's precision from the
/// market: what its client is configured with (the API lists none).
std::vector<direction> stablestack_directions(const sim::provider_config& config,
                                              const sim::market& market);

/// One swap (KIIEX: order) as an emulator's ledger holds it.
struct emulator_swap {
  std::string ref;     ///< the id the adapter journals as provider_ref
  std::string client;  ///< the client id it carries; empty where the provider keeps none
  std::string spend;   ///< the spent amount as text; empty where the ledger does not show it
};

/// Every swap in the running emulator's ledger (its /_sim/ledger document); nullopt when the
/// document cannot be read.
std::optional<std::vector<emulator_swap>> ledger_swaps(const running_provider& provider);

/// How one run's journal compares with the emulators' ledgers.
struct ledger_check {
  std::size_t swaps = 0;  ///< at the emulators
  std::size_t legs = 0;   ///< journaled legs of the run with a provider reference
  /// Empty when every swap at an emulator is a journaled leg of the run, every journaled
  /// reference is at its emulator, and no client id is at an emulator twice (I1, I2).
  std::vector<std::string> disagreements;
};

/// Compares the legs of the live intents journaled since `since` with `f`'s ledgers. Run it on
/// the fleet's thread.
ledger_check check_ledgers(fleet& f, journal& records, wall_time since);

/// Connects an adapter to every running emulator with the first scenario credential allowed to
/// swap, trusting only the fleet's CA; each HTTP client watched by `watch` when set (fault tests;
/// it must outlive the venues).
std::vector<simulated_venue> connect_venues(boost::asio::any_io_executor executor, fleet& f,
                                            submit_watch* watch = nullptr,
                                            const adapter_tuning& tuning = {});

}  // namespace swaprouter::cli
