// What `quote`, `swap` and `run` share: durations on the command line, the fault-test crash hook,
// the mode (simulate, dry-run, live) and the venues of that mode.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/fleet.hpp"
#include "cli/providers.hpp"
#include "config/engine_config.hpp"
#include "engine/execution.hpp"
#include "engine/paper_venue.hpp"

namespace swaprouter::onek {
class client;
}

namespace swaprouter::cli {

/// "60s", "1500ms", "2m", "1h" or a bare number of seconds; nullopt when malformed, not
/// positive or beyond a year.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// For the fault tests only (FAULTS.md 3-5): SWAPROUTER_CRASH_AT=<hook point> kills the process
/// there as kill -9 would; empty when the variable is unset. Set it as execution_options::crash
/// with a submit_watch given to provider_session::start and to execution_options::submits.
crash_hook crash_hook_from_env();

/// The emulators of a scenario running in this process and a connected venue for each.
struct simulation {
  std::optional<loaded_scenario> scenario;
  std::optional<fleet> emulators;
  std::vector<simulated_venue> venues;
  std::vector<venue*> providers;  ///< the venues, for the executor and the quoter

  /// Loads `scenario_path` (the default scenario when empty) and starts its emulators on `ioc`
  /// on ephemeral loopback ports; the venues' HTTP clients are watched by `watch` when set.
  /// Throws fleet_error.
  void start(boost::asio::io_context& ioc, const std::string& scenario_path,
             submit_watch* watch = nullptr);
  /// Stops the emulators (idempotent).
  void stop();
};

/// An exclusive lock on a journal file for this process's lifetime (flock on "<path>.lock"):
/// restart reconciliation resumes every intent still open, so two engines on one journal would
/// execute each other's intents twice. Released when destroyed or when the process dies.
class journal_lock {
 public:
  /// Locks `path`; nothing for ":memory:". An error naming the file when another process holds
  /// it or the lock file cannot be opened.
  static result<journal_lock> acquire(const std::string& path);
  journal_lock(journal_lock&& other) noexcept;
  journal_lock& operator=(journal_lock&& other) noexcept;
  journal_lock(const journal_lock&) = delete;
  journal_lock& operator=(const journal_lock&) = delete;
  ~journal_lock();

 private:
  journal_lock() = default;
  int fd_ = -1;
};

/// How a command reaches the providers (DESIGN.md s.3 "Modes"): live (the configured providers),
/// dry-run (their real quotes, fills in a paper ledger) or simulate (the built-in emulators).
enum class run_mode { simulate, dry_run, live };
std::string_view to_string(run_mode mode);

/// --simulate wins; then --dry-run; then live when `config` has an enabled provider with
/// credentials; otherwise simulate (the default without credentials).
run_mode choose_mode(bool simulate, bool dry_run, const config::engine_config* config);

/// True when `mode` reads credentials from the configuration (live, and dry-run over
/// configured providers).
bool needs_credentials(run_mode mode, const config::engine_config* config);

/// A command's mode and the configuration it runs with.
struct command_setup {
  run_mode mode = run_mode::simulate;
  /// The configuration (credentials resolved when the mode needs them); none without --config.
  std::optional<config::engine_config> config;
  /// What provider_session::start takes: the configuration when the configured providers are
  /// used, nullptr for the emulators (--simulate, or no credentials).
  const config::engine_config* providers() const;
  /// The engine settings the command plans and fans out with: the configuration's, or their
  /// defaults without --config.
  const config::engine_settings& engine() const;
  bool simulate_flag = false;
};

/// What `engine` says of planning (max_hops, split, quote_max_age); the rest at its default. Run,
/// swap and quote plan alike from one configuration.
planner_options planning_of(const config::engine_settings& engine);

/// Loads `config_path` (may be empty) without reading credentials, chooses the mode, and loads
/// it again with credentials when the mode reads them. Prints every error to stderr as
/// "swaprouter COMMAND: FILE:LINE:COLUMN: KEY: message"; nullopt then (exit_usage).
std::optional<command_setup> setup_command(std::string_view command,
                                           const std::string& config_path, bool simulate,
                                           bool dry_run);

/// Starting balances of the paper ledgers from `--paper-balance [PROVIDER:]ASSET=AMOUNT`
/// options; a provider without any reads its real balances at the first fill.
struct paper_balances {
  std::map<std::string, std::vector<balance>> by_provider;  ///< "" applies to every provider
  /// The balances of `provider` (its own entries override the shared ones); none when unset.
  std::optional<std::vector<balance>> of(std::string_view provider) const;
};
/// Parses every option; an error message naming the bad one.
result<paper_balances> parse_paper_balances(const std::vector<std::string>& options);

/// The venues of one command in its mode. simulate: the scenario's emulators in this process;
/// live: the configured providers with credentials; dry-run: paper venues over the configured
/// providers, or over the emulators when none has credentials. Not thread-safe: one io_context.
class provider_session {
 public:
  /// Throws fleet_error (exit code inside) when the emulators or a provider cannot start. With
  /// `watch` (the fault tests' crash hook is set; it must outlive the session) every provider's
  /// HTTP client is watched, so the crash points of a create sit where its request is.
  void start(boost::asio::io_context& ioc, run_mode mode, const config::engine_config* config,
             const std::string& scenario_path, const paper_balances& paper = {},
             submit_watch* watch = nullptr);
  /// The venues for the executor and the quoter.
  std::vector<venue*>& venues() noexcept { return providers_; }
  run_mode mode() const noexcept { return mode_; }
  /// One line per provider: its name and where it is ("emulator", "https://host:443"), and
  /// "paper ledger" in dry-run mode. Never a credential.
  std::vector<std::string> describe() const;
  /// The 001k adapters, which can ask for callbacks, with the provider name their legs are
  /// journaled under; none in dry-run mode (paper fills have nothing to call back about).
  std::vector<std::pair<std::string, onek::client*>> onek_clients();
  /// The in-process emulators (simulate mode, or dry-run over them); null otherwise.
  fleet* emulators() noexcept { return sim_.emulators ? &*sim_.emulators : nullptr; }
  /// Stops the emulators (idempotent).
  void stop();

 private:
  run_mode mode_ = run_mode::simulate;
  simulation sim_;
  std::vector<configured_provider> live_;
  std::vector<std::unique_ptr<paper_venue>> paper_;
  std::vector<venue*> providers_;
  std::vector<std::string> where_;
};

}  // namespace swaprouter::cli
